//! `TransformerEncoderLayer` (self-attention and a position-wise feed-forward network, each
//! with a residual connection and layer norm) and `TransformerEncoder`, a stack of them.

use super::config::{feed_forward, FeedForwardActivation, TransformerConfig};
use crate::layers::attention::{AttentionCache, AttentionMasks, MultiHeadAttention, NeedWeights};
use crate::layers::Dense;
use crate::layers::Dropout;
use crate::layers::LayerNorm;
use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Rng, TensorError};

/// One encoder layer, as PyTorch's `nn.TransformerEncoderLayer(batch_first=True)`: on
/// `[N, T, d_model]`, post-norm `x ← norm1(x + attention(x))`, `x ← norm2(x + ff(x))`, or
/// pre-norm `x ← x + attention(norm1(x))`, `x ← x + ff(norm2(x))`, with
/// `ff(x) = linear2(dropout(activation(linear1(x))))`. Parameters carry PyTorch's names
/// (`self_attn.in_proj_weight`, `linear1.weight`, `norm2.bias`, …), so its state dicts load.
///
/// Unlike PyTorch, dropout is not applied to the attention weights themselves (only to the
/// attention output); in evaluation mode the two agree exactly.
///
/// ```
/// use strata_modules::{AttentionMasks, Module, TransformerConfig, TransformerEncoderLayer, Var};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let config = TransformerConfig::new(16, 4).dim_feedforward(32);
/// let layer = TransformerEncoderLayer::new(config, &mut rng);
/// let x = Var::constant(Tensor::rand_normal(&[2, 5, 16], 0.0, 1.0, &mut rng));
/// assert_eq!(layer.forward(&x).shape(), &[2, 5, 16]);
/// let causal = layer.forward_masked(&x, &AttentionMasks::causal());
/// assert_eq!(causal.shape(), &[2, 5, 16]);
/// ```
#[derive(Params)]
pub struct TransformerEncoderLayer {
    /// Self-attention.
    pub self_attn: MultiHeadAttention,
    /// `d_model → dim_feedforward`.
    pub linear1: Dense,
    dropout: Dropout,
    /// `dim_feedforward → d_model`.
    pub linear2: Dense,
    /// The norm around the attention block.
    pub norm1: LayerNorm,
    /// The norm around the feed-forward block.
    pub norm2: LayerNorm,
    dropout1: Dropout,
    dropout2: Dropout,
    #[module(skip)]
    activation: FeedForwardActivation,
    #[module(skip)]
    norm_first: bool,
}

impl TransformerEncoderLayer {
    /// A layer as configured, initialised as PyTorch does; dropout masks are drawn from
    /// streams seeded from `rng`.
    ///
    /// Panics (at the caller's line) if `num_heads` does not divide `d_model` or the dropout
    /// probability is outside `[0, 1)`.
    #[track_caller]
    pub fn new(config: TransformerConfig, rng: &mut Rng) -> Self {
        let (d, hidden) = (config.d_model, config.dim_feedforward);
        let self_attn = MultiHeadAttention::new(d, config.num_heads, rng);
        let linear1 = Dense::new(d, hidden, rng);
        let linear2 = Dense::new(hidden, d, rng);
        let norm = || LayerNorm::new(&[d]).with_eps(config.layer_norm_eps);
        let mut dropout = || Dropout::new(config.dropout, rng.next_u64());
        Self {
            dropout: dropout(),
            dropout1: dropout(),
            dropout2: dropout(),
            self_attn,
            linear1,
            linear2,
            norm1: norm(),
            norm2: norm(),
            activation: config.activation,
            norm_first: config.norm_first,
        }
    }

    /// The layer on `x` `[N, T, d_model]` with attention restricted by `masks` (causal,
    /// key padding `[N, T]`, or a mask of the caller's). Panics at the caller's line on a
    /// shape mismatch.
    #[track_caller]
    pub fn forward_masked(&self, x: &Var, masks: &AttentionMasks) -> Var {
        expect_ok(self.try_forward_masked(x, masks))
    }

    /// Fallible [`TransformerEncoderLayer::forward_masked`].
    #[track_caller]
    pub fn try_forward_masked(&self, x: &Var, masks: &AttentionMasks) -> Result<Var> {
        self.residual_blocks(x, |h| {
            let (attended, _) = self
                .self_attn
                .try_forward_qkv(h, h, h, masks, NeedWeights::No)?;
            Ok(attended)
        })
    }

    /// The layer on the next tokens `x` `[N, t, d_model]` of sequences whose earlier tokens
    /// `cache` holds, attending causally (see [`MultiHeadAttention::forward_incremental`]):
    /// feeding a sequence in pieces gives the outputs of
    /// `forward_masked(…, &AttentionMasks::causal())` on the whole of it.
    #[track_caller]
    pub fn forward_incremental(&self, x: &Var, cache: &mut AttentionCache) -> Var {
        expect_ok(self.try_forward_incremental(x, cache))
    }

    /// Fallible [`TransformerEncoderLayer::forward_incremental`].
    #[track_caller]
    pub fn try_forward_incremental(&self, x: &Var, cache: &mut AttentionCache) -> Result<Var> {
        self.residual_blocks(x, |h| self.self_attn.try_forward_incremental(h, cache))
    }

    /// The two residual blocks around `attend` (self-attention, however masked or cached)
    /// and the feed-forward network, normalised before or after.
    fn residual_blocks(&self, x: &Var, attend: impl FnOnce(&Var) -> Result<Var>) -> Result<Var> {
        let attention_block = |h: &Var| self.dropout1.try_forward(&attend(h)?);
        if self.norm_first {
            let x = x.try_add(&attention_block(&self.norm1.try_forward(x)?)?)?;
            x.try_add(&self.feed_forward_block(&self.norm2.try_forward(&x)?)?)
        } else {
            let x = self.norm1.try_forward(&x.try_add(&attention_block(x)?)?)?;
            self.norm2
                .try_forward(&x.try_add(&self.feed_forward_block(&x)?)?)
        }
    }

    fn feed_forward_block(&self, x: &Var) -> Result<Var> {
        let out = feed_forward(
            x,
            &self.linear1,
            &self.dropout,
            &self.linear2,
            self.activation,
        )?;
        self.dropout2.try_forward(&out)
    }
}

impl Module for TransformerEncoderLayer {
    /// The layer on `x` `[N, T, d_model]` with every position attending every other.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        self.try_forward_masked(x, &AttentionMasks::default())
    }
}

/// A stack of encoder layers with an optional final layer norm, as PyTorch's
/// `nn.TransformerEncoder` (names `layers.0.…`, `norm.…`). Pre-norm stacks usually end with
/// the final norm.
///
/// ```
/// use strata_modules::{Module, TransformerConfig, TransformerEncoder, Var};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let config = TransformerConfig::new(8, 2).dim_feedforward(16).norm_first(true);
/// let encoder = TransformerEncoder::new(config, 3, &mut rng).with_final_norm();
/// let x = Var::constant(Tensor::zeros(&[1, 4, 8]));
/// assert_eq!(encoder.forward(&x).shape(), &[1, 4, 8]);
/// ```
#[derive(Params)]
pub struct TransformerEncoder {
    /// The layers, applied in order.
    pub layers: Vec<TransformerEncoderLayer>,
    /// The norm after the last layer, if any.
    pub norm: Option<LayerNorm>,
}

impl TransformerEncoder {
    /// `num_layers` layers as configured, each initialised on its own; no final norm.
    #[track_caller]
    pub fn new(config: TransformerConfig, num_layers: usize, rng: &mut Rng) -> Self {
        Self {
            layers: (0..num_layers)
                .map(|_| TransformerEncoderLayer::new(config, rng))
                .collect(),
            norm: None,
        }
    }

    /// The same stack ending with a layer norm over `d_model` (PyTorch's `norm=`; none for
    /// an empty stack).
    pub fn with_final_norm(mut self) -> Self {
        self.norm = self.layers.first().map(|l| l.norm1.fresh());
        self
    }

    /// The stack on `x` `[N, T, d_model]` with every layer's attention under `masks`.
    #[track_caller]
    pub fn forward_masked(&self, x: &Var, masks: &AttentionMasks) -> Var {
        expect_ok(self.try_forward_masked(x, masks))
    }

    /// Fallible [`TransformerEncoder::forward_masked`].
    #[track_caller]
    pub fn try_forward_masked(&self, x: &Var, masks: &AttentionMasks) -> Result<Var> {
        let mut x = x.clone();
        for layer in &self.layers {
            x = layer.try_forward_masked(&x, masks)?;
        }
        self.final_norm(x)
    }

    /// The stack on the next tokens `x` `[N, t, d_model]` of sequences whose earlier tokens
    /// `caches` hold (one [`AttentionCache`] per layer, created empty when `caches` is
    /// empty): a decoder-only model generating token by token. Feeding a sequence in pieces
    /// gives the outputs of `forward_masked(…, &AttentionMasks::causal())` on the whole.
    ///
    /// ```
    /// use strata_modules::{AttentionMasks, TransformerConfig, TransformerEncoder, Var};
    /// use strata_tensor::{Rng, Tensor};
    /// let mut rng = Rng::new(0);
    /// let config = TransformerConfig::new(8, 2).dim_feedforward(16).dropout(0.0);
    /// let gpt = TransformerEncoder::new(config, 2, &mut rng);
    /// let x = Var::constant(Tensor::rand_normal(&[1, 4, 8], 0.0, 1.0, &mut rng));
    /// let whole = gpt.forward_masked(&x, &AttentionMasks::causal()).value().to_vec();
    /// let mut caches = Vec::new();
    /// for t in 0..4 {
    ///     let step = gpt.forward_incremental(&x.narrow(1, t, 1), &mut caches).value().to_vec();
    ///     assert!(step.iter().zip(&whole[t * 8..]).all(|(a, b)| (a - b).abs() < 1e-5));
    /// }
    /// ```
    #[track_caller]
    pub fn forward_incremental(&self, x: &Var, caches: &mut Vec<AttentionCache>) -> Var {
        expect_ok(self.try_forward_incremental(x, caches))
    }

    /// Fallible [`TransformerEncoder::forward_incremental`].
    #[track_caller]
    pub fn try_forward_incremental(
        &self,
        x: &Var,
        caches: &mut Vec<AttentionCache>,
    ) -> Result<Var> {
        if caches.is_empty() {
            caches.resize_with(self.layers.len(), AttentionCache::default);
        }
        if caches.len() != self.layers.len() {
            return Err(TensorError::new(
                "TransformerEncoder",
                ErrorKind::InvalidArgument,
                format!(
                    "expected one attention cache per layer ({}), found {}",
                    self.layers.len(),
                    caches.len()
                ),
            ));
        }
        let mut x = x.clone();
        for (layer, cache) in self.layers.iter().zip(caches.iter_mut()) {
            x = layer.try_forward_incremental(&x, cache)?;
        }
        self.final_norm(x)
    }

    fn final_norm(&self, x: Var) -> Result<Var> {
        match &self.norm {
            Some(norm) => norm.try_forward(&x),
            None => Ok(x),
        }
    }
}

impl Module for TransformerEncoder {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        self.try_forward_masked(x, &AttentionMasks::default())
    }
}
