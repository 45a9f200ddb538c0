//! Binary cross-entropy, on probabilities and on logits.

use super::{reduce, same_shape, Reduction};
use strata_autograd::{smallvec, Var};
use strata_tensor::{expect_ok, sigmoid, Result};

/// PyTorch clamps the logarithms of BCE at −100 so that a probability of exactly 0 or 1
/// gives a large finite loss instead of infinity; so does Strata.
const LOG_FLOOR: f32 = -100.0;

/// Binary cross-entropy on probabilities `p ∈ [0, 1]`: `−[y·ln p + (1 − y)·ln(1 − p)]`.
#[track_caller]
pub fn bce_loss(probabilities: &Var, target: &Var, reduction: Reduction) -> Var {
    expect_ok(try_bce_loss(probabilities, target, reduction))
}

/// Fallible [`bce_loss`].
#[track_caller]
pub fn try_bce_loss(p: &Var, target: &Var, reduction: Reduction) -> Result<Var> {
    same_shape("bce_loss", p, target)?;
    let value = p.value().zip_map(target.value(), |p, y| {
        -(y * p.ln().max(LOG_FLOOR) + (1.0 - y) * (1.0 - p).ln().max(LOG_FLOOR))
    });
    let loss = Var::from_op("bce", value, &[p, target], |a| {
        let (p, y) = (a.input(0), a.input(1));
        smallvec![
            a.needs(0).then(|| {
                // (p − y) / (p(1 − p)), with the denominator kept away from 0 as PyTorch does.
                let slope = p.zip_map(y, |p, y| (p - y) / (p * (1.0 - p)).max(1e-12));
                a.grad().mul(&slope)
            }),
            a.needs(1).then(|| {
                let slope = p.map(|p| (1.0 - p).ln().max(LOG_FLOOR) - p.ln().max(LOG_FLOOR));
                a.grad().mul(&slope)
            })
        ]
    });
    Ok(reduce(loss, reduction))
}

/// Binary cross-entropy on logits, `max(x, 0) − x·y + ln(1 + e^−|x|)`: stable for any finite
/// logit (no `log(0)`), gradient `sigmoid(x) − y`.
///
/// ```
/// use strata_modules::{bce_with_logits, Reduction, Var};
/// use strata_tensor::Tensor;
/// let x = Var::leaf(Tensor::from_vec(vec![100.0, -100.0], &[2]));
/// let y = Var::constant(Tensor::from_vec(vec![0.0, 0.0], &[2]));
/// let loss = bce_with_logits(&x, &y, Reduction::Sum);
/// assert!((loss.item() - 100.0).abs() < 1e-3);
/// ```
#[track_caller]
pub fn bce_with_logits(logits: &Var, target: &Var, reduction: Reduction) -> Var {
    expect_ok(try_bce_with_logits(logits, target, reduction))
}

/// Fallible [`bce_with_logits`].
#[track_caller]
pub fn try_bce_with_logits(logits: &Var, target: &Var, reduction: Reduction) -> Result<Var> {
    same_shape("bce_with_logits", logits, target)?;
    let value = logits.value().zip_map(target.value(), |x, y| {
        x.max(0.0) - x * y + (-x.abs()).exp().ln_1p()
    });
    let loss = Var::from_op("bce_with_logits", value, &[logits, target], |a| {
        let (x, y) = (a.input(0), a.input(1));
        smallvec![
            a.needs(0)
                .then(|| a.grad().mul(&x.zip_map(y, |x, y| sigmoid(x) - y))),
            a.needs(1).then(|| a.grad().mul(x).neg())
        ]
    });
    Ok(reduce(loss, reduction))
}
