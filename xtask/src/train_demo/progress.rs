//! The live view of training: one progress bar per epoch (on stderr, hidden when stderr is
//! not a terminal) with the running loss and accuracy, and one summary line per epoch on
//! stdout.

use crate::demo::percent;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use strata_modules::{Callback, Event};

/// Feeds the progress bar from the training loop's events.
pub struct EpochProgress {
    epochs: usize,
    batches_per_epoch: usize,
    bar: Option<ProgressBar>,
}

impl EpochProgress {
    /// A view of `epochs` epochs of `batches_per_epoch` batches each.
    pub fn new(epochs: usize, batches_per_epoch: usize) -> Self {
        Self {
            epochs,
            batches_per_epoch,
            bar: None,
        }
    }

    fn start_epoch(&mut self, epoch: usize, learning_rate: f32) {
        let bar = ProgressBar::with_draw_target(
            Some(self.batches_per_epoch as u64),
            ProgressDrawTarget::stderr(),
        );
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30.cyan/blue}] {pos}/{len} batches {msg} ({elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("epoch {}/{}", epoch + 1, self.epochs));
        bar.set_message(format!("lr {learning_rate:.2e}"));
        self.bar = Some(bar);
    }
}

impl Callback for EpochProgress {
    fn on_event(&mut self, event: &Event<'_>) {
        match event {
            Event::EpochStart {
                epoch,
                learning_rate,
            } => self.start_epoch(*epoch, *learning_rate),
            Event::Batch {
                index,
                loss,
                accuracy,
                ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(*index as u64 + 1);
                    bar.set_message(format!(
                        "loss {loss:.4} acc {}",
                        percent(accuracy.map(f64::from))
                    ));
                }
            }
            Event::EpochEnd(metrics) => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                println!(
                    "epoch {:>3}/{}  train loss {:.4}  train acc {}  test loss {}  test acc {}  ({:.2} s)",
                    metrics.epoch + 1,
                    self.epochs,
                    metrics.train_loss,
                    percent(metrics.train_accuracy.map(f64::from)),
                    metrics
                        .val_loss
                        .map_or_else(|| "-".to_string(), |loss| format!("{loss:.4}")),
                    percent(metrics.val_accuracy.map(f64::from)),
                    metrics.seconds
                );
            }
            Event::CheckpointSaved(_) | Event::EarlyStopped { .. } => {}
        }
    }
}
