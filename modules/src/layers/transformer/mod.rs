//! Transformer blocks with PyTorch's parameter names and layouts: encoder and decoder layers
//! and stacks of them, token-by-token decoding with cached keys and values, and positional
//! encodings.

mod config;
mod decoder;
mod encoder;
mod positional;

pub use config::{FeedForwardActivation, TransformerConfig};
pub use decoder::{TransformerDecoder, TransformerDecoderLayer};
pub use encoder::{TransformerEncoder, TransformerEncoderLayer};
pub use positional::{PositionalEmbedding, SinusoidalPositionalEncoding};
