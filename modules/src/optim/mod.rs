//! Optimizers: they read a backward pass's [`Gradients`] and update the parameters in place.
//!
//! Zeroing is implicit: every `backward()` returns a fresh gradient store, so there is no
//! `zero_grad` to forget. To accumulate over several batches, add the stores with
//! `Gradients::accumulate` before calling `step`.

mod adam;
mod clip;
mod groups;
mod rmsprop;
mod schedule;
mod sgd;
mod state;

pub use adam::{Adam, AdamDecay, AdamOptimizer, AdamW, DecoupledDecay, L2Decay};
pub use clip::clip_grad_norm;
pub use groups::{in_group, OptimizerGroups};
pub use rmsprop::RmsProp;
pub use schedule::{
    ConstantLr, CosineAnnealingLr, ExponentialLr, LinearWarmup, LrSchedule, StepLr,
};
pub use sgd::Sgd;
pub use state::{OptimizerState, OptimizerStateError};

pub(crate) use state::Slots;

use crate::params::Params;
use strata_autograd::{Gradients, Var};
use strata_tensor::int_hash::IntSet;

/// Updates parameters from gradients.
///
/// An optimizer with per-parameter state (momentum, moments) keeps it by parameter name, so
/// that it can be saved and loaded, and binds each name to the parameter (its
/// [`strata_autograd::VarId`]) first stepped under it. One optimizer may step several models
/// whose parameter names differ; a second, different parameter under a bound name (two
/// models with the same layout, two standalone `Var`s, all named `""`) makes `step` panic at
/// the caller's line instead of mixing their states. Values loaded into the same parameters
/// ([`crate::Checkpoint::apply_to`]) keep the binding; a state restored with
/// [`Optimizer::load_state`] is bound by the next step. A clone of a model shares its
/// parameters' identities, so give it its own optimizer.
pub trait Optimizer: Send {
    /// Applies one update to every parameter of `model` that has a gradient in `grads`.
    /// A parameter reached twice (shared by two fields) is updated once. Panics, before
    /// changing anything, when the state does not fit the parameters (see above).
    fn step(&mut self, model: &mut dyn Params, grads: &Gradients);

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate (what schedules do).
    fn set_learning_rate(&mut self, lr: f32);

    /// The optimizer's state (step count, per-parameter moments), for checkpoints.
    fn state(&self) -> OptimizerState;

    /// Restores a state saved by [`Optimizer::state`] of the same kind.
    fn load_state(&mut self, state: &OptimizerState) -> Result<(), OptimizerStateError>;
}

/// `x`, or 0 when `|x|` is below the smallest normal f32: optimizer moments of parameters
/// whose gradient stays zero decay geometrically into the subnormal range, where arithmetic
/// is two orders of magnitude slower on x86; flushing them changes values by less than 1e-38.
#[inline]
pub(crate) fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

/// Applies `update(parameter values, gradient values, state vectors, first)` once per
/// parameter of `model` that has a gradient, with `slot_count` state vectors each from
/// `slots`; `first` is true on the first update of a parameter's state vectors (PyTorch
/// creates some states, such as SGD's momentum buffer, from that first gradient).
///
/// The slots are bound and checked first ([`Slots::bind`]); when they do not fit (a name
/// bound to another parameter, a loaded state of the wrong length) this panics, before any
/// parameter changes, at the line that called the optimizer's `step`.
#[track_caller]
pub(crate) fn apply_updates(
    optimizer: &str,
    model: &mut dyn Params,
    grads: &Gradients,
    slots: &mut Slots,
    slot_count: usize,
    mut update: impl FnMut(&mut [f32], &[f32], &mut [Vec<f32>], bool),
) {
    if let Err(problem) = slots.bind(model, grads, slot_count) {
        panic!("{optimizer}::step: {problem}");
    }
    let mut seen = IntSet::default();
    model.visit_mut("", &mut |name: &str, param: &mut Var| {
        let Some(grad) = grads.get(param) else {
            return;
        };
        if !seen.insert(param.id()) {
            return;
        }
        let grad = grad.values();
        let (vectors, first) = if slot_count == 0 {
            (&mut [][..], false)
        } else {
            slots.vectors(name)
        };
        param.update(|value| update(value.data_mut(), &grad, vectors, first));
    });
}
