//! Binary cross-entropy, on probabilities and on logits, with PyTorch's options.

use super::{reduce, LossTarget, Reduction};
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Tensor, TensorError};

/// `option` broadcast to `shape`, or an error naming the option.
fn broadcast(op: &'static str, name: &str, option: &Tensor, shape: &[usize]) -> Result<Tensor> {
    option.try_broadcast_to(shape).map_err(|_| {
        TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!(
                "{name} {:?} does not broadcast to the input {shape:?}",
                option.shape()
            ),
        )
    })
}

/// `loss · weight`, the weight broadcast to the loss (PyTorch's `weight` of both BCEs).
#[track_caller]
fn weighted(op: &'static str, loss: Var, weight: Option<&Tensor>) -> Result<Var> {
    Ok(match weight {
        Some(w) => loss.mul(&Var::constant(broadcast(op, "weight", w, loss.shape())?)),
        None => loss,
    })
}

/// Binary cross-entropy on probabilities `p ∈ [0, 1]`, `−w·[y·ln p + (1 − y)·ln(1 − p)]`
/// with the logarithms floored at −100 as PyTorch does (the op [`Var::bce_terms`]; prefer
/// [`BceWithLogitsLoss`]).
///
/// ```
/// use strata_modules::{BceLoss, Reduction, Var};
/// use strata_tensor::Tensor;
/// let p = Var::leaf(Tensor::from_vec(vec![0.5, 0.5], &[2]));
/// let y = Var::constant(Tensor::from_vec(vec![1.0, 0.0], &[2]));
/// let weight = Tensor::from_vec(vec![2.0, 0.0], &[2]);
/// let loss = BceLoss::new().weight(weight).reduction(Reduction::Sum).forward(&p, &y);
/// assert!((loss.item() - 2.0 * 2f32.ln()).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Default)]
pub struct BceLoss {
    weight: Option<Tensor>,
    reduction: Reduction,
}

impl BceLoss {
    /// No weights, `Mean`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A weight per element, broadcast to the input (PyTorch's `weight`).
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }

    /// How the per-element losses are combined (`Mean` by default).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The loss of `probabilities` against `target`, both of one shape.
    #[track_caller]
    pub fn forward(&self, probabilities: &Var, target: &impl LossTarget) -> Var {
        expect_ok(self.try_forward(probabilities, target))
    }

    /// Fallible [`BceLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, p: &Var, target: &impl LossTarget) -> Result<Var> {
        let loss = p.try_bce_terms(&target.to_var())?;
        let loss = weighted("bce_loss", loss, self.weight.as_ref())?;
        Ok(reduce(loss, self.reduction))
    }
}

/// Binary cross-entropy on logits with PyTorch's options,
/// `w·[pw·y·softplus(−x) + (1 − y)·softplus(x)]` (the op [`Var::bce_with_logits_terms`]):
/// stable for any finite logit (no `log(0)`), with gradients for the logits and the targets.
///
/// ```
/// use strata_modules::{BceWithLogitsLoss, Reduction, Var};
/// use strata_tensor::Tensor;
/// // Two labels, the second positive class counted 3 times: logit 0 costs ln 2 per count.
/// let x = Var::leaf(Tensor::zeros(&[1, 2]));
/// let y = Var::constant(Tensor::from_vec(vec![0.0, 1.0], &[1, 2]));
/// let loss = BceWithLogitsLoss::new()
///     .pos_weight(Tensor::from_vec(vec![1.0, 3.0], &[2]))
///     .reduction(Reduction::Sum)
///     .forward(&x, &y);
/// assert!((loss.item() - 4.0 * 2f32.ln()).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Default)]
pub struct BceWithLogitsLoss {
    weight: Option<Tensor>,
    pos_weight: Option<Tensor>,
    reduction: Reduction,
}

impl BceWithLogitsLoss {
    /// No weights, `Mean`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A weight per element, broadcast to the logits (PyTorch's `weight`).
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }

    /// A weight of the positive term, broadcast to the logits: `[C]` weighs each of `C` labels
    /// along the last axis (PyTorch's `pos_weight`; above 1 trades precision for recall).
    pub fn pos_weight(mut self, pos_weight: Tensor) -> Self {
        self.pos_weight = Some(pos_weight);
        self
    }

    /// How the per-element losses are combined (`Mean` by default).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The loss of `logits` against `target` (0/1 labels or probabilities), both of one shape.
    #[track_caller]
    pub fn forward(&self, logits: &Var, target: &impl LossTarget) -> Var {
        expect_ok(self.try_forward(logits, target))
    }

    /// Fallible [`BceWithLogitsLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, logits: &Var, target: &impl LossTarget) -> Result<Var> {
        const OP: &str = "bce_with_logits";
        let target = target.to_var();
        let loss = logits.try_bce_with_logits_terms(&target, self.pos_weight.as_ref())?;
        let loss = weighted(OP, loss, self.weight.as_ref())?;
        Ok(reduce(loss, self.reduction))
    }
}

/// Binary cross-entropy on probabilities, averaged: [`BceLoss`] with its defaults.
#[track_caller]
pub fn bce_loss(probabilities: &Var, target: &impl LossTarget) -> Var {
    expect_ok(try_bce_loss(probabilities, target))
}

/// Fallible [`bce_loss`].
#[track_caller]
pub fn try_bce_loss(probabilities: &Var, target: &impl LossTarget) -> Result<Var> {
    BceLoss::new().try_forward(probabilities, target)
}

/// Binary cross-entropy on logits, `softplus(x) − x·y`, averaged: [`BceWithLogitsLoss`] with
/// its defaults; gradient `sigmoid(x) − y`.
///
/// ```
/// use strata_modules::{bce_with_logits, Var};
/// use strata_tensor::Tensor;
/// let x = Var::leaf(Tensor::from_vec(vec![100.0, -100.0], &[2]));
/// let loss = bce_with_logits(&x, &Tensor::zeros(&[2]));
/// assert!((loss.item() - 50.0).abs() < 1e-3);
/// ```
#[track_caller]
pub fn bce_with_logits(logits: &Var, target: &impl LossTarget) -> Var {
    expect_ok(try_bce_with_logits(logits, target))
}

/// Fallible [`bce_with_logits`].
#[track_caller]
pub fn try_bce_with_logits(logits: &Var, target: &impl LossTarget) -> Result<Var> {
    BceWithLogitsLoss::new().try_forward(logits, target)
}
