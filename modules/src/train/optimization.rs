//! What a training step uses to update parameters: differentiate a loss, let the step hook
//! reduce the gradients (data-parallel), clip them, and step the optimizer.

use super::events::StepHook;
use super::TrainError;
use crate::optim::{clip_grad_norm, in_group, Optimizer};
use crate::params::Params;
use strata_autograd::Var;
use strata_datasets::Batch;

/// The optimizer side of one training batch, handed to [`super::TrainStep::optimize`].
pub struct Optimization<'a> {
    pub(super) optimizer: &'a mut dyn Optimizer,
    pub(super) hook: Option<&'a mut dyn StepHook>,
    pub(super) grad_clip: Option<f32>,
    pub(super) batch: &'a Batch,
    pub(super) epoch: usize,
    pub(super) index: usize,
}

impl Optimization<'_> {
    /// Differentiates `loss` and updates every parameter of `model` it reaches. The loss (and
    /// with it the recorded graph) is consumed first, so the update writes the parameters in
    /// place instead of copying them. An error when the loss is not finite (naming a batch
    /// field that holds NaN or infinity, if one does) or cannot be differentiated.
    pub fn minimize(&mut self, model: &mut dyn Params, loss: Var) -> Result<(), TrainError> {
        self.update(model, loss, None)
    }

    /// The same, restricted to the parameters of `group` (those named `group` or
    /// `group.…`): parameters outside it keep their values even when `loss` reaches them.
    /// With [`crate::OptimizerGroups`], only the group's own optimizer steps.
    ///
    /// This is how adversarial training alternates: the discriminator's loss updates the
    /// discriminator, then the generator's loss (through the updated discriminator) updates
    /// the generator alone.
    pub fn minimize_group(
        &mut self,
        model: &mut dyn Params,
        loss: Var,
        group: &str,
    ) -> Result<(), TrainError> {
        self.update(model, loss, Some(group))
    }

    fn update(
        &mut self,
        model: &mut dyn Params,
        loss: Var,
        group: Option<&str>,
    ) -> Result<(), TrainError> {
        if !loss.item().is_finite() {
            return Err(self.non_finite_loss());
        }
        let hook = &mut self.hook;
        let mut grads = tracing::info_span!("backward").in_scope(|| {
            let grads = match hook.as_deref_mut() {
                Some(hook) => hook.backward(&loss, &*model),
                None => loss.backward(),
            };
            drop(loss);
            grads.map_err(TrainError::Autograd)
        })?;
        if let Some(group) = group {
            for (name, param) in model.named_parameters() {
                if !in_group(&name, group) {
                    grads.remove(&param);
                }
            }
        }
        if let Some(hook) = self.hook.as_deref_mut() {
            let _span = tracing::info_span!("reduce_gradients").entered();
            hook.reduce_gradients(&mut grads, model);
        }
        let _span = tracing::info_span!("optimizer").entered();
        if let Some(max_norm) = self.grad_clip {
            clip_grad_norm(&mut grads, max_norm);
        }
        self.optimizer.step(model, &grads);
        Ok(())
    }

    /// The error for a loss that is NaN or infinite: bad data if the batch holds such a value,
    /// divergence otherwise.
    fn non_finite_loss(&self) -> TrainError {
        let (epoch, batch) = (self.epoch, self.index);
        let fields = self.batch.inputs.iter().chain(self.batch.targets.iter());
        for field in fields {
            if field.value().values().iter().any(|x| !x.is_finite()) {
                return TrainError::NonFiniteBatch {
                    epoch,
                    batch,
                    field: field.name().to_string(),
                };
            }
        }
        TrainError::Diverged { epoch, batch }
    }
}
