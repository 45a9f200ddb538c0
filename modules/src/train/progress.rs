//! A ready-made progress display for the training loop: one bar per epoch on stderr with the
//! running metrics, drawn only when stderr is a terminal.

use super::events::{Callback, Event};
use indicatif::{ProgressDrawTarget, ProgressStyle};

/// One bar per epoch on stderr (`epoch 3/20 [=====>   ] 40/90 loss 0.3121 accuracy 91.2%`),
/// left in place with the epoch's training and validation metrics when the epoch ends.
/// Nothing is drawn when stderr is not a terminal (logs, CI), so it costs nothing there.
///
/// ```
/// use strata_modules::{ProgressBar, TrainConfig, Trainer};
/// let trainer = Trainer::new(TrainConfig { epochs: 5, ..Default::default() })
///     .with_callback(ProgressBar::new());
/// ```
#[derive(Default)]
pub struct ProgressBar {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressBar {
    /// A progress display for a [`crate::Trainer`].
    pub fn new() -> Self {
        Self::default()
    }

    fn start(&mut self, epoch: usize, epochs: usize, learning_rate: f32, batches: Option<usize>) {
        let target = ProgressDrawTarget::stderr();
        let bar = indicatif::ProgressBar::with_draw_target(batches.map(|b| b as u64), target);
        let template = if batches.is_some() {
            "{prefix} [{bar:30.cyan/blue}] {pos}/{len} {msg} ({elapsed})"
        } else {
            "{prefix} {spinner} {pos} batches {msg} ({elapsed})"
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("epoch {}/{epochs}", epoch + 1));
        bar.set_message(format!("lr {learning_rate:.2e}"));
        self.bar = Some(bar);
    }
}

/// `loss 0.3121 accuracy 91.2%`: losses and errors as numbers, accuracies as percentages.
fn summary(metrics: impl IntoIterator<Item = (String, f32)>) -> String {
    let parts: Vec<String> = metrics
        .into_iter()
        .map(|(name, value)| {
            if name.ends_with("accuracy") {
                format!("{name} {:.1}%", 100.0 * value)
            } else {
                format!("{name} {value:.4}")
            }
        })
        .collect();
    parts.join(" ")
}

impl Callback for ProgressBar {
    fn on_event(&mut self, event: &Event<'_>) {
        match *event {
            Event::EpochStart {
                epoch,
                epochs,
                learning_rate,
                batches,
            } => self.start(epoch, epochs, learning_rate, batches),
            Event::Batch {
                index,
                epoch_so_far,
                ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(index as u64 + 1);
                    bar.set_message(summary(epoch_so_far.values()));
                }
            }
            Event::EpochEnd(metrics) => {
                if let Some(bar) = self.bar.take() {
                    let validation = summary(
                        metrics
                            .validation
                            .iter()
                            .map(|(name, &v)| (format!("val {name}"), v)),
                    );
                    let train = summary(metrics.train.clone());
                    bar.finish_with_message(format!("{train} {validation}"));
                }
            }
            Event::CheckpointSaved(_) | Event::EarlyStopped { .. } => {}
        }
    }
}
