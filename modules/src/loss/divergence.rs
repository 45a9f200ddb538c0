//! Kullback–Leibler divergence between distributions.

use super::{reduce, Reduction};
use strata_autograd::Var;
use strata_tensor::{expect_ok, Result};

/// Kullback–Leibler divergence `KL(p ‖ q) = Σ p·(ln p − ln q)` from the log-probabilities
/// `ln q` of a model and a target distribution `p` (PyTorch's `kl_div(input, target)`), for
/// distillation. Terms with `p = 0` contribute 0. `Mean` divides the sum by the batch size
/// (the first axis), which is the true KL per example.
#[track_caller]
pub fn kl_div(log_q: &Var, p: &Var, reduction: Reduction) -> Var {
    expect_ok(try_kl_div(log_q, p, reduction))
}

/// Fallible [`kl_div`].
#[track_caller]
pub fn try_kl_div(log_q: &Var, p: &Var, reduction: Reduction) -> Result<Var> {
    let terms = log_q.try_kl_div_terms(p)?;
    let batch = log_q.shape().first().copied().unwrap_or(1).max(1);
    Ok(match reduction {
        Reduction::Mean => terms.sum().mul_scalar(1.0 / batch as f32),
        other => reduce(terms, other),
    })
}
