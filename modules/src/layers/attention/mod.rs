//! Attention: every query weighs every key by a scaled scalar product and takes the
//! weighted mean of the values ([`scaled_dot_product_attention`]); [`MultiHeadAttention`]
//! does it in several learned subspaces at once. Masks ([`AttentionMasks`]) say which keys
//! each query may see: padding, causal order, or any mask of the caller's. An
//! [`AttentionCache`] keeps the keys and values of tokens already seen, for generation.

mod cache;
mod mask;
mod multi_head;
mod scaled_dot_product;

pub use cache::AttentionCache;
pub use mask::{AttentionMask, AttentionMasks};
pub use multi_head::{MultiHeadAttention, MultiHeadAttentionConfig, NeedWeights};
pub use scaled_dot_product::{scaled_dot_product_attention, try_scaled_dot_product_attention};
