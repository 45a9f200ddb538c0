//! One training loop for every model: epochs over batches from a [`BatchSource`], a
//! model-defined [`TrainStep`], validation, events for callbacks (a [`ProgressBar`] among
//! them), early stopping, periodic checkpoints, exact resumption, and the [`StepHook`] that
//! data-parallel training plugs into.
//!
//! Where a step's time goes is told through `tracing` spans (level INFO, free when no
//! subscriber is installed): `epoch` holds `data` (loading a batch), `step` and `validation`
//! and `checkpoint`; `step` holds `forward` (in the default [`TrainStep::optimize`]),
//! `backward`, `reduce_gradients` (with a [`StepHook`]) and `optimizer`.

mod events;
mod metrics;
mod objective;
mod optimization;
#[cfg(feature = "progress")]
mod progress;
mod source;
mod state;
mod step;
mod supervised;

pub use events::{Callback, Event, StepHook};
pub use metrics::{
    accuracy, binary_accuracy, mean_absolute_error, mean_squared_error, Mean, MetricValues, Metrics,
};
pub use objective::{BinaryClassification, Classification, Objective, Regression};
pub use optimization::Optimization;
#[cfg(feature = "progress")]
pub use progress::ProgressBar;
pub use source::{BatchSource, IntoBatch};
pub use state::{EarlyStopping, EpochMetrics, TrainingState};
pub use step::{Step, TrainStep};
pub use supervised::Supervised;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::optim::{LrSchedule, Optimizer};
use crate::params::Params;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_autograd::{no_grad, AutogradError};
use strata_datasets::DataError;

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
    /// …to this file (overwritten atomically)…
    pub checkpoint_path: Option<PathBuf>,
    /// …with this metadata (e.g. what rebuilds the model: see [`Checkpoint::metadata`]).
    pub checkpoint_metadata: BTreeMap<String, String>,
    /// Learning rate per epoch, from the optimizer's initial rate.
    pub schedule: Option<Arc<dyn LrSchedule>>,
    /// Stop once a `fit` call has trained this long (Lightning's `max_time`): the batch
    /// running when the time is up is the epoch's last, and that shortened epoch is validated,
    /// recorded and checkpointed as any other. For comparisons at equal training time; not
    /// with a [`StepHook`], whose ranks would stop at different batches.
    pub time_limit: Option<Duration>,
}

/// Why training stopped with an error.
#[derive(Debug)]
#[non_exhaustive]
pub enum TrainError {
    /// The loss became NaN or infinite while the batch itself was finite.
    Diverged {
        /// Epoch of the bad batch.
        epoch: usize,
        /// Index of the bad batch.
        batch: usize,
    },
    /// The loss became NaN or infinite because a batch field holds NaN or infinity.
    NonFiniteBatch {
        /// Epoch of the bad batch.
        epoch: usize,
        /// Index of the bad batch.
        batch: usize,
        /// The input or target field holding it.
        field: String,
    },
    /// Loading a batch failed.
    Data(DataError),
    /// Differentiation failed (e.g. the loss does not depend on any parameter).
    Autograd(AutogradError),
    /// Saving or loading a checkpoint failed.
    Checkpoint(CheckpointError),
    /// The settings cannot work together (named in the message).
    Config(String),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Diverged { epoch, batch } => write!(
                f,
                "training diverged: the loss of batch {batch} in epoch {epoch} is not finite \
                 while the batch is (lower the learning rate?)"
            ),
            Self::NonFiniteBatch {
                epoch,
                batch,
                field,
            } => write!(
                f,
                "training: batch {batch} of epoch {epoch} holds NaN or infinity in `{field}`, \
                 so its loss is not finite: check the data"
            ),
            Self::Data(err) => write!(f, "training: loading a batch failed: {err}"),
            Self::Autograd(err) => write!(f, "training: {err}"),
            Self::Checkpoint(err) => write!(f, "training: {err}"),
            Self::Config(problem) => write!(f, "training settings: {problem}"),
        }
    }
}

impl std::error::Error for TrainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Data(err) => Some(err),
            Self::Autograd(err) => Some(err),
            Self::Checkpoint(err) => Some(err),
            Self::Diverged { .. } | Self::NonFiniteBatch { .. } | Self::Config(_) => None,
        }
    }
}

impl From<CheckpointError> for TrainError {
    fn from(err: CheckpointError) -> Self {
        Self::Checkpoint(err)
    }
}

impl From<DataError> for TrainError {
    fn from(err: DataError) -> Self {
        Self::Data(err)
    }
}

/// Runs epochs of training.
///
/// ```
/// use strata_datasets::{DataLoader, TensorDataset};
/// use strata_modules::{Adam, Classification, Dense, Module, Relu, Sequential, TrainConfig, Trainer};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let mut model = Sequential::new().push(Dense::new(2, 8, &mut rng)).push(Relu).push(Dense::new(8, 2, &mut rng));
/// // Class 1 when x0 > x1.
/// let x = Tensor::rand_uniform(&[64, 2], -1.0, 1.0, &mut rng);
/// let y = x.narrow(1, 0, 1).gt(&x.narrow(1, 1, 1)).squeeze(1);
/// let data = DataLoader::new(TensorDataset::new(x, y).unwrap(), 16).shuffle(1);
/// let mut trainer = Trainer::new(TrainConfig { epochs: 30, ..Default::default() });
/// let history = trainer
///     .fit(&mut model.with_objective(Classification::default()), &mut Adam::new(0.05), &data, &data)
///     .unwrap();
/// assert!(history.last().unwrap().val_accuracy().unwrap() > 0.9);
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

    /// Adds a callback (builder style), e.g. a [`ProgressBar`].
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
    /// that `fit` continues exactly where the saved run was. On any error, model, optimizer
    /// and trainer are left exactly as they were.
    pub fn resume_from(
        &mut self,
        path: impl AsRef<Path>,
        model: &mut dyn Params,
        optimizer: &mut dyn Optimizer,
    ) -> Result<(), CheckpointError> {
        let checkpoint = Checkpoint::load(path)?;
        let state = checkpoint.training.clone().ok_or_else(|| {
            CheckpointError::Mismatch("the checkpoint holds no training-loop state".into())
        })?;
        let (model_before, optimizer_before) = (Checkpoint::of_model(model), optimizer.state());
        let applied = checkpoint
            .apply_to_optimizer(optimizer, model)
            .and_then(|()| checkpoint.apply_to(model));
        if let Err(err) = applied {
            // Put back what a partial application may have changed; both states were taken
            // from these very objects, so restoring them cannot fail.
            let _ = model_before.apply_to(model);
            let _ = optimizer.load_state(&optimizer_before);
            return Err(err);
        }
        self.state = state;
        Ok(())
    }

    fn emit(&mut self, event: Event<'_>) {
        for callback in &mut self.callbacks {
            callback.on_event(&event);
        }
    }

    /// Trains `model` from the current state up to `config.epochs` and returns the history
    /// of all epochs run so far.
    ///
    /// Each epoch takes `train`'s batches for that epoch number (a [`DataLoader`] reshuffles
    /// by it, so a resumed run sees the same order) through [`TrainStep::optimize`], then
    /// `validation`'s through [`TrainStep::validation_step`] in evaluation mode (`()` for
    /// none). A batch that fails to load ends training with [`TrainError::Data`]. With a
    /// [`TrainConfig::time_limit`], training also ends when the time is up.
    ///
    /// [`DataLoader`]: strata_datasets::DataLoader
    pub fn fit<M: TrainStep>(
        &mut self,
        model: &mut M,
        optimizer: &mut dyn Optimizer,
        mut train: impl BatchSource,
        mut validation: impl BatchSource,
    ) -> Result<&[EpochMetrics], TrainError> {
        if self.config.time_limit.is_some() && self.hook.is_some() {
            return Err(TrainError::Config(
                "a time limit with a step hook: data-parallel ranks would stop at different \
                 batches; limit the epochs instead"
                    .into(),
            ));
        }
        let deadline = self.config.time_limit.map(|limit| Instant::now() + limit);
        let out_of_time = || deadline.is_some_and(|deadline| Instant::now() >= deadline);
        let base_lr = *self
            .state
            .base_learning_rate
            .get_or_insert(optimizer.learning_rate());
        if let Some(hook) = self.hook.as_mut() {
            hook.on_start(model);
        }
        while self.state.next_epoch < self.config.epochs
            && !self.state.stopped_early
            && !out_of_time()
        {
            let epoch = self.state.next_epoch;
            let _epoch_span = tracing::info_span!("epoch", epoch).entered();
            let started = Instant::now();
            let learning_rate = match &self.config.schedule {
                Some(schedule) => {
                    let scheduled = schedule.learning_rate(base_lr, epoch);
                    optimizer.set_learning_rate(scheduled);
                    scheduled
                }
                None => optimizer.learning_rate(),
            };
            self.emit(Event::EpochStart {
                epoch,
                epochs: self.config.epochs,
                learning_rate,
                batches: train.batches_per_epoch(),
            });

            model.train();
            let mut train_sums = Metrics::new();
            let mut batches = train.batches(epoch).enumerate();
            while let Some((index, batch)) = tracing::info_span!("data").in_scope(|| batches.next())
            {
                let batch = batch?;
                let _step_span = tracing::info_span!("step", index).entered();
                let mut optimization = Optimization {
                    optimizer: &mut *optimizer,
                    hook: self.hook.as_deref_mut().map(|h| h as &mut dyn StepHook),
                    grad_clip: self.config.grad_clip,
                    batch: &batch,
                    epoch,
                    index,
                };
                let metrics = model.optimize(&batch, &mut optimization)?;
                train_sums.merge(&metrics);
                self.emit(Event::Batch {
                    epoch,
                    index,
                    metrics: &metrics,
                    epoch_so_far: &train_sums,
                });
                if out_of_time() {
                    tracing::info!(epoch, batches = index + 1, "time limit reached");
                    break;
                }
            }
            let mut val_sums = tracing::info_span!("validation")
                .in_scope(|| validate(model, &mut validation, epoch))?;
            model.train();
            self.reduce_across_ranks(&mut train_sums, &mut val_sums);

            let metrics = EpochMetrics {
                epoch,
                train: train_sums.values(),
                validation: val_sums.values(),
                learning_rate,
                seconds: started.elapsed().as_secs_f32(),
            };
            tracing::info!(
                epoch,
                train = ?metrics.train,
                validation = ?metrics.validation,
                "epoch finished"
            );
            self.state
                .track_improvement(self.config.early_stopping, &metrics);
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

    /// Lets the step hook add up the epoch's metric sums over the ranks.
    fn reduce_across_ranks(&mut self, train: &mut Metrics, validation: &mut Metrics) {
        let Some(hook) = self.hook.as_mut() else {
            return;
        };
        let mut sums = train.to_sums();
        let train_len = sums.len();
        sums.extend(validation.to_sums());
        hook.reduce_metrics(&mut sums);
        train.set_sums(&sums[..train_len]);
        validation.set_sums(&sums[train_len..]);
    }

    fn save_if_due(
        &mut self,
        model: &dyn Params,
        optimizer: &dyn Optimizer,
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
            checkpoint.metadata = self.config.checkpoint_metadata.clone();
            tracing::info_span!("checkpoint").in_scope(|| checkpoint.save(&path))?;
            self.emit(Event::CheckpointSaved(&path));
        }
        Ok(())
    }
}

/// The summed validation metrics of `model` over `source`'s batches of `epoch`, in evaluation
/// mode with nothing recorded (the model is left in evaluation mode).
fn validate<M: TrainStep>(
    model: &mut M,
    source: &mut impl BatchSource,
    epoch: usize,
) -> Result<Metrics, DataError> {
    model.eval();
    no_grad(|| {
        let mut sums = Metrics::new();
        for batch in source.batches(epoch) {
            sums.merge(&model.validation_step(&batch?));
        }
        Ok(sums)
    })
}

/// The validation metrics of `model` on held-out batches (evaluation mode, nothing
/// recorded), by name; the model is left in evaluation mode.
///
/// ```
/// use strata_datasets::{DataLoader, TensorDataset};
/// use strata_modules::{evaluate, Dense, Module, Regression};
/// use strata_tensor::{Rng, Tensor};
/// let mut line = Dense::new(1, 1, &mut Rng::new(0));
/// let data = TensorDataset::new(Tensor::zeros(&[4, 1]), Tensor::ones(&[4, 1])).unwrap();
/// let bias = line.bias.as_ref().unwrap().item();
/// let metrics = evaluate(&mut line.with_objective(Regression), &DataLoader::new(data, 2)).unwrap();
/// assert!((metrics["mae"] - (1.0 - bias).abs()).abs() < 1e-6);
/// ```
pub fn evaluate<M: TrainStep>(
    model: &mut M,
    mut batches: impl BatchSource,
) -> Result<MetricValues, DataError> {
    Ok(validate(model, &mut batches, 0)?.values())
}
