//! The `Module` trait: a building block whose output is another block's input.

use crate::params::Params;
use crate::train::{Objective, Supervised};
use strata_autograd::Var;
use strata_tensor::Result;

/// A building block of a network: it maps a batch to a batch, processing every example of the
/// batch at once with linear algebra, and owns the parameters it needs ([`Params`]).
///
/// A layer whose input can have the wrong shape implements [`Module::try_forward`], and
/// `forward` as its unwrapping (`strata_tensor::expect_ok(self.try_forward(x))` with
/// `#[track_caller]`), so that a shape error panics at the line that called `forward` on the
/// layer, and [`crate::Sequential`] can say which of its layers refused the input. (Called
/// through `dyn Module`, Rust reports the layer's `forward` instead.)
pub trait Module: Params + Send + Sync {
    /// Applies the block to a batch.
    fn forward(&self, x: &Var) -> Var;

    /// Applies the block to a batch, returning a shape error instead of panicking. The
    /// default calls [`Module::forward`], for blocks that accept any input.
    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        Ok(self.forward(x))
    }

    /// A short name of the block's type for messages, e.g. `Dense` or `Residual`.
    fn type_name(&self) -> &'static str {
        let full = std::any::type_name::<Self>();
        let path = full.split('<').next().unwrap_or(full);
        path.rsplit("::").next().unwrap_or(path)
    }

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
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        (**self).forward(x)
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        (**self).try_forward(x)
    }

    fn type_name(&self) -> &'static str {
        (**self).type_name()
    }
}
