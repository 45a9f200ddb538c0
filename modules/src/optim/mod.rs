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

pub use adam::{Adam, AdamW};
pub use clip::clip_grad_norm;
pub use groups::{in_group, OptimizerGroups};
pub use rmsprop::RmsProp;
pub use schedule::{
    ConstantLr, CosineAnnealingLr, ExponentialLr, LinearWarmup, LrSchedule, StepLr,
};
pub use sgd::Sgd;

use crate::params::Params;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use strata_autograd::{Gradients, Var};
use strata_tensor::Tensor;

/// Updates parameters from gradients.
pub trait Optimizer: Send {
    /// Applies one update to every parameter of `model` that has a gradient in `grads`.
    /// A parameter reached twice (shared by two fields) is updated once.
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

/// A serialisable snapshot of an optimizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Which optimizer wrote it (`"sgd"`, `"adam"`, …).
    pub kind: String,
    /// Number of steps taken.
    pub steps: u64,
    /// Learning rate at the time of saving.
    pub learning_rate: f32,
    /// Per-parameter state tensors (momentum buffers, moments), by parameter name.
    pub slots: BTreeMap<String, Vec<Tensor>>,
    /// The states of the optimizers of an [`OptimizerGroups`], by group (empty otherwise).
    pub groups: BTreeMap<String, OptimizerState>,
}

/// A saved state that does not fit the optimizer it is loaded into.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerStateError {
    /// What the optimizer expected.
    pub expected: String,
    /// What the state holds.
    pub found: String,
}

impl fmt::Display for OptimizerStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "optimizer state: expected {}, found {}",
            self.expected, self.found
        )
    }
}

impl std::error::Error for OptimizerStateError {}

/// Per-parameter state vectors, kept by parameter name so states survive a save and load.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slots {
    per_param: HashMap<String, Vec<Vec<f32>>>,
}

impl Slots {
    /// The `count` state vectors of a parameter, created as zeros of length `len` on first use.
    pub(crate) fn get(&mut self, name: &str, count: usize, len: usize) -> &mut [Vec<f32>] {
        if !self.per_param.contains_key(name) {
            self.per_param
                .insert(name.to_string(), vec![vec![0.0; len]; count]);
        }
        self.per_param.get_mut(name).expect("inserted above")
    }

    pub(crate) fn to_state(&self, kind: &str, steps: u64, learning_rate: f32) -> OptimizerState {
        OptimizerState {
            kind: kind.to_string(),
            steps,
            learning_rate,
            slots: self
                .per_param
                .iter()
                .map(|(name, vecs)| {
                    let tensors = vecs
                        .iter()
                        .map(|v| Tensor::from_slice(v, &[v.len()]))
                        .collect();
                    (name.clone(), tensors)
                })
                .collect(),
            groups: BTreeMap::new(),
        }
    }

    /// Restores slots from a state after checking its kind and slot count.
    pub(crate) fn load(
        state: &OptimizerState,
        kind: &str,
        count: usize,
    ) -> Result<Self, OptimizerStateError> {
        if state.kind != kind {
            return Err(OptimizerStateError {
                expected: format!("a `{kind}` state"),
                found: format!("a `{}` state", state.kind),
            });
        }
        let mut per_param = HashMap::new();
        for (name, tensors) in &state.slots {
            if tensors.len() != count {
                return Err(OptimizerStateError {
                    expected: format!("{count} state tensors for `{name}`"),
                    found: tensors.len().to_string(),
                });
            }
            per_param.insert(name.clone(), tensors.iter().map(Tensor::to_vec).collect());
        }
        Ok(Self { per_param })
    }
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

/// Calls `update(name, parameter values, gradient values)` once per parameter of `model`
/// that has a gradient, writing the parameter in place.
pub(crate) fn for_each_update(
    model: &mut dyn Params,
    grads: &Gradients,
    mut update: impl FnMut(&str, &mut [f32], &[f32]),
) {
    let mut seen = HashSet::new();
    model.visit_mut("", &mut |name: &str, param: &mut Var| {
        let Some(grad) = grads.get(param) else {
            return;
        };
        if !seen.insert(param.id()) {
            return;
        }
        let grad = grad.values();
        param.update(|value| update(name, value.data_mut(), &grad));
    });
}
