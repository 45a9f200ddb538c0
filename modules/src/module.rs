//! The `Module` trait: a building block whose output is another block's input.

use crate::params::Params;
use crate::train::{Objective, Supervised};
use strata_autograd::Var;

/// A building block of a network: it maps a batch to a batch, processing every example of the
/// batch at once with linear algebra, and owns the parameters it needs ([`Params`]).
pub trait Module: Params + Send + Sync {
    /// Applies the block to a batch.
    fn forward(&self, x: &Var) -> Var;

    /// This module scored by `objective` (e.g. [`crate::Classification`]): what
    /// [`crate::Trainer::fit`] trains for a model with one input and one target.
    fn with_objective<O: Objective>(&mut self, objective: O) -> Supervised<'_, O>
    where
        Self: Sized,
    {
        Supervised::new(self, objective)
    }
}

impl<M: Module + ?Sized> Module for Box<M> {
    fn forward(&self, x: &Var) -> Var {
        (**self).forward(x)
    }
}
