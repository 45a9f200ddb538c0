//! `TransformerDecoderLayer` (masked self-attention, attention over the encoder's memory and a
//! feed-forward network, each with a residual connection and layer norm) and
//! `TransformerDecoder`, a stack of them.

use super::config::{feed_forward, FeedForwardActivation, TransformerConfig};
use crate::layers::attention::{AttentionMasks, MultiHeadAttention, NeedWeights};
use crate::layers::Dense;
use crate::layers::Dropout;
use crate::layers::LayerNorm;
use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, Result, Rng};

/// One residual block of a layer: its input to what is added to (or normalised with) it.
type Block<'a> = &'a dyn Fn(&Var) -> Result<Var>;

/// One decoder layer, as PyTorch's `nn.TransformerDecoderLayer(batch_first=True)`: on targets
/// `[N, T, d_model]` and the encoder's memory `[N, S, d_model]`, post-norm
/// `x ← norm1(x + self_attention(x))`, `x ← norm2(x + attention(x, memory))`,
/// `x ← norm3(x + ff(x))`, or the pre-norm order `x ← x + block(norm(x))`. Parameters carry
/// PyTorch's names (`self_attn.…`, `multihead_attn.…`, `linear1.…`, `norm3.…`).
///
/// As in the encoder layer, dropout is applied to the attention outputs, not to the
/// attention weights; in evaluation mode the layer agrees with PyTorch exactly.
///
/// ```
/// use strata_modules::{AttentionMasks, TransformerConfig, TransformerDecoderLayer, Var};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let layer = TransformerDecoderLayer::new(TransformerConfig::new(8, 2).dim_feedforward(16), &mut rng);
/// let targets = Var::constant(Tensor::zeros(&[2, 3, 8]));
/// let memory = Var::constant(Tensor::zeros(&[2, 5, 8]));
/// let y = layer.forward_with_memory(&targets, &memory, &AttentionMasks::causal(), &AttentionMasks::default());
/// assert_eq!(y.shape(), &[2, 3, 8]);
/// ```
#[derive(Params)]
pub struct TransformerDecoderLayer {
    /// Self-attention over the targets.
    pub self_attn: MultiHeadAttention,
    /// Attention from the targets to the memory.
    pub multihead_attn: MultiHeadAttention,
    /// `d_model → dim_feedforward`.
    pub linear1: Dense,
    dropout: Dropout,
    /// `dim_feedforward → d_model`.
    pub linear2: Dense,
    /// The norm around the self-attention block.
    pub norm1: LayerNorm,
    /// The norm around the memory-attention block.
    pub norm2: LayerNorm,
    /// The norm around the feed-forward block.
    pub norm3: LayerNorm,
    dropout1: Dropout,
    dropout2: Dropout,
    dropout3: Dropout,
    #[module(skip)]
    activation: FeedForwardActivation,
    #[module(skip)]
    norm_first: bool,
}

impl TransformerDecoderLayer {
    /// A layer as configured, initialised as PyTorch does; dropout masks are drawn from
    /// streams seeded from `rng`.
    ///
    /// Panics (at the caller's line) if `num_heads` does not divide `d_model` or the dropout
    /// probability is outside `[0, 1)`.
    #[track_caller]
    pub fn new(config: TransformerConfig, rng: &mut Rng) -> Self {
        let (d, hidden) = (config.d_model, config.dim_feedforward);
        let self_attn = MultiHeadAttention::new(d, config.num_heads, rng);
        let multihead_attn = MultiHeadAttention::new(d, config.num_heads, rng);
        let linear1 = Dense::new(d, hidden, rng);
        let linear2 = Dense::new(hidden, d, rng);
        let norm = || LayerNorm::new(&[d]).with_eps(config.layer_norm_eps);
        let mut dropout = || Dropout::new(config.dropout, rng.next_u64());
        Self {
            dropout: dropout(),
            dropout1: dropout(),
            dropout2: dropout(),
            dropout3: dropout(),
            self_attn,
            multihead_attn,
            linear1,
            linear2,
            norm1: norm(),
            norm2: norm(),
            norm3: norm(),
            activation: config.activation,
            norm_first: config.norm_first,
        }
    }

    /// The layer on `targets` `[N, T, d_model]` attending `memory` `[N, S, d_model]`, the
    /// self-attention under `target_masks` (causal for generation, target padding) and the
    /// memory attention under `memory_masks` (memory padding). Panics at the caller's line on
    /// a shape mismatch.
    #[track_caller]
    pub fn forward_with_memory(
        &self,
        targets: &Var,
        memory: &Var,
        target_masks: &AttentionMasks,
        memory_masks: &AttentionMasks,
    ) -> Var {
        expect_ok(self.try_forward_with_memory(targets, memory, target_masks, memory_masks))
    }

    /// Fallible [`TransformerDecoderLayer::forward_with_memory`].
    #[track_caller]
    pub fn try_forward_with_memory(
        &self,
        targets: &Var,
        memory: &Var,
        target_masks: &AttentionMasks,
        memory_masks: &AttentionMasks,
    ) -> Result<Var> {
        let attend_self = |x: &Var| -> Result<Var> {
            let (out, _) =
                self.self_attn
                    .try_forward_qkv(x, x, x, target_masks, NeedWeights::No)?;
            self.dropout1.try_forward(&out)
        };
        let attend_memory = |x: &Var| -> Result<Var> {
            let (out, _) = self.multihead_attn.try_forward_qkv(
                x,
                memory,
                memory,
                memory_masks,
                NeedWeights::No,
            )?;
            self.dropout2.try_forward(&out)
        };
        let feed_forward_block = |x: &Var| -> Result<Var> {
            let out = feed_forward(
                x,
                &self.linear1,
                &self.dropout,
                &self.linear2,
                self.activation,
            )?;
            self.dropout3.try_forward(&out)
        };
        let blocks: [(&LayerNorm, Block<'_>); 3] = [
            (&self.norm1, &attend_self),
            (&self.norm2, &attend_memory),
            (&self.norm3, &feed_forward_block),
        ];
        let mut x = targets.clone();
        for (norm, block) in blocks {
            x = if self.norm_first {
                x.try_add(&block(&norm.try_forward(&x)?)?)?
            } else {
                norm.try_forward(&x.try_add(&block(&x)?)?)?
            };
        }
        Ok(x)
    }
}

/// A stack of decoder layers with an optional final layer norm, as PyTorch's
/// `nn.TransformerDecoder` (names `layers.0.…`, `norm.…`).
#[derive(Params)]
pub struct TransformerDecoder {
    /// The layers, applied in order, each attending the same memory.
    pub layers: Vec<TransformerDecoderLayer>,
    /// The norm after the last layer, if any.
    pub norm: Option<LayerNorm>,
}

impl TransformerDecoder {
    /// `num_layers` layers as configured, each initialised on its own; no final norm.
    #[track_caller]
    pub fn new(config: TransformerConfig, num_layers: usize, rng: &mut Rng) -> Self {
        Self {
            layers: (0..num_layers)
                .map(|_| TransformerDecoderLayer::new(config, rng))
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

    /// The stack on `targets` attending `memory` (see
    /// [`TransformerDecoderLayer::forward_with_memory`]).
    #[track_caller]
    pub fn forward_with_memory(
        &self,
        targets: &Var,
        memory: &Var,
        target_masks: &AttentionMasks,
        memory_masks: &AttentionMasks,
    ) -> Var {
        expect_ok(self.try_forward_with_memory(targets, memory, target_masks, memory_masks))
    }

    /// Fallible [`TransformerDecoder::forward_with_memory`].
    #[track_caller]
    pub fn try_forward_with_memory(
        &self,
        targets: &Var,
        memory: &Var,
        target_masks: &AttentionMasks,
        memory_masks: &AttentionMasks,
    ) -> Result<Var> {
        let mut x = targets.clone();
        for layer in &self.layers {
            x = layer.try_forward_with_memory(&x, memory, target_masks, memory_masks)?;
        }
        match &self.norm {
            Some(norm) => norm.try_forward(&x),
            None => Ok(x),
        }
    }
}
