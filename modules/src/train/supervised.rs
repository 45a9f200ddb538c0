//! A module paired with an objective: the training step of every one-input, one-target model.

use super::objective::Objective;
use super::step::{Step, TrainStep};
use crate::module::Module;
use crate::params::{Params, Visitor, VisitorMut};
use strata_autograd::Var;
use strata_datasets::Batch;

/// `model` trained on `objective`: the output for a batch's (first) input, scored against its
/// (first) target. Made by [`Module::with_objective`].
///
/// ```
/// use strata_datasets::{DataLoader, TensorDataset};
/// use strata_modules::{Adam, Dense, Module, Regression, TrainConfig, Trainer};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let x = Tensor::rand_uniform(&[32, 2], -1.0, 1.0, &mut rng);
/// let y = x.sum_axes(&[1], true); // y = x0 + x1
/// let data = DataLoader::new(TensorDataset::new(x, y).unwrap(), 8);
/// let mut line = Dense::new(2, 1, &mut rng);
/// let mut trainer = Trainer::new(TrainConfig { epochs: 100, ..Default::default() });
/// trainer.fit(&mut line.with_objective(Regression), &mut Adam::new(0.05), &data, &data).unwrap();
/// let last = trainer.state().history.last().unwrap();
/// assert!(last.validation["mae"] < 0.05);
/// ```
pub struct Supervised<'a, O> {
    model: &'a mut dyn Module,
    objective: O,
}

impl<'a, O: Objective> Supervised<'a, O> {
    /// `model` scored by `objective`.
    pub fn new(model: &'a mut dyn Module, objective: O) -> Self {
        Self { model, objective }
    }
}

/// The model's parameters under the model's own names, so that checkpoints of the pair and
/// of the model alone are interchangeable.
impl<O> Params for Supervised<'_, O> {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        self.model.visit(prefix, visitor);
    }

    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        self.model.visit_mut(prefix, visitor);
    }

    fn set_training(&mut self, training: bool) {
        self.model.set_training(training);
    }
}

impl<O: Objective> TrainStep for Supervised<'_, O> {
    fn step(&self, batch: &Batch) -> Step {
        let output = self.model.forward(&Var::constant(batch.input().clone()));
        let target = batch.target();
        let loss = self.objective.loss(&output, target);
        Step::new(loss, batch.len()).with_metrics(&self.objective.metrics(output.value(), target))
    }
}
