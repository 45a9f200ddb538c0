//! A model-defined training step: how a batch becomes a loss and metrics, and (for models
//! with several optimizers, such as GANs) how the parameters are updated.

use super::metrics::{Mean, Metrics};
use super::optimization::Optimization;
use super::TrainError;
use crate::params::Params;
use strata_autograd::Var;
use strata_datasets::Batch;

/// What one step reports: the loss to minimise and the batch's metrics.
#[derive(Debug)]
pub struct Step {
    /// The scalar to minimise, with its graph recorded.
    pub loss: Var,
    /// Metrics of the batch; [`Step::new`] puts the loss among them as `loss`.
    pub metrics: Metrics,
}

impl Step {
    /// The loss of a batch of `batch_size` examples; its value is reported as the metric
    /// `loss` (averaged over an epoch with the batch sizes as weights).
    pub fn new(loss: Var, batch_size: usize) -> Self {
        let metrics = Metrics::new().with("loss", Mean::of(loss.item(), batch_size));
        Self { loss, metrics }
    }

    /// Adds the metric `name` (builder style).
    pub fn with(mut self, name: &str, mean: Mean) -> Self {
        self.metrics.add(name, mean);
        self
    }

    /// Adds every metric of `metrics` (builder style).
    pub fn with_metrics(mut self, metrics: &Metrics) -> Self {
        self.metrics.merge(metrics);
        self
    }
}

/// A model the [`crate::Trainer`] can train: it says how a batch becomes a loss and metrics
/// (PyTorch Lightning's `training_step`, Burn's `TrainStep`). Everything else — epochs,
/// progress, validation, early stopping, checkpoints, exact resume, data-parallel hooks —
/// is the trainer's.
///
/// A plain module with a built-in objective needs no implementation:
/// [`crate::Module::with_objective`] pairs them. Implement it for models whose batches carry
/// several inputs or targets:
///
/// ```
/// use strata_datasets::{Batch, Fields, TensorDataset, DataLoader};
/// use strata_modules::{accuracy, cross_entropy, Adam, Dense, Module, Params, Reduction, Step,
///                      TrainConfig, TrainStep, Trainer, Var};
/// use strata_tensor::{Rng, Tensor};
///
/// /// Two views of a point, fused by addition, classified.
/// #[derive(Params)]
/// struct TwoViews { left: Dense, right: Dense, head: Dense }
///
/// impl TrainStep for TwoViews {
///     fn step(&self, batch: &Batch) -> Step {
///         let left = self.left.forward(&Var::constant(batch.inputs["left"].clone()));
///         let right = self.right.forward(&Var::constant(batch.inputs["right"].clone()));
///         let logits = self.head.forward(&left.add(&right).relu());
///         let label = &batch.targets["label"];
///         let loss = cross_entropy(&logits, label, 0.0, Reduction::Mean);
///         Step::new(loss, batch.len()).with("accuracy", accuracy(logits.value(), label))
///     }
/// }
///
/// let mut rng = Rng::new(0);
/// let (x, y) = (Tensor::rand_uniform(&[64, 1], -1.0, 1.0, &mut rng),
///               Tensor::rand_uniform(&[64, 1], -1.0, 1.0, &mut rng));
/// let label = x.gt(&y).squeeze(1); // class 1 when the left view is larger
/// let data = TensorDataset::from_fields(
///     Fields::new().with("left", x).with("right", y),
///     Fields::new().with("label", label),
/// ).unwrap();
/// let loader = DataLoader::new(data, 16).shuffle(0);
/// let mut model = TwoViews {
///     left: Dense::new(1, 16, &mut rng), right: Dense::new(1, 16, &mut rng),
///     head: Dense::new(16, 2, &mut rng),
/// };
/// let mut trainer = Trainer::new(TrainConfig { epochs: 40, ..Default::default() });
/// let history = trainer.fit(&mut model, &mut Adam::new(0.02), &loader, &loader).unwrap();
/// assert!(history.last().unwrap().val_accuracy().unwrap() > 0.9);
/// ```
pub trait TrainStep: Params + Sized {
    /// The loss and metrics of a training batch (training mode, graph recorded).
    fn step(&self, batch: &Batch) -> Step;

    /// The metrics of a validation batch. The trainer calls it in evaluation mode with
    /// nothing recorded; by default it reports [`TrainStep::step`]'s metrics.
    fn validation_step(&self, batch: &Batch) -> Metrics {
        self.step(batch).metrics
    }

    /// One optimisation step on a training batch, returning its metrics. By default it
    /// minimises [`TrainStep::step`]'s loss over every parameter. Override it to update parts
    /// of the model in turn with their own optimizers (a GAN's discriminator then generator,
    /// with [`Optimization::minimize_group`] and [`crate::OptimizerGroups`]).
    fn optimize(
        &mut self,
        batch: &Batch,
        optimization: &mut Optimization<'_>,
    ) -> Result<Metrics, TrainError> {
        let Step { loss, metrics } = tracing::info_span!("forward").in_scope(|| self.step(batch));
        optimization.minimize(self, loss)?;
        Ok(metrics)
    }
}
