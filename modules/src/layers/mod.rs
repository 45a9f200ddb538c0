//! Layers: the modules a network is built from, one kind per file (dense, activations,
//! convolutions, pooling, dropout, embedding, upsampling, heads), the norms, recurrent,
//! attention and transformer layers in their own folders, and [`Sequential`] to chain them.

mod activation;
mod attention;
mod conv;
mod conv1d;
mod conv_transpose;
mod dense;
mod dropout;
mod embedding;
mod heads;
mod norm;
mod pool;
mod recurrent;
mod sequential;
mod transformer;
mod upsample;

pub use activation::{
    Flatten, Gelu, GeluTanh, Identity, LeakyRelu, LogSoftmax, Mish, Relu, Sigmoid, Silu, Softmax,
    Tanh, Unflatten,
};
pub use attention::{
    scaled_dot_product_attention, try_scaled_dot_product_attention, AttentionCache, AttentionMask,
    AttentionMasks, MultiHeadAttention, MultiHeadAttentionConfig, NeedWeights,
};
pub use conv::{Conv2d, Conv2dConfig};
pub use conv1d::{Conv1d, Conv1dConfig};
pub use conv_transpose::ConvTranspose2d;
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use heads::{MultiClassHead, MultiLabelHead};
pub use norm::{
    BatchNorm, BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, BATCH_NORM_EPS, BATCH_NORM_MOMENTUM,
    LAYER_NORM_EPS,
};
pub use pool::{AvgPool2d, GlobalAvgPool2d, MaxPool2d};
pub use recurrent::{
    Gru, GruCell, Lstm, LstmCell, RecurrentCell, RecurrentConfig, RecurrentKind, RecurrentLayers,
    RecurrentWeights, Rnn, RnnCell,
};
pub use sequential::Sequential;
pub use transformer::{
    FeedForwardActivation, PositionalEmbedding, SinusoidalPositionalEncoding, TransformerConfig,
    TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
};
pub use upsample::{Upsample, UpsampleMode};
