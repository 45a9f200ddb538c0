//! Losses over class-index targets: cross-entropy from logits, negative log-likelihood from
//! log-probabilities.
//!
//! Classes lie on the **last** axis of the logits (`[N, C]`, or `[N, T, C]` for sequences),
//! with targets shaped like the leading axes (`[N]`, `[N, T]`).

use super::{reduce, Reduction};
use strata_autograd::{smallvec, Var};
use strata_tensor::{expect_ok, ErrorKind, Result, Tensor, TensorError};

/// Checks class-index targets against `[…, C]` logits; returns `(rows, classes, ids)`.
fn class_targets(
    op: &'static str,
    logits: &Var,
    targets: &Tensor,
) -> Result<(usize, usize, Vec<usize>)> {
    let err = |kind, msg: String| Err(TensorError::new(op, kind, msg));
    if logits.ndim() < 2 || targets.shape() != &logits.shape()[..logits.ndim() - 1] {
        return err(
            ErrorKind::ShapeMismatch,
            format!(
                "logits {:?} need classes on the last axis and targets shaped like the rest, found targets {:?}",
                logits.shape(),
                targets.shape()
            ),
        );
    }
    let classes = logits.shape()[logits.ndim() - 1];
    let mut ids = Vec::with_capacity(targets.numel());
    for &t in targets.values().iter() {
        if !(t >= 0.0 && t.fract() == 0.0 && (t as usize) < classes) {
            return err(
                ErrorKind::IndexOutOfRange,
                format!("target {t} is not a class index in 0..{classes}"),
            );
        }
        ids.push(t as usize);
    }
    Ok((ids.len(), classes, ids))
}

/// Cross-entropy from logits with integer class targets, with optional label smoothing `ε`:
/// the target distribution is `(1 − ε)·onehot + ε/C`. Fused: one log-sum-exp per row, and
/// the gradient `softmax − target distribution` in one pass.
///
/// ```
/// use strata_modules::{cross_entropy, Reduction, Var};
/// use strata_tensor::Tensor;
/// let logits = Var::leaf(Tensor::from_vec(vec![0.0, 3f32.ln()], &[1, 2]));
/// let loss = cross_entropy(&logits, &Tensor::from_vec(vec![1.0], &[1]), 0.0, Reduction::Mean);
/// assert!((loss.item() + 0.75f32.ln()).abs() < 1e-6); // −ln(3/4)
/// ```
#[track_caller]
pub fn cross_entropy(
    logits: &Var,
    targets: &Tensor,
    label_smoothing: f32,
    reduction: Reduction,
) -> Var {
    expect_ok(try_cross_entropy(
        logits,
        targets,
        label_smoothing,
        reduction,
    ))
}

/// Fallible [`cross_entropy`].
#[track_caller]
pub fn try_cross_entropy(
    logits: &Var,
    targets: &Tensor,
    label_smoothing: f32,
    reduction: Reduction,
) -> Result<Var> {
    let (rows, classes, ids) = class_targets("cross_entropy", logits, targets)?;
    if !(0.0..=1.0).contains(&label_smoothing) {
        return Err(TensorError::new(
            "cross_entropy",
            ErrorKind::InvalidArgument,
            format!("label smoothing must be in [0, 1], found {label_smoothing}"),
        ));
    }
    let eps = label_smoothing;
    let x = logits.value().values().into_owned();
    // Per row: softmax (kept for backward) and loss = lse − (1−ε)·x_t − ε·mean(x).
    let mut softmax = vec![0.0f32; rows * classes];
    let mut losses = vec![0.0f32; rows];
    for r in 0..rows {
        let row = &x[r * classes..(r + 1) * classes];
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let out = &mut softmax[r * classes..(r + 1) * classes];
        let mut sum = 0.0;
        for (o, &v) in out.iter_mut().zip(row) {
            *o = (v - max).exp();
            sum += *o;
        }
        out.iter_mut().for_each(|o| *o /= sum);
        let lse = max + sum.ln();
        let mean = row.iter().sum::<f32>() / classes as f32;
        losses[r] = lse - (1.0 - eps) * row[ids[r]] - eps * mean;
    }
    let (scale, value) = match reduction {
        Reduction::Mean => (
            1.0 / rows as f32,
            Tensor::scalar(losses.iter().sum::<f32>() / rows as f32),
        ),
        Reduction::Sum => (1.0, Tensor::scalar(losses.iter().sum())),
        Reduction::None => (1.0, Tensor::from_vec(losses, targets.shape())),
    };
    let loss = Var::from_op("cross_entropy", value, &[logits], move |a| {
        // d loss_r / d x_rc = softmax_rc − (1−ε)·[c = t_r] − ε/C, times the row's incoming gradient.
        let upstream = a.grad().values();
        let mut grad = softmax.clone();
        for r in 0..rows {
            let g = if upstream.len() == 1 {
                upstream[0] * scale
            } else {
                upstream[r]
            };
            let row = &mut grad[r * classes..(r + 1) * classes];
            row[ids[r]] -= 1.0 - eps;
            for v in row.iter_mut() {
                *v = (*v - eps / classes as f32) * g;
            }
        }
        smallvec![Some(Tensor::from_vec(grad, a.input(0).shape()))]
    });
    Ok(loss)
}

/// Negative log-likelihood of class targets given log-probabilities (pair with `LogSoftmax`).
#[track_caller]
pub fn nll_loss(log_probs: &Var, targets: &Tensor, reduction: Reduction) -> Var {
    expect_ok(try_nll_loss(log_probs, targets, reduction))
}

/// Fallible [`nll_loss`].
#[track_caller]
pub fn try_nll_loss(log_probs: &Var, targets: &Tensor, reduction: Reduction) -> Result<Var> {
    class_targets("nll_loss", log_probs, targets)?;
    let picked = log_probs
        .try_gather(-1, &targets.unsqueeze(-1))?
        .squeeze(-1);
    Ok(reduce(picked.neg(), reduction))
}
