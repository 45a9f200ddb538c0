//! What the training loop reports as it goes, and the hooks a distributed runner plugs in.

use super::metrics::Metrics;
use super::state::EpochMetrics;
use crate::params::Params;
use std::path::Path;
use strata_autograd::{AutogradError, Gradients, Var};

/// A moment in training, passed to every [`Callback`].
#[derive(Debug)]
pub enum Event<'a> {
    /// An epoch begins.
    EpochStart {
        /// The epoch (0-based).
        epoch: usize,
        /// The number of epochs the run goes to.
        epochs: usize,
        /// The learning rate used in this epoch.
        learning_rate: f32,
        /// Training batches in the epoch, when the source knows.
        batches: Option<usize>,
    },
    /// A training batch was processed.
    Batch {
        /// The epoch.
        epoch: usize,
        /// The batch index within the epoch.
        index: usize,
        /// The batch's metrics.
        metrics: &'a Metrics,
        /// The running metrics of the epoch so far (this batch included).
        epoch_so_far: &'a Metrics,
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

    /// Differentiates a training step's loss; by default `loss.backward()`. A data-parallel
    /// hook overrides it to start exchanging gradients while the backward pass is still
    /// running (see [`Var::backward_with_ready`]); [`StepHook::reduce_gradients`] follows.
    fn backward(&mut self, loss: &Var, model: &dyn Params) -> Result<Gradients, AutogradError> {
        let _ = model;
        loss.backward()
    }

    /// After each backward, before clipping and the optimizer step: e.g. average gradients.
    fn reduce_gradients(&mut self, grads: &mut Gradients, model: &dyn Params) {
        let _ = (grads, model);
    }

    /// At each epoch end, over the sums and weights of the epoch's metrics (training's then
    /// validation's, each in name order, as [`Metrics::to_sums`] lays them out): e.g. add
    /// them up across ranks. Every rank reports the same metric names.
    fn reduce_metrics(&mut self, sums: &mut [f64]) {
        let _ = sums;
    }

    /// Whether this process writes checkpoints (rank 0 only, in data-parallel training).
    fn is_primary(&self) -> bool {
        true
    }
}
