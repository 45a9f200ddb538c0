//! # strata-modules
//!
//! The building blocks of networks on top of [`strata_autograd`]: a [`Module`] maps a batch to
//! a batch and owns its parameters; modules combine ([`Sequential`], or your own struct with
//! `#[derive(Params)]`); [losses](crate::loss), [optimizers](crate::optim), checkpoints and one
//! [training loop](Trainer) for every model (a model says how a batch becomes a loss:
//! [`TrainStep`]) complete the picture.
//!
//! The folders are the parts: [`layers`], [`loss`], [`optim`], [`train`] and [`io`]
//! (checkpoints and PyTorch interop), each a public module; the names used most are also
//! re-exported here at the root.
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

pub mod init;
pub mod io;
pub mod layers;
pub mod loss;
mod module;
pub mod optim;
mod params;
pub mod train;

pub use init::Init;
pub use io::{
    load_model, save_model, write_atomically, Checkpoint, CheckpointError, NamedTensor,
    FORMAT_VERSION,
};
pub use layers::{
    scaled_dot_product_attention, try_scaled_dot_product_attention, AttentionCache, AttentionMask,
    AttentionMasks, AvgPool2d, BatchNorm, BatchNorm1d, BatchNorm2d, Conv1d, Conv1dConfig, Conv2d,
    Conv2dConfig, ConvTranspose2d, Dense, Dropout, Embedding, FeedForwardActivation, Flatten, Gelu,
    GeluTanh, GlobalAvgPool2d, GroupNorm, Gru, GruCell, Identity, LayerNorm, LeakyRelu, LogSoftmax,
    Lstm, LstmCell, MaxPool2d, Mish, MultiClassHead, MultiHeadAttention, MultiHeadAttentionConfig,
    MultiLabelHead, NeedWeights, PositionalEmbedding, RecurrentCell, RecurrentConfig,
    RecurrentKind, RecurrentLayers, RecurrentWeights, Relu, Rnn, RnnCell, Sequential, Sigmoid,
    Silu, SinusoidalPositionalEncoding, Softmax, Tanh, TransformerConfig, TransformerDecoder,
    TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer, Unflatten, Upsample,
    UpsampleMode, BATCH_NORM_EPS, BATCH_NORM_MOMENTUM, LAYER_NORM_EPS,
};
pub use loss::{
    bce_loss, bce_with_logits, contrastive_loss, cosine_embedding_loss, cosine_similarity,
    cross_entropy, kl_div, l1_loss, mse_loss, nll_loss, triplet_margin_loss, BceLoss,
    BceWithLogitsLoss, ContrastiveLoss, CosineEmbeddingLoss, CrossEntropyLoss, KlDivLoss, L1Loss,
    LossTarget, MseLoss, NllLoss, Reduction, TripletMarginLoss,
};
pub use module::Module;
pub use optim::{
    clip_grad_norm, Adam, AdamW, ConstantLr, CosineAnnealingLr, ExponentialLr, LinearWarmup,
    LrSchedule, Optimizer, OptimizerGroups, OptimizerState, OptimizerStateError, RmsProp, Sgd,
    StepLr,
};
pub use params::{join_name, Buffer, Params, RngCell, Visitor, VisitorMut};
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
