//! Transformer blocks with PyTorch's parameter names and layouts: the encoder layer and a
//! stack of them.

mod encoder;

pub use encoder::{
    FeedForwardActivation, TransformerConfig, TransformerEncoder, TransformerEncoderLayer,
};
