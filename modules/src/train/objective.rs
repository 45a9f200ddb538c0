//! What a supervised model minimises, and the metrics it reports beside the loss.

use super::metrics::{accuracy, binary_accuracy, mean_absolute_error, Metrics};
use crate::loss::{bce_with_logits, mse_loss, CrossEntropyLoss};
use strata_autograd::Var;
use strata_tensor::Tensor;

/// A loss over a batch of outputs and targets, plus the metrics worth reporting beside it
/// (accuracy, mean absolute error…).
pub trait Objective: Send + Sync {
    /// The scalar loss of a batch.
    fn loss(&self, output: &Var, target: &Tensor) -> Var;

    /// Metrics of the batch besides the loss (none by default).
    fn metrics(&self, output: &Tensor, target: &Tensor) -> Metrics {
        let _ = (output, target);
        Metrics::new()
    }
}

/// Any closure `(output, target) -> loss` is an objective (without metrics).
impl<F: Fn(&Var, &Tensor) -> Var + Send + Sync> Objective for F {
    fn loss(&self, output: &Var, target: &Tensor) -> Var {
        self(output, target)
    }
}

/// Multi-class classification: cross-entropy on logits `[N, C]` against class ids `[N]`;
/// reports `accuracy` (the arg-max logit is the target class).
#[derive(Debug, Clone, Copy, Default)]
pub struct Classification {
    /// Label smoothing ε (0 for none).
    pub label_smoothing: f32,
}

impl Objective for Classification {
    fn loss(&self, output: &Var, target: &Tensor) -> Var {
        CrossEntropyLoss::new()
            .label_smoothing(self.label_smoothing)
            .forward(output, target)
    }

    fn metrics(&self, output: &Tensor, target: &Tensor) -> Metrics {
        Metrics::new().with("accuracy", accuracy(output, target))
    }
}

/// Binary (or multi-label) classification: BCE on logits against 0/1 targets of the same
/// shape; reports `accuracy` (the logit's sign matches the target), per entry.
#[derive(Debug, Clone, Copy, Default)]
pub struct BinaryClassification;

impl Objective for BinaryClassification {
    fn loss(&self, output: &Var, target: &Tensor) -> Var {
        bce_with_logits(output, target)
    }

    fn metrics(&self, output: &Tensor, target: &Tensor) -> Metrics {
        Metrics::new().with("accuracy", binary_accuracy(output, target))
    }
}

/// Regression: mean squared error as the loss; reports the mean absolute error `mae`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Regression;

impl Objective for Regression {
    fn loss(&self, output: &Var, target: &Tensor) -> Var {
        mse_loss(output, target)
    }

    fn metrics(&self, output: &Tensor, target: &Tensor) -> Metrics {
        Metrics::new().with("mae", mean_absolute_error(output, target))
    }
}
