//! Normalisation layers: per channel over the batch ([`BatchNorm`]), per example over the
//! last axes ([`LayerNorm`]) or over groups of channels ([`GroupNorm`]).

mod batch_norm;
mod group_norm;
mod layer_norm;

pub use batch_norm::{BatchNorm, BatchNorm1d, BatchNorm2d, BATCH_NORM_EPS, BATCH_NORM_MOMENTUM};
pub use group_norm::GroupNorm;
pub use layer_norm::{LayerNorm, LAYER_NORM_EPS};
