//! Multi-head attention: the queries, keys and values are projected into `heads` subspaces,
//! each attends on its own, and the heads' outputs are joined and projected back.

use super::cache::AttentionCache;
use super::mask::{AttentionMask, AttentionMasks};
use super::scaled_dot_product::try_scaled_dot_product_attention;
use crate::init::Init;
use crate::layers::Dense;
use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Rng, Tensor, TensorError};

/// How a [`MultiHeadAttention`] is built (PyTorch's `nn.MultiheadAttention` arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultiHeadAttentionConfig {
    /// Width `E` of queries and outputs; split evenly among the heads.
    pub embed_dim: usize,
    /// Number of heads; must divide `embed_dim`.
    pub num_heads: usize,
    /// Width of the keys (`embed_dim` when `None`).
    pub kdim: Option<usize>,
    /// Width of the values (`embed_dim` when `None`).
    pub vdim: Option<usize>,
    /// Whether the input and output projections have biases.
    pub bias: bool,
}

impl MultiHeadAttentionConfig {
    /// Keys and values of width `embed_dim`, with biases (PyTorch's defaults).
    pub fn new(embed_dim: usize, num_heads: usize) -> Self {
        Self {
            embed_dim,
            num_heads,
            kdim: None,
            vdim: None,
            bias: true,
        }
    }
}

/// Which attention weights [`MultiHeadAttention::forward_qkv`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeedWeights {
    /// None.
    No,
    /// Averaged over the heads, `[N, L, S]` (PyTorch's default).
    Averaged,
    /// One set per head, `[N, heads, L, S]`.
    PerHead,
}

/// Multi-head attention on batch-first inputs (PyTorch's `nn.MultiheadAttention` with
/// `batch_first=True`): queries `[N, L, E]`, keys `[N, S, kdim]`, values `[N, S, vdim]`.
///
/// Parameters as PyTorch names them: when keys and values have width `E`, one packed
/// `in_proj_weight` `[3E, E]` (rows for q, k, v); otherwise `q_proj_weight` `[E, E]`,
/// `k_proj_weight` `[E, kdim]`, `v_proj_weight` `[E, vdim]`; then `in_proj_bias` `[3E]`,
/// `out_proj.weight` `[E, E]`, `out_proj.bias` `[E]`. Initialisation as PyTorch: Xavier-uniform
/// input projections, `U(±1/√E)` output weight, zero biases.
///
/// ```
/// use strata_modules::{AttentionMasks, Module, MultiHeadAttention, NeedWeights, Var};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let attention = MultiHeadAttention::new(8, 2, &mut rng);
/// let x = Var::constant(Tensor::rand_normal(&[3, 5, 8], 0.0, 1.0, &mut rng));
/// let (y, weights) =
///     attention.forward_qkv(&x, &x, &x, &AttentionMasks::causal(), NeedWeights::Averaged);
/// assert_eq!(y.shape(), &[3, 5, 8]);
/// assert_eq!(weights.unwrap().shape(), &[3, 5, 5]);
/// assert_eq!(attention.forward(&x).shape(), &[3, 5, 8]); // self-attention, no mask
/// ```
#[derive(Params)]
pub struct MultiHeadAttention {
    /// `[3E, E]`: the q, k, v projections packed, when keys and values have width `E`.
    pub in_proj_weight: Option<Var>,
    /// `[E, E]`: the query projection, when not packed.
    pub q_proj_weight: Option<Var>,
    /// `[E, kdim]`: the key projection, when not packed.
    pub k_proj_weight: Option<Var>,
    /// `[E, vdim]`: the value projection, when not packed.
    pub v_proj_weight: Option<Var>,
    /// `[3E]`: the q, k, v projection biases, if any.
    pub in_proj_bias: Option<Var>,
    /// The output projection `[E, E]`.
    pub out_proj: Dense,
    #[module(skip)]
    num_heads: usize,
}

impl MultiHeadAttention {
    /// `num_heads` heads over width `embed_dim`, with biases.
    ///
    /// # Panics
    /// When `num_heads` is zero or does not divide `embed_dim`.
    #[track_caller]
    pub fn new(embed_dim: usize, num_heads: usize, rng: &mut Rng) -> Self {
        Self::with_config(MultiHeadAttentionConfig::new(embed_dim, num_heads), rng)
    }

    /// A layer as configured, initialised as PyTorch does.
    ///
    /// # Panics
    /// When `num_heads` is zero or does not divide `embed_dim`.
    #[track_caller]
    pub fn with_config(config: MultiHeadAttentionConfig, rng: &mut Rng) -> Self {
        let MultiHeadAttentionConfig {
            embed_dim: e,
            num_heads,
            kdim,
            vdim,
            bias,
        } = config;
        assert!(
            num_heads > 0 && e % num_heads == 0,
            "MultiHeadAttention: embed_dim {e} must be a multiple of num_heads {num_heads}"
        );
        let (kdim, vdim) = (kdim.unwrap_or(e), vdim.unwrap_or(e));
        let xavier = |shape: &[usize], rng: &mut Rng| {
            Var::leaf(Init::XavierUniform { gain: 1.0 }.tensor(shape, rng))
        };
        let packed = kdim == e && vdim == e;
        let out_proj = Dense::with_init(e, e, bias, Init::PytorchDefault, Init::Constant(0.0), rng);
        let (in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight) = if packed {
            (Some(xavier(&[3 * e, e], rng)), None, None, None)
        } else {
            (
                None,
                Some(xavier(&[e, e], rng)),
                Some(xavier(&[e, kdim], rng)),
                Some(xavier(&[e, vdim], rng)),
            )
        };
        Self {
            in_proj_weight,
            q_proj_weight,
            k_proj_weight,
            v_proj_weight,
            in_proj_bias: bias.then(|| Var::leaf(Tensor::zeros(&[3 * e]))),
            out_proj,
            num_heads,
        }
    }

    /// Width `E` of queries and outputs.
    pub fn embed_dim(&self) -> usize {
        self.out_proj.out_features()
    }

    /// Number of heads.
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// Attention of `query` `[N, L, E]` over `key` `[N, S, kdim]` and `value` `[N, S, vdim]`
    /// under `masks` (an `attn_mask` may also be `[N·heads, L, S]`, as in PyTorch). Returns the
    /// output `[N, L, E]` and the attention weights asked for. Panics on a shape mismatch.
    #[track_caller]
    pub fn forward_qkv(
        &self,
        query: &Var,
        key: &Var,
        value: &Var,
        masks: &AttentionMasks,
        need_weights: NeedWeights,
    ) -> (Var, Option<Var>) {
        match self.try_forward_qkv(query, key, value, masks, need_weights) {
            Ok(result) => result,
            Err(err) => panic!("{err}"),
        }
    }

    /// Fallible [`MultiHeadAttention::forward_qkv`].
    #[track_caller]
    pub fn try_forward_qkv(
        &self,
        query: &Var,
        key: &Var,
        value: &Var,
        masks: &AttentionMasks,
        need_weights: NeedWeights,
    ) -> Result<(Var, Option<Var>)> {
        let (e, heads) = (self.embed_dim(), self.num_heads);
        let [w_q, w_k, w_v] = self.projection_weights()?;
        let fits = query.ndim() == 3
            && key.ndim() == 3
            && value.ndim() == 3
            && query.shape()[2] == e
            && key.shape()[2] == w_k.shape()[1]
            && value.shape()[2] == w_v.shape()[1]
            && key.shape()[..2] == value.shape()[..2]
            && query.shape()[0] == key.shape()[0];
        if !fits {
            return Err(TensorError::new(
                "MultiHeadAttention",
                ErrorKind::ShapeMismatch,
                format!(
                    "query [N, L, {e}], key [N, S, {}] and value [N, S, {}] expected, found \
                     {:?}, {:?}, {:?}",
                    w_k.shape()[1],
                    w_v.shape()[1],
                    query.shape(),
                    key.shape(),
                    value.shape()
                ),
            ));
        }
        let n = query.shape()[0];
        let q = self.project_heads(query, &w_q, 0);
        let k = self.project_heads(key, &w_k, 1);
        let v = self.project_heads(value, &w_v, 2);
        let masks = per_head_masks(masks, n, heads);
        let (attended, weights) = try_scaled_dot_product_attention(&q, &k, &v, &masks)?;
        let weights = match need_weights {
            NeedWeights::No => None,
            NeedWeights::Averaged => Some(weights.mean_axes(&[1], false)),
            NeedWeights::PerHead => Some(weights),
        };
        Ok((self.merge_heads(&attended), weights))
    }

    /// Causal self-attention of the next tokens `x` `[N, t, E]` of sequences whose earlier
    /// tokens' keys and values `cache` holds: each new token attends the cached tokens, the
    /// new tokens before it and itself. The new keys and values are appended to `cache`, so a
    /// sequence fed in pieces (one token at a time when generating) gives the outputs of one
    /// causal pass over the whole of it, without recomputing the prefix. The cache keeps
    /// values only: no gradient flows into earlier steps.
    ///
    /// ```
    /// use strata_modules::{AttentionCache, AttentionMasks, MultiHeadAttention, NeedWeights, Var};
    /// use strata_tensor::{Rng, Tensor};
    /// let mut rng = Rng::new(0);
    /// let attention = MultiHeadAttention::new(8, 2, &mut rng);
    /// let x = Var::constant(Tensor::rand_normal(&[1, 3, 8], 0.0, 1.0, &mut rng));
    /// let causal = AttentionMasks::causal();
    /// let (whole, _) = attention.forward_qkv(&x, &x, &x, &causal, NeedWeights::No);
    /// let mut cache = AttentionCache::default();
    /// let first = attention.forward_incremental(&x.narrow(1, 0, 2), &mut cache);
    /// let last = attention.forward_incremental(&x.narrow(1, 2, 1), &mut cache);
    /// let pieces = Var::concat(&[&first, &last], 1).value().to_vec();
    /// let whole = whole.value().to_vec();
    /// assert!(pieces.iter().zip(&whole).all(|(a, b)| (a - b).abs() < 1e-5));
    /// assert_eq!(cache.len(), 3);
    /// ```
    #[track_caller]
    pub fn forward_incremental(&self, x: &Var, cache: &mut AttentionCache) -> Var {
        expect_ok(self.try_forward_incremental(x, cache))
    }

    /// Fallible [`MultiHeadAttention::forward_incremental`].
    #[track_caller]
    pub fn try_forward_incremental(&self, x: &Var, cache: &mut AttentionCache) -> Result<Var> {
        let e = self.embed_dim();
        let [w_q, w_k, w_v] = self.projection_weights()?;
        let fits = x.ndim() == 3
            && x.shape()[2] == e
            && w_k.shape()[1] == e
            && w_v.shape()[1] == e
            && cache.fits(x.shape()[0], self.num_heads, e / self.num_heads);
        if !fits {
            return Err(TensorError::new(
                "MultiHeadAttention",
                ErrorKind::ShapeMismatch,
                format!(
                    "incremental self-attention takes x [N, t, {e}] with keys and values of \
                     width {e} and a cache of the same N, found x {:?} and a cache of {:?}",
                    x.shape(),
                    cache.shape()
                ),
            ));
        }
        let (t, before) = (x.shape()[1], cache.len());
        let q = self.project_heads(x, &w_q, 0);
        let k = cache.extend_keys(&self.project_heads(x, &w_k, 1));
        let v = cache.extend_values(&self.project_heads(x, &w_v, 2));
        // New token i (absolute position before + i) may not attend key j > before + i.
        let blocked: Vec<f32> = (0..t)
            .flat_map(|i| (0..before + t).map(move |j| f32::from(u8::from(j > before + i))))
            .collect();
        let mask = AttentionMask::Blocked(Tensor::from_vec(blocked, &[t, before + t]));
        let masks = AttentionMasks::default().with_attn_mask(mask);
        let (attended, _) = try_scaled_dot_product_attention(&q, &k, &v, &masks)?;
        Ok(self.merge_heads(&attended))
    }

    /// `x` `[N, len, ·]` projected by `weight` and the `index`-th bias (0 = q, 1 = k, 2 = v),
    /// split into heads: `[N, heads, len, E/heads]`.
    fn project_heads(&self, x: &Var, weight: &Var, index: usize) -> Var {
        let (e, heads) = (self.embed_dim(), self.num_heads);
        let bias = self
            .in_proj_bias
            .as_ref()
            .map(|b| b.narrow(0, index * e, e));
        let [n, len] = [x.shape()[0], x.shape()[1]].map(|d| d as isize);
        x.linear(weight, bias.as_ref())
            .reshape(&[n, len, heads as isize, (e / heads) as isize])
            .permute(&[0, 2, 1, 3])
    }

    /// The heads' outputs `[N, heads, len, E/heads]` joined and projected: `[N, len, E]`.
    fn merge_heads(&self, attended: &Var) -> Var {
        let [n, _, len, _] = [0, 1, 2, 3].map(|i| attended.shape()[i] as isize);
        let joined = attended
            .permute(&[0, 2, 1, 3])
            .reshape(&[n, len, self.embed_dim() as isize]);
        self.out_proj.forward(&joined)
    }

    /// The q, k, v projection weights, sliced from the packed matrix when packed.
    fn projection_weights(&self) -> Result<[Var; 3]> {
        let separate = (
            &self.q_proj_weight,
            &self.k_proj_weight,
            &self.v_proj_weight,
        );
        match (&self.in_proj_weight, separate) {
            (Some(packed), _)
                if packed.ndim() == 2 && packed.shape()[0] == 3 * packed.shape()[1] =>
            {
                let e = packed.shape()[1];
                Ok([0, 1, 2].map(|i| packed.narrow(0, i * e, e)))
            }
            (None, (Some(q), Some(k), Some(v))) => Ok([q.clone(), k.clone(), v.clone()]),
            _ => Err(TensorError::new(
                "MultiHeadAttention",
                ErrorKind::InvalidArgument,
                format!(
                    "needs in_proj_weight [3E, E] or all of q_proj_weight, k_proj_weight and \
                     v_proj_weight, found in_proj_weight {:?}",
                    self.in_proj_weight.as_ref().map(|w| w.shape().to_vec())
                ),
            )),
        }
    }
}

/// PyTorch's `[N·heads, L, S]` attention masks as `[N, heads, L, S]`; other masks unchanged.
fn per_head_masks(masks: &AttentionMasks, n: usize, heads: usize) -> AttentionMasks {
    let reshape = |t: &strata_tensor::Tensor| match t.shape() {
        &[nh, l, s] if nh == n * heads && nh > 1 => {
            t.reshape(&[n as isize, heads as isize, l as isize, s as isize])
        }
        _ => t.clone(),
    };
    let attn_mask = masks.attn_mask.as_ref().map(|mask| match mask {
        AttentionMask::Blocked(t) => AttentionMask::Blocked(reshape(t)),
        AttentionMask::Additive(t) => AttentionMask::Additive(reshape(t)),
    });
    AttentionMasks {
        attn_mask,
        ..masks.clone()
    }
}

impl Module for MultiHeadAttention {
    /// Self-attention of `x` `[N, L, E]` without masks.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        self.forward_qkv(x, x, x, &AttentionMasks::default(), NeedWeights::No)
            .0
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        Ok(self
            .try_forward_qkv(x, x, x, &AttentionMasks::default(), NeedWeights::No)?
            .0)
    }
}
