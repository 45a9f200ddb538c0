//! Transformer blocks with PyTorch's parameter names and layouts: encoder and decoder layers
//! and stacks of them.

mod config;
mod decoder;
mod encoder;

pub use config::{FeedForwardActivation, TransformerConfig};
pub use decoder::{TransformerDecoder, TransformerDecoderLayer};
pub use encoder::{TransformerEncoder, TransformerEncoderLayer};
