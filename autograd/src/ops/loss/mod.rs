//! The fused loss ops: each computes its per-element (or per-row) loss and its gradient in
//! one pass where the composed form would be unstable or would record many ops. The loss
//! modules of strata-modules (options, builders, reductions) call them.

mod binary;
mod class;
mod divergence;

pub use class::ClassLossOptions;

use crate::var::Var;
use strata_tensor::{ErrorKind, Result, TensorError};

/// An error naming `op` unless a loss's `input` and `target` have one shape (the check of every
/// loss whose terms pair input and target element by element).
pub fn check_input_target_shapes(op: &'static str, input: &Var, target: &Var) -> Result<()> {
    if input.shape() == target.shape() {
        Ok(())
    } else {
        Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!(
                "input {:?} and target {:?} differ",
                input.shape(),
                target.shape()
            ),
        ))
    }
}

/// How per-element losses are combined into the value a loss returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The average over every element (the default).
    #[default]
    Mean,
    /// The sum divided by the length of the first (batch) axis: PyTorch's `'batchmean'`, the
    /// true KL divergence per example for [`Var::kl_div_terms`](crate::Var::kl_div_terms).
    BatchMean,
    /// The sum.
    Sum,
    /// No reduction: one loss per element (or per example).
    None,
}
