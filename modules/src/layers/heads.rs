//! Probabilistic output heads: a dense layer plus the link function that turns its scores into
//! the parameters of a distribution over the answer.
//!
//! - binary: dense → 1, sigmoid: the Bernoulli parameter `p = P(y = 1)`;
//! - multi-label: dense → K, a sigmoid per component: K independent Bernoullis;
//! - multi-class: dense → K, softmax: one categorical distribution (sums to 1).
//!
//! Each head's `forward` returns logits (train with the paired loss, which is numerically
//! stable on logits); `probabilities` and `predict` are for inference.

use crate::layers::Dense;
use crate::loss::{bce_with_logits, cross_entropy, Reduction};
use crate::module::Module;
use crate::Params;
use strata_autograd::{no_grad, Var};
use strata_tensor::{Result, Rng, Tensor};

/// Yes/no answers: logits `[N, 1]`, `p = sigmoid(logit)`.
#[derive(Params)]
pub struct BinaryHead {
    /// The scoring layer, `in → 1`.
    pub dense: Dense,
}

impl BinaryHead {
    /// A head over `in_features` inputs.
    pub fn new(in_features: usize, rng: &mut Rng) -> Self {
        Self {
            dense: Dense::new(in_features, 1, rng),
        }
    }

    /// `P(y = 1)` per example, `[N, 1]`.
    pub fn probabilities(&self, x: &Var) -> Tensor {
        no_grad(|| self.forward(x).value().sigmoid())
    }

    /// Predicted labels (1 where `p > 0.5`), `[N, 1]`.
    pub fn predict(&self, x: &Var) -> Tensor {
        no_grad(|| self.forward(x).value().gt(&Tensor::scalar(0.0)))
    }

    /// The paired loss: binary cross-entropy on the logits against 0/1 targets `[N, 1]`.
    pub fn loss(&self, logits: &Var, targets: &Tensor) -> Var {
        bce_with_logits(logits, &Var::constant(targets.clone()), Reduction::Mean)
    }
}

impl Module for BinaryHead {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        self.dense.forward(x)
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        self.dense.try_forward(x)
    }
}

/// Several independent yes/no answers: logits `[N, K]`, a sigmoid per component.
#[derive(Params)]
pub struct MultiLabelHead {
    /// The scoring layer, `in → K`.
    pub dense: Dense,
}

impl MultiLabelHead {
    /// A head with `labels` components.
    pub fn new(in_features: usize, labels: usize, rng: &mut Rng) -> Self {
        Self {
            dense: Dense::new(in_features, labels, rng),
        }
    }

    /// `P(y_k = 1)` per example and component, `[N, K]`.
    pub fn probabilities(&self, x: &Var) -> Tensor {
        no_grad(|| self.forward(x).value().sigmoid())
    }

    /// Predicted 0/1 labels per component, `[N, K]`.
    pub fn predict(&self, x: &Var) -> Tensor {
        no_grad(|| self.forward(x).value().gt(&Tensor::scalar(0.0)))
    }

    /// The paired loss: binary cross-entropy per component on the logits, averaged.
    pub fn loss(&self, logits: &Var, targets: &Tensor) -> Var {
        bce_with_logits(logits, &Var::constant(targets.clone()), Reduction::Mean)
    }
}

impl Module for MultiLabelHead {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        self.dense.forward(x)
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        self.dense.try_forward(x)
    }
}

/// One answer among K classes: logits `[N, K]`, softmax probabilities.
#[derive(Params)]
pub struct MultiClassHead {
    /// The scoring layer, `in → K`.
    pub dense: Dense,
}

impl MultiClassHead {
    /// A head over `classes` classes.
    pub fn new(in_features: usize, classes: usize, rng: &mut Rng) -> Self {
        Self {
            dense: Dense::new(in_features, classes, rng),
        }
    }

    /// Class probabilities, `[N, K]`, each row summing to 1.
    pub fn probabilities(&self, x: &Var) -> Tensor {
        no_grad(|| self.forward(x).softmax(-1).value().clone())
    }

    /// The most probable class per example, `[N]`.
    pub fn predict(&self, x: &Var) -> Tensor {
        no_grad(|| self.forward(x).value().argmax(-1, false))
    }

    /// The paired loss: cross-entropy on the logits against class ids `[N]`.
    pub fn loss(&self, logits: &Var, targets: &Tensor) -> Var {
        cross_entropy(logits, targets, 0.0, Reduction::Mean)
    }
}

impl Module for MultiClassHead {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        self.dense.forward(x)
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        self.dense.try_forward(x)
    }
}
