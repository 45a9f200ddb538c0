//! What the training loop minimises, and how it counts correct answers.

use crate::loss::{bce_with_logits, cross_entropy, mse_loss, Reduction};
use strata_autograd::Var;
use strata_tensor::Tensor;

/// A loss over a batch, plus an optional count of correct predictions (for accuracy).
pub trait Objective {
    /// The scalar loss of a batch.
    fn loss(&self, output: &Var, target: &Tensor) -> Var;

    /// Number of correct predictions in the batch, if the task has a notion of correct.
    fn correct(&self, output: &Tensor, target: &Tensor) -> Option<usize> {
        let _ = (output, target);
        None
    }
}

/// Any closure `(output, target) -> loss` is an objective (without accuracy).
impl<F: Fn(&Var, &Tensor) -> Var> Objective for F {
    fn loss(&self, output: &Var, target: &Tensor) -> Var {
        self(output, target)
    }
}

/// Multi-class classification: cross-entropy on logits `[N, C]` against class ids `[N]`;
/// a prediction is correct when the arg-max logit is the target class.
#[derive(Debug, Clone, Copy, Default)]
pub struct Classification {
    /// Label smoothing ε (0 for none).
    pub label_smoothing: f32,
}

impl Objective for Classification {
    fn loss(&self, output: &Var, target: &Tensor) -> Var {
        cross_entropy(output, target, self.label_smoothing, Reduction::Mean)
    }

    fn correct(&self, output: &Tensor, target: &Tensor) -> Option<usize> {
        let predicted = output.argmax(-1, false);
        Some(count_equal(&predicted, target))
    }
}

/// Binary (or multi-label) classification: BCE on logits against 0/1 targets of the same
/// shape; a prediction is correct when the logit's sign matches the target.
#[derive(Debug, Clone, Copy, Default)]
pub struct BinaryClassification;

impl Objective for BinaryClassification {
    fn loss(&self, output: &Var, target: &Tensor) -> Var {
        bce_with_logits(output, &Var::constant(target.clone()), Reduction::Mean)
    }

    fn correct(&self, output: &Tensor, target: &Tensor) -> Option<usize> {
        Some(count_equal(&output.gt(&Tensor::scalar(0.0)), target))
    }
}

/// Regression: mean squared error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Regression;

impl Objective for Regression {
    fn loss(&self, output: &Var, target: &Tensor) -> Var {
        mse_loss(output, &Var::constant(target.clone()), Reduction::Mean)
    }
}

fn count_equal(a: &Tensor, b: &Tensor) -> usize {
    a.values()
        .iter()
        .zip(b.values().iter())
        .filter(|(x, y)| x == y)
        .count()
}
