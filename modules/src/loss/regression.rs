//! Regression losses: squared and absolute error.

use super::{reduce, LossTarget, Reduction};
use strata_autograd::check_input_target_shapes;
use strata_autograd::Var;
use strata_tensor::{expect_ok, Result};

/// Squared error `(x − y)²` with PyTorch's option (`reduction`); gradients reach a `Var`
/// target too.
///
/// ```
/// use strata_modules::{MseLoss, Reduction, Var};
/// use strata_tensor::Tensor;
/// let x = Var::leaf(Tensor::from_vec(vec![1.0, 3.0], &[2]));
/// let loss = MseLoss::new().reduction(Reduction::Sum).forward(&x, &Tensor::zeros(&[2]));
/// assert_eq!(loss.item(), 10.0);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MseLoss {
    reduction: Reduction,
}

impl MseLoss {
    /// `Mean`.
    pub fn new() -> Self {
        Self::default()
    }

    /// How the per-element losses are combined (`Mean` by default).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The loss of `input` against `target`, both of one shape.
    #[track_caller]
    pub fn forward(&self, input: &Var, target: &impl LossTarget) -> Var {
        expect_ok(self.try_forward(input, target))
    }

    /// Fallible [`MseLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, input: &Var, target: &impl LossTarget) -> Result<Var> {
        let target = target.to_var();
        check_input_target_shapes("mse_loss", input, &target)?;
        Ok(reduce(input.sub(&target).square(), self.reduction))
    }
}

/// Absolute error `|x − y|` with PyTorch's option (`reduction`); gradients reach a `Var`
/// target too.
#[derive(Debug, Clone, Copy, Default)]
pub struct L1Loss {
    reduction: Reduction,
}

impl L1Loss {
    /// `Mean`.
    pub fn new() -> Self {
        Self::default()
    }

    /// How the per-element losses are combined (`Mean` by default).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The loss of `input` against `target`, both of one shape.
    #[track_caller]
    pub fn forward(&self, input: &Var, target: &impl LossTarget) -> Var {
        expect_ok(self.try_forward(input, target))
    }

    /// Fallible [`L1Loss::forward`].
    #[track_caller]
    pub fn try_forward(&self, input: &Var, target: &impl LossTarget) -> Result<Var> {
        let target = target.to_var();
        check_input_target_shapes("l1_loss", input, &target)?;
        Ok(reduce(input.sub(&target).abs(), self.reduction))
    }
}

/// Mean squared error `(x − y)²`: [`MseLoss`] with its defaults.
#[track_caller]
pub fn mse_loss(input: &Var, target: &impl LossTarget) -> Var {
    expect_ok(try_mse_loss(input, target))
}

/// Fallible [`mse_loss`].
#[track_caller]
pub fn try_mse_loss(input: &Var, target: &impl LossTarget) -> Result<Var> {
    MseLoss::new().try_forward(input, target)
}

/// Mean absolute error `|x − y|`: [`L1Loss`] with its defaults.
#[track_caller]
pub fn l1_loss(input: &Var, target: &impl LossTarget) -> Var {
    expect_ok(try_l1_loss(input, target))
}

/// Fallible [`l1_loss`].
#[track_caller]
pub fn try_l1_loss(input: &Var, target: &impl LossTarget) -> Result<Var> {
    L1Loss::new().try_forward(input, target)
}
