//! The `Module` trait: a building block whose output is another block's input.

use crate::params::Params;
use strata_autograd::Var;

/// A building block of a network: it maps a batch to a batch, processing every example of the
/// batch at once with linear algebra, and owns the parameters it needs ([`Params`]).
pub trait Module: Params + Send + Sync {
    /// Applies the block to a batch.
    fn forward(&self, x: &Var) -> Var;
}

impl<M: Module + ?Sized> Module for Box<M> {
    fn forward(&self, x: &Var) -> Var {
        (**self).forward(x)
    }
}
