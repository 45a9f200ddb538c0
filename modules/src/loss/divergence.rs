//! Kullback–Leibler divergence between distributions.

use super::{reduce, LossTarget, Reduction};
use strata_autograd::Var;
use strata_tensor::{expect_ok, Result};

/// Kullback–Leibler divergence `KL(p ‖ q) = Σ p·(ln p − ln q)` from the log-probabilities
/// `ln q` of a model and a target distribution `p` (PyTorch's `KLDivLoss`), for
/// distillation; terms with `p = 0` contribute 0 (the fused op [`Var::kl_div_terms`]). As in
/// PyTorch, `Mean` averages over every element; [`Reduction::BatchMean`] divides the sum by
/// the batch size (the first axis), which is the true KL per example.
///
/// ```
/// use strata_modules::{KlDivLoss, Reduction, Var};
/// use strata_tensor::Tensor;
/// let log_q = Var::leaf(Tensor::from_vec(vec![0.5f32.ln(); 4], &[2, 2]));
/// let p = Tensor::from_vec(vec![1.0, 0.0, 1.0, 0.0], &[2, 2]);
/// let kl = KlDivLoss::new().reduction(Reduction::BatchMean).forward(&log_q, &p);
/// assert!((kl.item() - 2f32.ln()).abs() < 1e-6); // ln 2 per example
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct KlDivLoss {
    reduction: Reduction,
}

impl KlDivLoss {
    /// `Mean` (over elements, as PyTorch's default).
    pub fn new() -> Self {
        Self::default()
    }

    /// How the terms are combined: `BatchMean` for the KL per example.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The divergence of `log_q` from the target distribution `p` (one shape); gradients
    /// reach a `Var` target too.
    #[track_caller]
    pub fn forward(&self, log_q: &Var, p: &impl LossTarget) -> Var {
        expect_ok(self.try_forward(log_q, p))
    }

    /// Fallible [`KlDivLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, log_q: &Var, p: &impl LossTarget) -> Result<Var> {
        let terms = log_q.try_kl_div_terms(&p.to_var())?;
        Ok(reduce(terms, self.reduction))
    }
}

/// Kullback–Leibler divergence averaged over the elements: [`KlDivLoss`] with its defaults
/// (use `KlDivLoss::new().reduction(Reduction::BatchMean)` for the KL per example).
#[track_caller]
pub fn kl_div(log_q: &Var, p: &impl LossTarget) -> Var {
    expect_ok(try_kl_div(log_q, p))
}

/// Fallible [`kl_div`].
#[track_caller]
pub fn try_kl_div(log_q: &Var, p: &impl LossTarget) -> Result<Var> {
    KlDivLoss::new().try_forward(log_q, p)
}
