//! Regression losses: squared and absolute error.

use super::{reduce, same_shape, Reduction};
use strata_autograd::Var;
use strata_tensor::{expect_ok, Result};

/// Mean squared error `(x − y)²`.
#[track_caller]
pub fn mse_loss(input: &Var, target: &Var, reduction: Reduction) -> Var {
    expect_ok(try_mse_loss(input, target, reduction))
}

/// Fallible [`mse_loss`].
#[track_caller]
pub fn try_mse_loss(input: &Var, target: &Var, reduction: Reduction) -> Result<Var> {
    same_shape("mse_loss", input, target)?;
    Ok(reduce(input.sub(target).square(), reduction))
}

/// Mean absolute error `|x − y|`.
#[track_caller]
pub fn l1_loss(input: &Var, target: &Var, reduction: Reduction) -> Var {
    expect_ok(try_l1_loss(input, target, reduction))
}

/// Fallible [`l1_loss`].
#[track_caller]
pub fn try_l1_loss(input: &Var, target: &Var, reduction: Reduction) -> Result<Var> {
    same_shape("l1_loss", input, target)?;
    Ok(reduce(input.sub(target).abs(), reduction))
}
