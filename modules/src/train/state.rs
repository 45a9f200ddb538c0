//! What the training loop records: each epoch's metrics, and its own state, saved in
//! checkpoints so that a resumed run continues exactly.

use super::metrics::MetricValues;
use crate::io::{Checkpoint, CheckpointError};
use serde::{Deserialize, Serialize};

/// Metrics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The epoch (0-based).
    pub epoch: usize,
    /// Means of the training metrics over the epoch's batches (`loss`, `accuracy`, …).
    pub train: MetricValues,
    /// Means of the validation metrics after the epoch (empty without validation data).
    pub validation: MetricValues,
    /// Learning rate used.
    pub learning_rate: f32,
    /// Wall-clock seconds of the epoch.
    pub seconds: f32,
}

impl EpochMetrics {
    /// Mean training loss, weighted by batch size.
    pub fn train_loss(&self) -> Option<f32> {
        self.train.get("loss").copied()
    }

    /// Training accuracy, if the model reports one.
    pub fn train_accuracy(&self) -> Option<f32> {
        self.train.get("accuracy").copied()
    }

    /// Mean validation loss, if there was validation data.
    pub fn val_loss(&self) -> Option<f32> {
        self.validation.get("loss").copied()
    }

    /// Validation accuracy, if there was validation data and the model reports one.
    pub fn val_accuracy(&self) -> Option<f32> {
        self.validation.get("accuracy").copied()
    }
}

/// Stop when the validation loss has not improved by `min_delta` for `patience` epochs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Smallest decrease that counts as an improvement.
    pub min_delta: f32,
}

/// The loop's own state, saved in checkpoints so a resumed run continues exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainingState {
    /// The next epoch to run.
    pub next_epoch: usize,
    /// Metrics of the epochs run so far.
    pub history: Vec<EpochMetrics>,
    /// Best validation loss so far.
    pub best_val_loss: Option<f32>,
    /// Epochs since the best validation loss.
    pub epochs_without_improvement: usize,
    /// Learning rate the schedule starts from.
    pub base_learning_rate: Option<f32>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
}

impl TrainingState {
    /// The checkpoint section the loop state is saved under.
    pub const SECTION: &'static str = "training";

    /// Saves this state in `checkpoint` (section [`TrainingState::SECTION`]).
    pub fn save_in(&self, checkpoint: &mut Checkpoint) -> Result<(), CheckpointError> {
        checkpoint.set_section(Self::SECTION, self)
    }

    /// The loop state saved in `checkpoint`, `None` when it holds none.
    pub fn from_checkpoint(checkpoint: &Checkpoint) -> Result<Option<Self>, CheckpointError> {
        checkpoint.section(Self::SECTION)
    }

    /// Records `metrics` under the early-stopping `rule`: the best validation loss so far, the
    /// epochs since, and whether to stop.
    pub(super) fn track_improvement(
        &mut self,
        rule: Option<EarlyStopping>,
        metrics: &EpochMetrics,
    ) {
        let (Some(rule), Some(val_loss)) = (rule, metrics.val_loss()) else {
            return;
        };
        match self.best_val_loss {
            Some(best) if val_loss > best - rule.min_delta => {
                self.epochs_without_improvement += 1;
                self.stopped_early = self.epochs_without_improvement >= rule.patience;
            }
            _ => {
                self.best_val_loss = Some(val_loss);
                self.epochs_without_improvement = 0;
            }
        }
    }
}
