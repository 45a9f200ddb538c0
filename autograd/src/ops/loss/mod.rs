//! The fused loss ops: each computes its per-element (or per-row) loss and its gradient in
//! one pass where the composed form would be unstable or would record many ops. The loss
//! modules of strata-modules (options, builders, reductions) call them.

mod binary;
mod class;
mod divergence;

pub use class::ClassLossOptions;

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
