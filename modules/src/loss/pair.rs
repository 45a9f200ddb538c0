//! Losses over labelled pairs of embeddings: the cosine-embedding loss and the contrastive
//! loss.

use super::{reduce, LossTarget, Reduction};
use strata_autograd::check_input_target_shapes;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Tensor, TensorError};

/// Small constant inside the square root of the contrastive loss's distance, so that its
/// gradient stays finite at 0.
const DISTANCE_EPS: f32 = 1e-6;

/// PyTorch's cosine-embedding loss adds this to each squared magnitude.
const MAGNITUDE_EPS: f32 = 1e-12;

/// Cosine-embedding loss over rows of `[N, D]` pairs with labels `y = ±1` `[N]`, PyTorch's
/// `CosineEmbeddingLoss`: `1 − cos(a, b)` where `y = 1`, `max(0, cos(a, b) − margin)` where
/// `y = −1`, with `cos = a·b / √((‖a‖² + 1e-12)(‖b‖² + 1e-12))`. Other labels are refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct CosineEmbeddingLoss {
    margin: f32,
    reduction: Reduction,
}

impl CosineEmbeddingLoss {
    /// PyTorch's defaults: margin 0, `Mean`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cosine below which dissimilar pairs cost nothing (0 by default).
    pub fn margin(mut self, margin: f32) -> Self {
        self.margin = margin;
        self
    }

    /// How the per-pair losses are combined (`Mean` by default).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The loss of the pairs `(a, b)` with labels `y`.
    #[track_caller]
    pub fn forward(&self, a: &Var, b: &Var, y: &impl LossTarget) -> Var {
        expect_ok(self.try_forward(a, b, y))
    }

    /// Fallible [`CosineEmbeddingLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, a: &Var, b: &Var, y: &impl LossTarget) -> Result<Var> {
        const OP: &str = "cosine_embedding_loss";
        let y = y.as_tensor();
        pair_check(OP, a, b, y)?;
        if let Some(label) = y.values().iter().find(|&&l| l != 1.0 && l != -1.0) {
            return Err(TensorError::new(
                OP,
                ErrorKind::InvalidArgument,
                format!("labels must be 1 or -1, found {label}"),
            ));
        }
        let magnitude = |v: &Var| v.square().sum_axes(&[-1], false).add_scalar(MAGNITUDE_EPS);
        let cos = a
            .mul(b)
            .sum_axes(&[-1], false)
            .div(&magnitude(a).mul(&magnitude(b)).sqrt());
        let similar = cos.neg().add_scalar(1.0);
        let dissimilar = cos.add_scalar(-self.margin).relu();
        let loss = Var::select(&y.gt(&Tensor::scalar(0.0)), &similar, &dissimilar);
        Ok(reduce(loss, self.reduction))
    }
}

/// Contrastive loss (Hadsell, Chopra, LeCun 2006) over rows of `[N, D]` pairs with labels
/// `[N]`: `d²` for similar pairs (`y = 1`) and `max(0, margin − d)²` for dissimilar ones
/// (`y = 0`), `d` the Euclidean distance.
#[derive(Debug, Clone, Copy)]
pub struct ContrastiveLoss {
    margin: f32,
    reduction: Reduction,
}

impl Default for ContrastiveLoss {
    /// Margin 1, `Mean`.
    fn default() -> Self {
        Self {
            margin: 1.0,
            reduction: Reduction::Mean,
        }
    }
}

impl ContrastiveLoss {
    /// Margin 1, `Mean`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The distance beyond which dissimilar pairs cost nothing (1 by default).
    pub fn margin(mut self, margin: f32) -> Self {
        self.margin = margin;
        self
    }

    /// How the per-pair losses are combined (`Mean` by default).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The loss of the pairs `(a, b)` with labels `y`.
    #[track_caller]
    pub fn forward(&self, a: &Var, b: &Var, y: &impl LossTarget) -> Var {
        expect_ok(self.try_forward(a, b, y))
    }

    /// Fallible [`ContrastiveLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, a: &Var, b: &Var, y: &impl LossTarget) -> Result<Var> {
        let y = y.as_tensor();
        pair_check("contrastive_loss", a, b, y)?;
        let d = a
            .sub(b)
            .square()
            .sum_axes(&[-1], false)
            .add_scalar(DISTANCE_EPS)
            .sqrt();
        let similar = d.square();
        let dissimilar = d.neg().add_scalar(self.margin).relu().square();
        let loss = Var::select(&y.gt(&Tensor::scalar(0.5)), &similar, &dissimilar);
        Ok(reduce(loss, self.reduction))
    }
}

/// Cosine-embedding loss with margin 0, averaged: [`CosineEmbeddingLoss`] with its defaults.
#[track_caller]
pub fn cosine_embedding_loss(a: &Var, b: &Var, y: &impl LossTarget) -> Var {
    expect_ok(try_cosine_embedding_loss(a, b, y))
}

/// Fallible [`cosine_embedding_loss`].
#[track_caller]
pub fn try_cosine_embedding_loss(a: &Var, b: &Var, y: &impl LossTarget) -> Result<Var> {
    CosineEmbeddingLoss::new().try_forward(a, b, y)
}

/// Contrastive loss with margin 1, averaged: [`ContrastiveLoss`] with its defaults.
#[track_caller]
pub fn contrastive_loss(a: &Var, b: &Var, y: &impl LossTarget) -> Var {
    expect_ok(try_contrastive_loss(a, b, y))
}

/// Fallible [`contrastive_loss`].
#[track_caller]
pub fn try_contrastive_loss(a: &Var, b: &Var, y: &impl LossTarget) -> Result<Var> {
    ContrastiveLoss::new().try_forward(a, b, y)
}

/// An error unless `a` and `b` are `[N, D]` of one shape and `y` is `[N]`.
fn pair_check(op: &'static str, a: &Var, b: &Var, y: &Tensor) -> Result<()> {
    check_input_target_shapes(op, a, b)?;
    if a.ndim() != 2 || y.shape() != [a.shape()[0]] {
        return Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!(
                "expects [N, D] pairs and [N] labels, found {:?} and {:?}",
                a.shape(),
                y.shape()
            ),
        ));
    }
    Ok(())
}
