//! Scaled dot-product attention: each query scores every key by a scalar product, the
//! softmax of the scores weights the values.

use super::mask::AttentionMasks;
use strata_autograd::Var;
use strata_tensor::{ErrorKind, Result, TensorError};

/// `softmax(q·kᵀ/√E + mask)·v` for queries `q` `[N, (heads,) L, E]`, keys `k`
/// `[N, (heads,) S, E]` and values `v` `[N, (heads,) S, Ev]`. Returns the output
/// `[N, (heads,) L, Ev]` and the attention weights `[N, (heads,) L, S]` (each row sums to 1,
/// or is all zeros when every key of that query is masked). Panics on a shape mismatch.
///
/// ```
/// use strata_modules::{scaled_dot_product_attention, AttentionMasks, Var};
/// use strata_tensor::Tensor;
/// let q = Var::constant(Tensor::ones(&[1, 2, 4]));
/// let v = Var::constant(Tensor::from_vec(vec![1.0, 3.0], &[1, 2, 1]));
/// // Equal scores: the first query sees only the first key, the second averages both.
/// let (out, weights) = scaled_dot_product_attention(&q, &q, &v, &AttentionMasks::causal());
/// assert_eq!(weights.value().to_vec(), vec![1.0, 0.0, 0.5, 0.5]);
/// assert_eq!(out.value().to_vec(), vec![1.0, 2.0]);
/// ```
#[track_caller]
pub fn scaled_dot_product_attention(
    q: &Var,
    k: &Var,
    v: &Var,
    masks: &AttentionMasks,
) -> (Var, Var) {
    match try_scaled_dot_product_attention(q, k, v, masks) {
        Ok(result) => result,
        Err(err) => panic!("{err}"),
    }
}

/// Fallible [`scaled_dot_product_attention`].
#[track_caller]
pub fn try_scaled_dot_product_attention(
    q: &Var,
    k: &Var,
    v: &Var,
    masks: &AttentionMasks,
) -> Result<(Var, Var)> {
    const OP: &str = "scaled_dot_product_attention";
    let ndim = q.ndim();
    let batch = |t: &Var| t.shape()[..t.ndim().saturating_sub(2)].to_vec();
    let fits = ndim >= 2
        && k.ndim() == ndim
        && v.ndim() == ndim
        && batch(q) == batch(k)
        && batch(q) == batch(v)
        && q.shape()[ndim - 1] == k.shape()[ndim - 1]
        && k.shape()[ndim - 2] == v.shape()[ndim - 2];
    if !fits {
        return Err(TensorError::new(
            OP,
            ErrorKind::ShapeMismatch,
            format!(
                "q [.., L, E], k [.., S, E] and v [.., S, Ev] need the same batch dimensions, \
                 found {:?}, {:?}, {:?}",
                q.shape(),
                k.shape(),
                v.shape()
            ),
        ));
    }
    let scale = 1.0 / (q.shape()[ndim - 1] as f32).sqrt();
    let mut scores = q.matmul(&k.t()).mul_scalar(scale);
    if let Some(mask) = masks.additive(scores.shape(), OP)? {
        scores = scores.add(&Var::constant(mask));
    }
    let weights = scores.softmax_skipping_blocked();
    Ok((weights.matmul(v), weights))
}
