//! The epoch summaries of `train-demo` on stdout when stderr is not a terminal (logs, CI),
//! where the library's progress bar draws nothing.

use crate::evaluation::percent;
use strata_modules::{Callback, Event};

/// Prints one line per epoch: losses and accuracies on the training and test splits.
pub struct EpochSummary;

impl Callback for EpochSummary {
    fn on_event(&mut self, event: &Event<'_>) {
        if let Event::EpochEnd(metrics) = event {
            let loss = |value: Option<f32>| value.map_or_else(|| "-".into(), |l| format!("{l:.4}"));
            println!(
                "epoch {:>3}  train loss {}  train acc {}  test loss {}  test acc {}  ({:.2} s)",
                metrics.epoch + 1,
                loss(metrics.train_loss()),
                percent(metrics.train_accuracy().map(f64::from)),
                loss(metrics.val_loss()),
                percent(metrics.val_accuracy().map(f64::from)),
                metrics.seconds
            );
        }
    }
}
