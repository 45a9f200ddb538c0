//! # strata-modules
//!
//! The building blocks of networks on top of [`strata_autograd`]: a [`Module`] maps a batch to
//! a batch and owns its parameters; modules combine ([`Sequential`], or your own struct with
//! `#[derive(Params)]`); [losses](crate::loss), [optimizers](crate::optim), checkpoints and one
//! [training loop](Trainer) for every model (a model says how a batch becomes a loss:
//! [`TrainStep`]) complete the picture.
//!
//! ```
//! use strata_datasets::{DataLoader, TensorDataset};
//! use strata_modules::{Adam, Classification, Dense, Module, Relu, Sequential, TrainConfig, Trainer};
//! use strata_tensor::{Rng, Tensor};
//! let mut rng = Rng::new(7);
//! let mut mlp = Sequential::new()
//!     .push(Dense::new(2, 16, &mut rng))
//!     .push(Relu)
//!     .push(Dense::new(16, 2, &mut rng));
//! // XOR of the signs.
//! let x = Tensor::rand_uniform(&[256, 2], -1.0, 1.0, &mut rng);
//! let y = x.narrow(1, 0, 1).mul(&x.narrow(1, 1, 1)).gt(&Tensor::scalar(0.0)).squeeze(1);
//! let data = DataLoader::new(TensorDataset::new(x, y).unwrap(), 32).shuffle(0);
//! let mut trainer = Trainer::new(TrainConfig { epochs: 60, ..Default::default() });
//! let history = trainer
//!     .fit(&mut mlp.with_objective(Classification::default()), &mut Adam::new(0.02), &data, &data)
//!     .unwrap();
//! assert!(history.last().unwrap().val_accuracy().unwrap() > 0.9);
//! ```

extern crate self as strata_modules;

mod activation;
mod attention;
mod batch_norm;
mod checkpoint;
mod conv;
mod conv1d;
mod conv_transpose;
mod dense;
mod dropout;
mod embedding;
mod group_norm;
mod heads;
pub mod init;
pub mod interop;
mod layer_norm;
pub mod loss;
mod module;
pub mod optim;
mod params;
mod pool;
mod recurrent;
pub mod reference;
mod sequential;
mod train;
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
pub use batch_norm::{BatchNorm, BatchNorm1d, BatchNorm2d, BATCH_NORM_EPS, BATCH_NORM_MOMENTUM};
pub use checkpoint::{
    load_model, save_model, write_atomically, Checkpoint, CheckpointError, NamedTensor,
    FORMAT_VERSION,
};
pub use conv::{Conv2d, Conv2dConfig};
pub use conv1d::{Conv1d, Conv1dConfig};
pub use conv_transpose::ConvTranspose2d;
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use group_norm::GroupNorm;
pub use heads::{BinaryHead, MultiClassHead, MultiLabelHead};
pub use init::Init;
pub use layer_norm::{LayerNorm, LAYER_NORM_EPS};
pub use loss::{
    bce_loss, bce_with_logits, contrastive_loss, cosine_embedding_loss, cosine_similarity,
    cross_entropy, kl_div, l1_loss, mse_loss, nll_loss, triplet_margin_loss, BceLoss,
    BceWithLogitsLoss, CrossEntropyLoss, NllLoss, Reduction, TripletMarginLoss,
};
pub use module::Module;
pub use optim::{
    clip_grad_norm, Adam, AdamW, ConstantLr, CosineAnnealingLr, ExponentialLr, LinearWarmup,
    LrSchedule, Optimizer, OptimizerGroups, OptimizerState, OptimizerStateError, RmsProp, Sgd,
    StepLr,
};
pub use params::{join_name, Buffer, Params, RngCell, Visitor, VisitorMut};
pub use pool::{AvgPool2d, GlobalAvgPool2d, MaxPool2d};
pub use recurrent::{
    Gru, GruCell, Lstm, LstmCell, RecurrentConfig, RecurrentWeights, Rnn, RnnCell,
};
pub use sequential::Sequential;
pub use strata_autograd::Var;
pub use strata_modules_derive::Params;
#[cfg(feature = "progress")]
pub use train::ProgressBar;
pub use train::{
    accuracy, binary_accuracy, evaluate, mean_absolute_error, mean_squared_error, BatchSource,
    BinaryClassification, Callback, Classification, EarlyStopping, EpochMetrics, Event, IntoBatch,
    Mean, MetricValues, Metrics, Objective, Optimization, Regression, Step, StepHook, Supervised,
    TrainConfig, TrainError, TrainStep, Trainer, TrainingState,
};
pub use transformer::{
    FeedForwardActivation, PositionalEmbedding, SinusoidalPositionalEncoding, TransformerConfig,
    TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
};
pub use upsample::{Upsample, UpsampleMode};
