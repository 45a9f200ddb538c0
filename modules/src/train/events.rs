//! What the training loop reports as it goes, and the hooks a distributed runner plugs in.

use super::EpochMetrics;
use crate::params::Params;
use std::path::Path;
use strata_autograd::Gradients;

/// A moment in training, passed to every [`Callback`].
#[derive(Debug)]
pub enum Event<'a> {
    /// An epoch begins.
    EpochStart {
        /// The epoch (0-based).
        epoch: usize,
        /// The learning rate used in this epoch.
        learning_rate: f32,
    },
    /// A training batch was processed.
    Batch {
        /// The epoch.
        epoch: usize,
        /// The batch index within the epoch.
        index: usize,
        /// The batch loss.
        loss: f32,
        /// Running accuracy of the epoch so far, if the objective counts correct answers.
        accuracy: Option<f32>,
    },
    /// An epoch ended (after validation).
    EpochEnd(&'a EpochMetrics),
    /// A checkpoint was written.
    CheckpointSaved(&'a Path),
    /// Training stopped early (validation loss stopped improving).
    EarlyStopped {
        /// The last epoch run.
        epoch: usize,
    },
}

/// Receives training events (progress bars, logs, plots live outside the library).
pub trait Callback {
    /// Called at each event.
    fn on_event(&mut self, event: &Event<'_>);
}

impl<F: FnMut(&Event<'_>)> Callback for F {
    fn on_event(&mut self, event: &Event<'_>) {
        self(event)
    }
}

/// Hooks into the training step for data-parallel training: a distributed runner makes the
/// ranks agree (same start, averaged gradients, summed metrics, one writer).
pub trait StepHook {
    /// Before the first epoch: e.g. broadcast parameters and buffers from rank 0.
    fn on_start(&mut self, model: &mut dyn Params) {
        let _ = model;
    }

    /// After each backward, before clipping and the optimizer step: e.g. average gradients.
    fn reduce_gradients(&mut self, grads: &mut Gradients, model: &dyn Params) {
        let _ = (grads, model);
    }

    /// At each epoch end, over the metric sums `[loss · n, correct, n]` of training and then
    /// validation: e.g. sum them across ranks.
    fn reduce_metrics(&mut self, sums: &mut [f64]) {
        let _ = sums;
    }

    /// Whether this process writes checkpoints (rank 0 only, in data-parallel training).
    fn is_primary(&self) -> bool {
        true
    }
}
