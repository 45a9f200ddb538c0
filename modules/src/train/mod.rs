//! A small training loop: epochs over batches, per-epoch validation, events for callbacks,
//! early stopping, periodic checkpoints, and exact resumption.

mod events;
mod objective;

pub use events::{Callback, Event, StepHook};
pub use objective::{BinaryClassification, Classification, Objective, Regression};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::module::Module;
use crate::optim::{clip_grad_norm, LrSchedule, Optimizer};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use strata_autograd::{no_grad, AutogradError, Var};
use strata_tensor::Tensor;

/// Metrics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The epoch (0-based).
    pub epoch: usize,
    /// Mean training loss (weighted by batch size).
    pub train_loss: f32,
    /// Training accuracy, if the objective counts correct answers.
    pub train_accuracy: Option<f32>,
    /// Mean validation loss, if there was validation data.
    pub val_loss: Option<f32>,
    /// Validation accuracy.
    pub val_accuracy: Option<f32>,
    /// Learning rate used.
    pub learning_rate: f32,
    /// Wall-clock seconds of the epoch.
    pub seconds: f32,
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

/// Settings of a [`Trainer`].
#[derive(Clone, Default)]
pub struct TrainConfig {
    /// Number of epochs (a resumed run continues up to this count).
    pub epochs: usize,
    /// Clip gradients to this global norm.
    pub grad_clip: Option<f32>,
    /// Early stopping on validation loss.
    pub early_stopping: Option<EarlyStopping>,
    /// Save a checkpoint (model, optimizer, loop state) every this many epochs…
    pub checkpoint_every: Option<usize>,
    /// …to this file (overwritten atomically).
    pub checkpoint_path: Option<PathBuf>,
    /// Learning rate per epoch, from the optimizer's initial rate.
    pub schedule: Option<Arc<dyn LrSchedule>>,
}

/// Why training stopped with an error.
#[derive(Debug)]
pub enum TrainError {
    /// The loss became NaN or infinite.
    Diverged {
        /// Epoch of the bad batch.
        epoch: usize,
        /// Index of the bad batch.
        batch: usize,
    },
    /// Differentiation failed (e.g. the loss does not depend on any parameter).
    Autograd(AutogradError),
    /// Saving or loading a checkpoint failed.
    Checkpoint(CheckpointError),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Diverged { epoch, batch } => write!(
                f,
                "training diverged: the loss of batch {batch} in epoch {epoch} is not finite (lower the learning rate?)"
            ),
            Self::Autograd(err) => write!(f, "training: {err}"),
            Self::Checkpoint(err) => write!(f, "training: {err}"),
        }
    }
}

impl std::error::Error for TrainError {}

impl From<CheckpointError> for TrainError {
    fn from(err: CheckpointError) -> Self {
        Self::Checkpoint(err)
    }
}

/// Running sums over the batches of an epoch: `[loss·n, correct, n]`.
#[derive(Default, Clone, Copy)]
struct Sums {
    loss: f64,
    correct: Option<f64>,
    count: f64,
}

impl Sums {
    fn add(&mut self, loss: f32, correct: Option<usize>, count: usize) {
        self.loss += loss as f64 * count as f64;
        self.count += count as f64;
        if let Some(c) = correct {
            *self.correct.get_or_insert(0.0) += c as f64;
        }
    }

    fn mean_loss(&self) -> f32 {
        (self.loss / self.count.max(1.0)) as f32
    }

    fn accuracy(&self) -> Option<f32> {
        self.correct.map(|c| (c / self.count.max(1.0)) as f32)
    }
}

/// Runs epochs of training.
///
/// ```
/// use strata_modules::{Adam, Classification, Dense, Relu, Sequential, TrainConfig, Trainer};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let mut model = Sequential::new().push(Dense::new(2, 8, &mut rng)).push(Relu).push(Dense::new(8, 2, &mut rng));
/// // Class 1 when x0 > x1.
/// let x = Tensor::rand_uniform(&[64, 2], -1.0, 1.0, &mut rng);
/// let y = x.narrow(1, 0, 1).gt(&x.narrow(1, 1, 1)).squeeze(1);
/// let mut trainer = Trainer::new(TrainConfig { epochs: 60, ..Default::default() });
/// let history = trainer
///     .fit(&mut model, &mut Adam::new(0.05), &Classification::default(),
///          |_| [(x.clone(), y.clone())], || [(x.clone(), y.clone())])
///     .unwrap();
/// assert!(history.last().unwrap().val_accuracy.unwrap() > 0.9);
/// ```
pub struct Trainer {
    config: TrainConfig,
    callbacks: Vec<Box<dyn Callback>>,
    hook: Option<Box<dyn StepHook>>,
    state: TrainingState,
}

impl Trainer {
    /// A trainer with these settings.
    pub fn new(config: TrainConfig) -> Self {
        Self {
            config,
            callbacks: Vec::new(),
            hook: None,
            state: TrainingState::default(),
        }
    }

    /// Adds a callback (builder style).
    pub fn with_callback(mut self, callback: impl Callback + 'static) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// Installs the step hook (e.g. a distributed runner).
    pub fn with_hook(mut self, hook: impl StepHook + 'static) -> Self {
        self.hook = Some(Box::new(hook));
        self
    }

    /// The loop's state (next epoch, history).
    pub fn state(&self) -> &TrainingState {
        &self.state
    }

    /// Restores model, optimizer and loop state from a checkpoint written by this loop, so
    /// that `fit` continues exactly where the saved run was.
    pub fn resume_from(
        &mut self,
        path: impl AsRef<Path>,
        model: &mut dyn Module,
        optimizer: &mut dyn Optimizer,
    ) -> Result<(), CheckpointError> {
        let checkpoint = Checkpoint::load(path)?;
        let state = checkpoint.training.clone().ok_or_else(|| {
            CheckpointError::Mismatch("the checkpoint holds no training-loop state".into())
        })?;
        checkpoint.apply_to(model)?;
        checkpoint.apply_to_optimizer(optimizer, model)?;
        self.state = state;
        Ok(())
    }

    fn emit(&mut self, event: Event<'_>) {
        for callback in &mut self.callbacks {
            callback.on_event(&event);
        }
    }

    /// Trains `model` from the current state up to `config.epochs`.
    ///
    /// `train(epoch)` yields that epoch's `(inputs, targets)` batches (shuffle by epoch for a
    /// reproducible order); `validation()` yields held-out batches (an empty iterator for
    /// none). Returns the history of all epochs run so far.
    pub fn fit<M, O, J, T, TI, V, VI>(
        &mut self,
        model: &mut M,
        optimizer: &mut O,
        objective: &J,
        mut train: T,
        mut validation: V,
    ) -> Result<&[EpochMetrics], TrainError>
    where
        M: Module,
        O: Optimizer + ?Sized,
        J: Objective + ?Sized,
        T: FnMut(usize) -> TI,
        TI: IntoIterator<Item = (Tensor, Tensor)>,
        V: FnMut() -> VI,
        VI: IntoIterator<Item = (Tensor, Tensor)>,
    {
        let base_lr = *self
            .state
            .base_learning_rate
            .get_or_insert(optimizer.learning_rate());
        if let Some(hook) = self.hook.as_mut() {
            hook.on_start(model);
        }
        while self.state.next_epoch < self.config.epochs && !self.state.stopped_early {
            let epoch = self.state.next_epoch;
            let started = Instant::now();
            let lr = match &self.config.schedule {
                Some(schedule) => schedule.learning_rate(base_lr, epoch),
                None => optimizer.learning_rate(),
            };
            optimizer.set_learning_rate(lr);
            self.emit(Event::EpochStart {
                epoch,
                learning_rate: lr,
            });

            model.train();
            let mut train_sums = Sums::default();
            for (index, (inputs, targets)) in train(epoch).into_iter().enumerate() {
                let output = model.forward(&Var::constant(inputs));
                let loss = objective.loss(&output, &targets);
                let loss_value = loss.item();
                if !loss_value.is_finite() {
                    return Err(TrainError::Diverged {
                        epoch,
                        batch: index,
                    });
                }
                let correct = objective.correct(output.value(), &targets);
                train_sums.add(
                    loss_value,
                    correct,
                    targets.shape().first().copied().unwrap_or(1),
                );
                let mut grads = loss.backward().map_err(TrainError::Autograd)?;
                drop(output);
                if let Some(hook) = self.hook.as_mut() {
                    hook.reduce_gradients(&mut grads, model);
                }
                if let Some(max_norm) = self.config.grad_clip {
                    clip_grad_norm(&mut grads, max_norm);
                }
                optimizer.step(model, &grads);
                let accuracy = train_sums.accuracy();
                self.emit(Event::Batch {
                    epoch,
                    index,
                    loss: loss_value,
                    accuracy,
                });
            }

            let val_sums = evaluate_sums(model, objective, validation());
            let mut sums = [
                train_sums.loss,
                train_sums.correct.unwrap_or(0.0),
                train_sums.count,
                val_sums.loss,
                val_sums.correct.unwrap_or(0.0),
                val_sums.count,
            ];
            if let Some(hook) = self.hook.as_mut() {
                hook.reduce_metrics(&mut sums);
            }
            let reduced = |offset: usize, had_correct: bool| Sums {
                loss: sums[offset],
                correct: had_correct.then_some(sums[offset + 1]),
                count: sums[offset + 2],
            };
            let (train_sums, val_sums) = (
                reduced(0, train_sums.correct.is_some()),
                reduced(3, val_sums.correct.is_some()),
            );
            let has_val = val_sums.count > 0.0;
            let metrics = EpochMetrics {
                epoch,
                train_loss: train_sums.mean_loss(),
                train_accuracy: train_sums.accuracy(),
                val_loss: has_val.then(|| val_sums.mean_loss()),
                val_accuracy: if has_val { val_sums.accuracy() } else { None },
                learning_rate: lr,
                seconds: started.elapsed().as_secs_f32(),
            };
            tracing::info!(
                epoch,
                train_loss = metrics.train_loss,
                train_accuracy = metrics.train_accuracy,
                val_loss = metrics.val_loss,
                val_accuracy = metrics.val_accuracy,
                "epoch finished"
            );
            self.update_early_stopping(&metrics);
            self.state.history.push(metrics.clone());
            self.state.next_epoch = epoch + 1;
            self.emit(Event::EpochEnd(&metrics));
            self.save_if_due(model, optimizer)?;
            if self.state.stopped_early {
                self.emit(Event::EarlyStopped { epoch });
            }
        }
        Ok(&self.state.history)
    }

    fn update_early_stopping(&mut self, metrics: &EpochMetrics) {
        let (Some(rule), Some(val_loss)) = (self.config.early_stopping, metrics.val_loss) else {
            return;
        };
        match self.state.best_val_loss {
            Some(best) if val_loss > best - rule.min_delta => {
                self.state.epochs_without_improvement += 1;
                self.state.stopped_early = self.state.epochs_without_improvement >= rule.patience;
            }
            _ => {
                self.state.best_val_loss = Some(val_loss);
                self.state.epochs_without_improvement = 0;
            }
        }
    }

    fn save_if_due<O: Optimizer + ?Sized>(
        &mut self,
        model: &dyn Module,
        optimizer: &O,
    ) -> Result<(), TrainError> {
        let (Some(every), Some(path)) = (
            self.config.checkpoint_every,
            self.config.checkpoint_path.clone(),
        ) else {
            return Ok(());
        };
        let primary = self.hook.as_ref().is_none_or(|h| h.is_primary());
        let due = self.state.next_epoch % every.max(1) == 0
            || self.state.next_epoch == self.config.epochs;
        if primary && due {
            let mut checkpoint = Checkpoint::of_model(model).with_optimizer(optimizer);
            checkpoint.training = Some(self.state.clone());
            checkpoint.save(&path)?;
            self.emit(Event::CheckpointSaved(&path));
        }
        Ok(())
    }
}

fn evaluate_sums<M: Module + ?Sized, J: Objective + ?Sized>(
    model: &mut M,
    objective: &J,
    batches: impl IntoIterator<Item = (Tensor, Tensor)>,
) -> Sums {
    model.eval();
    let mut sums = Sums::default();
    no_grad(|| {
        for (inputs, targets) in batches {
            let output = model.forward(&Var::constant(inputs));
            let loss = objective.loss(&output, &targets).item();
            let correct = objective.correct(output.value(), &targets);
            sums.add(loss, correct, targets.shape().first().copied().unwrap_or(1));
        }
    });
    model.train();
    sums
}

/// Loss and accuracy of a model on held-out batches (evaluation mode, nothing recorded);
/// the model is left in evaluation mode.
pub fn evaluate<M: Module + ?Sized, J: Objective + ?Sized>(
    model: &mut M,
    objective: &J,
    batches: impl IntoIterator<Item = (Tensor, Tensor)>,
) -> (f32, Option<f32>) {
    let sums = evaluate_sums(model, objective, batches);
    model.eval();
    (sums.mean_loss(), sums.accuracy())
}
