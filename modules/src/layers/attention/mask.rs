//! Which keys each query may attend: a caller's boolean or additive mask, key padding, and
//! causal order, merged into one additive mask (`0` allowed, `−∞` blocked).

use strata_tensor::{broadcast_shapes, ErrorKind, Result, Tensor, TensorError};

/// A mask over the attention scores `[N, (heads,) L, S]` (any shape that broadcasts to them,
/// e.g. `[L, S]`).
#[derive(Debug, Clone)]
pub enum AttentionMask {
    /// Non-zero where a query may **not** attend a key: the convention of PyTorch's
    /// `nn.MultiheadAttention` boolean masks (`True` = blocked).
    Blocked(Tensor),
    /// Added to the scores before the softmax, `−∞` blocking: PyTorch's float masks.
    Additive(Tensor),
}

/// The masks of one attention call; the default masks nothing.
///
/// A query whose keys are all blocked gets all-zero attention weights, a zero output and no
/// gradient (PyTorch gives NaN there).
///
/// ```
/// use strata_modules::AttentionMasks;
/// use strata_tensor::Tensor;
/// // Example 0 has 3 real keys and 1 padding key; queries see only earlier keys.
/// let padding = Tensor::from_vec(vec![0.0, 0.0, 0.0, 1.0], &[1, 4]);
/// let masks = AttentionMasks::causal().with_key_padding(padding);
/// assert!(masks.causal && masks.key_padding_mask.is_some());
/// ```
#[derive(Debug, Clone, Default)]
pub struct AttentionMasks {
    /// A caller's mask, broadcast to the scores.
    pub attn_mask: Option<AttentionMask>,
    /// `[N, S]`, non-zero where key `s` of example `n` is padding and must be ignored.
    pub key_padding_mask: Option<Tensor>,
    /// Query `i` attends keys `j ≤ i` only (aligned at the top-left when `L ≠ S`, as
    /// PyTorch's `is_causal`).
    pub causal: bool,
}

impl AttentionMasks {
    /// Queries attend only keys at their own or earlier positions.
    pub fn causal() -> Self {
        Self {
            causal: true,
            ..Self::default()
        }
    }

    /// These masks plus a key-padding mask `[N, S]` (non-zero = padding).
    pub fn with_key_padding(mut self, key_padding_mask: Tensor) -> Self {
        self.key_padding_mask = Some(key_padding_mask);
        self
    }

    /// These masks plus a caller's mask.
    pub fn with_attn_mask(mut self, attn_mask: AttentionMask) -> Self {
        self.attn_mask = Some(attn_mask);
        self
    }

    /// The merged additive mask for scores of shape `scores` (`[N, …, L, S]`): `0` where
    /// attending is allowed, `−∞` where blocked, plus any additive values. `None` when nothing
    /// is masked.
    pub(crate) fn additive(&self, scores: &[usize], op: &'static str) -> Result<Option<Tensor>> {
        let error = |message: String| TensorError::new(op, ErrorKind::ShapeMismatch, message);
        let ndim = scores.len();
        let (l, s) = (scores[ndim - 2], scores[ndim - 1]);
        let mut parts: Vec<Tensor> = Vec::new();
        match &self.attn_mask {
            Some(AttentionMask::Blocked(blocked)) => parts.push(blocked_to_additive(blocked)),
            Some(AttentionMask::Additive(additive)) => parts.push(additive.clone()),
            None => {}
        }
        if let Some(padding) = &self.key_padding_mask {
            if ndim < 3 || padding.shape() != [scores[0], s] {
                return Err(error(format!(
                    "key_padding_mask should be [N, S] = [{}, {s}] for scores {scores:?}, found {:?}",
                    scores.first().copied().unwrap_or(0),
                    padding.shape()
                )));
            }
            let mut shape = vec![1isize; ndim];
            shape[0] = scores[0] as isize;
            shape[ndim - 1] = s as isize;
            parts.push(blocked_to_additive(&padding.reshape(&shape)));
        }
        if self.causal {
            let later = (0..l * s)
                .map(|k| if k % s > k / s { 1.0 } else { 0.0 })
                .collect();
            parts.push(blocked_to_additive(&Tensor::from_vec(later, &[l, s])));
        }
        let Some(mut merged) = parts.pop() else {
            return Ok(None);
        };
        for part in &parts {
            merged = merged.try_add(part)?;
        }
        match broadcast_shapes(merged.shape(), scores, op) {
            Ok(shape) if shape.as_slice() == scores => Ok(Some(merged)),
            _ => Err(error(format!(
                "the attention mask {:?} does not broadcast to the scores {scores:?}",
                merged.shape()
            ))),
        }
    }
}

/// `−∞` where `blocked` is non-zero, `0` elsewhere.
fn blocked_to_additive(blocked: &Tensor) -> Tensor {
    Tensor::select(
        blocked,
        &Tensor::scalar(f32::NEG_INFINITY),
        &Tensor::scalar(0.0),
    )
}
