//! The options shared by transformer layers, and their position-wise feed-forward network.

use crate::layers::Dense;
use crate::layers::Dropout;
use crate::module::Module;
use strata_autograd::Var;
use strata_tensor::Result;

/// The activation between a transformer layer's two feed-forward projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedForwardActivation {
    /// `max(x, 0)` (PyTorch's default).
    Relu,
    /// Exact GELU.
    Gelu,
}

/// The options of a transformer layer, with PyTorch's defaults: feed-forward width 2048,
/// dropout 0.1, ReLU, layer-norm ε 1e-5, normalisation after each residual sum (post-norm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransformerConfig {
    /// Width of the token vectors (`d_model`).
    pub d_model: usize,
    /// Attention heads (must divide `d_model`).
    pub num_heads: usize,
    /// Width of the feed-forward hidden layer.
    pub dim_feedforward: usize,
    /// Dropout after attention, inside and after the feed-forward network.
    pub dropout: f32,
    /// The feed-forward activation.
    pub activation: FeedForwardActivation,
    /// The layer norms' ε.
    pub layer_norm_eps: f32,
    /// Normalise before each block (pre-norm, PyTorch's `norm_first=True`) instead of after
    /// each residual sum.
    pub norm_first: bool,
}

impl TransformerConfig {
    /// Width `d_model` in `num_heads` heads, PyTorch's defaults otherwise.
    pub fn new(d_model: usize, num_heads: usize) -> Self {
        Self {
            d_model,
            num_heads,
            dim_feedforward: 2048,
            dropout: 0.1,
            activation: FeedForwardActivation::Relu,
            layer_norm_eps: 1e-5,
            norm_first: false,
        }
    }

    /// With this feed-forward width.
    pub fn dim_feedforward(self, dim_feedforward: usize) -> Self {
        Self {
            dim_feedforward,
            ..self
        }
    }

    /// With this dropout probability.
    pub fn dropout(self, dropout: f32) -> Self {
        Self { dropout, ..self }
    }

    /// With this feed-forward activation.
    pub fn activation(self, activation: FeedForwardActivation) -> Self {
        Self { activation, ..self }
    }

    /// Pre-norm (`true`) or post-norm (`false`).
    pub fn norm_first(self, norm_first: bool) -> Self {
        Self { norm_first, ..self }
    }
}

/// `linear2(dropout(activation(linear1(x))))`: the position-wise feed-forward network of
/// every transformer layer (its parameters live on the layer, under PyTorch's names).
pub(super) fn feed_forward(
    x: &Var,
    linear1: &Dense,
    dropout: &Dropout,
    linear2: &Dense,
    activation: FeedForwardActivation,
) -> Result<Var> {
    let hidden = linear1.try_forward(x)?;
    let hidden = match activation {
        FeedForwardActivation::Relu => hidden.relu(),
        FeedForwardActivation::Gelu => hidden.gelu(),
    };
    linear2.try_forward(&dropout.try_forward(&hidden)?)
}
