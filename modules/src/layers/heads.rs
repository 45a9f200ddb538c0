//! Probabilistic output heads: a dense layer plus the link function that turns its scores into
//! the parameters of a distribution over the answer.
//!
//! - multi-label: dense → K, a sigmoid per component: K independent Bernoullis; binary is
//!   its one-component case (dense → 1, the Bernoulli parameter `p = P(y = 1)`);
//! - multi-class: dense → K, softmax: one categorical distribution (sums to 1).
//!
//! Each head's `forward` returns logits (train with the paired loss, which is numerically
//! stable on logits); `probabilities` and `predict` are for inference.

use crate::layers::Dense;
use crate::loss::{bce_with_logits, cross_entropy};
use crate::module::Module;
use crate::Params;
use strata_autograd::{no_grad, Var};
use strata_tensor::{Result, Rng, Tensor};

/// Independent yes/no answers: logits `[N, K]`, a sigmoid per component (K Bernoullis);
/// with one component ([`MultiLabelHead::binary`]) a single yes/no answer, `p = P(y = 1)`.
///
/// ```
/// use strata_modules::{Module, MultiLabelHead, Var};
/// use strata_tensor::{Rng, Tensor};
/// let head = MultiLabelHead::binary(3, &mut Rng::new(0));
/// let x = Var::constant(Tensor::ones(&[2, 3]));
/// assert_eq!(head.probabilities(&x).shape(), &[2, 1]);
/// ```
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

    /// A head with one component: a single yes/no answer, logits `[N, 1]`.
    pub fn binary(in_features: usize, rng: &mut Rng) -> Self {
        Self::new(in_features, 1, rng)
    }

    /// `P(y_k = 1)` per example and component, `[N, K]`.
    pub fn probabilities(&self, x: &Var) -> Tensor {
        no_grad(|| self.forward(x).value().sigmoid())
    }

    /// Predicted 0/1 labels per component (1 where `p > 0.5`), `[N, K]`.
    pub fn predict(&self, x: &Var) -> Tensor {
        no_grad(|| self.forward(x).value().gt(&Tensor::scalar(0.0)))
    }

    /// The paired loss: binary cross-entropy per component on the logits against 0/1
    /// targets `[N, K]`, averaged.
    pub fn loss(&self, logits: &Var, targets: &Tensor) -> Var {
        bce_with_logits(logits, targets)
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
        cross_entropy(logits, targets)
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
