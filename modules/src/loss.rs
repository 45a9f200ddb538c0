//! Loss functions. Class-index targets are `&Tensor`s of whole numbers; value targets are
//! `&Var`s, so they can come from another model (a teacher) or be constants.
//!
//! Classes lie on the **last** axis of the logits (`[N, C]`, or `[N, T, C]` for sequences),
//! with targets shaped like the leading axes (`[N]`, `[N, T]`).

use strata_autograd::{smallvec, Var};
use strata_tensor::{expect_ok, sigmoid, ErrorKind, Result, Tensor, TensorError};

/// How per-element losses are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The average (the default).
    #[default]
    Mean,
    /// The sum.
    Sum,
    /// No reduction: one loss per element (or per example).
    None,
}

#[track_caller]
fn reduce(loss: Var, reduction: Reduction) -> Var {
    match reduction {
        Reduction::Mean => loss.mean(),
        Reduction::Sum => loss.sum(),
        Reduction::None => loss,
    }
}

fn same_shape(op: &'static str, a: &Var, b: &Var) -> Result<()> {
    if a.shape() == b.shape() {
        Ok(())
    } else {
        Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!("input {:?} and target {:?} differ", a.shape(), b.shape()),
        ))
    }
}

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

/// Kullback–Leibler divergence `KL(p ‖ q) = Σ p·(ln p − ln q)` from the log-probabilities
/// `ln q` of a model and a target distribution `p` (PyTorch's `kl_div(input, target)`), for
/// distillation. Terms with `p = 0` contribute 0. `Mean` divides the sum by the batch size
/// (the first axis), which is the true KL per example.
#[track_caller]
pub fn kl_div(log_q: &Var, p: &Var, reduction: Reduction) -> Var {
    expect_ok(try_kl_div(log_q, p, reduction))
}

/// Fallible [`kl_div`].
#[track_caller]
pub fn try_kl_div(log_q: &Var, p: &Var, reduction: Reduction) -> Result<Var> {
    same_shape("kl_div", log_q, p)?;
    let value = p.value().zip_map(
        log_q.value(),
        |p, lq| if p > 0.0 { p * (p.ln() - lq) } else { 0.0 },
    );
    let terms = Var::from_op("kl_div", value, &[log_q, p], |a| {
        let (lq, p) = (a.input(0), a.input(1));
        smallvec![
            a.needs(0).then(|| a.grad().mul(p).neg()),
            a.needs(1)
                .then(|| a.grad().mul(&p.zip_map(lq, |p, lq| if p > 0.0 {
                    p.ln() + 1.0 - lq
                } else {
                    0.0
                })))
        ]
    });
    let batch = log_q.shape().first().copied().unwrap_or(1).max(1);
    Ok(match reduction {
        Reduction::Mean => terms.sum().mul_scalar(1.0 / batch as f32),
        other => reduce(terms, other),
    })
}

/// Small constant inside square roots of distances, so their gradient stays finite at 0.
const DISTANCE_EPS: f32 = 1e-6;

/// Euclidean distance between rows of two `[N, D]` batches, `[N]`.
fn row_distance(a: &Var, b: &Var) -> Var {
    a.sub(b)
        .square()
        .sum_axes(&[-1], false)
        .add_scalar(DISTANCE_EPS)
        .sqrt()
}

/// Cosine-embedding loss over rows: `1 − cos(a, b)` where `y = 1`, `max(0, cos(a, b) − margin)`
/// where `y = −1`.
#[track_caller]
pub fn cosine_embedding_loss(
    a: &Var,
    b: &Var,
    y: &Tensor,
    margin: f32,
    reduction: Reduction,
) -> Var {
    expect_ok(try_cosine_embedding_loss(a, b, y, margin, reduction))
}

/// Fallible [`cosine_embedding_loss`].
#[track_caller]
pub fn try_cosine_embedding_loss(
    a: &Var,
    b: &Var,
    y: &Tensor,
    margin: f32,
    reduction: Reduction,
) -> Result<Var> {
    pair_check("cosine_embedding_loss", a, b, y)?;
    let norm = |v: &Var| {
        v.square()
            .sum_axes(&[-1], false)
            .add_scalar(DISTANCE_EPS)
            .sqrt()
    };
    let cos = a.mul(b).sum_axes(&[-1], false).div(&norm(a).mul(&norm(b)));
    let similar = cos.neg().add_scalar(1.0);
    let dissimilar = cos.add_scalar(-margin).relu();
    let loss = Var::select(&y.gt(&Tensor::scalar(0.0)), &similar, &dissimilar);
    Ok(reduce(loss, reduction))
}

/// Contrastive loss (Hadsell, Chopra, LeCun 2006) over rows: `d²` for similar pairs
/// (`y = 1`) and `max(0, margin − d)²` for dissimilar ones (`y = 0`), `d` the Euclidean distance.
#[track_caller]
pub fn contrastive_loss(a: &Var, b: &Var, y: &Tensor, margin: f32, reduction: Reduction) -> Var {
    expect_ok(try_contrastive_loss(a, b, y, margin, reduction))
}

/// Fallible [`contrastive_loss`].
#[track_caller]
pub fn try_contrastive_loss(
    a: &Var,
    b: &Var,
    y: &Tensor,
    margin: f32,
    reduction: Reduction,
) -> Result<Var> {
    pair_check("contrastive_loss", a, b, y)?;
    let d = row_distance(a, b);
    let similar = d.square();
    let dissimilar = d.neg().add_scalar(margin).relu().square();
    let loss = Var::select(&y.gt(&Tensor::scalar(0.5)), &similar, &dissimilar);
    Ok(reduce(loss, reduction))
}

/// Triplet margin loss over rows: `max(0, d(a, p) − d(a, n) + margin)`.
#[track_caller]
pub fn triplet_margin_loss(
    anchor: &Var,
    positive: &Var,
    negative: &Var,
    margin: f32,
    reduction: Reduction,
) -> Var {
    expect_ok(try_triplet_margin_loss(
        anchor, positive, negative, margin, reduction,
    ))
}

/// Fallible [`triplet_margin_loss`].
#[track_caller]
pub fn try_triplet_margin_loss(
    anchor: &Var,
    positive: &Var,
    negative: &Var,
    margin: f32,
    reduction: Reduction,
) -> Result<Var> {
    same_shape("triplet_margin_loss", anchor, positive)?;
    same_shape("triplet_margin_loss", anchor, negative)?;
    let gap = row_distance(anchor, positive).sub(&row_distance(anchor, negative));
    Ok(reduce(gap.add_scalar(margin).relu(), reduction))
}

fn pair_check(op: &'static str, a: &Var, b: &Var, y: &Tensor) -> Result<()> {
    same_shape(op, a, b)?;
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
