//! Losses over class-index targets, with PyTorch's options (class weights, an ignored index,
//! where the classes lie, the reduction): softmax cross-entropy from logits and the negative
//! log-likelihood of log-probabilities.
//!
//! Cross-entropy is fused (one log-sum-exp per row, the gradient `p − onehot` written in the
//! same layout in one pass): composed from `log_softmax`, a gather and a weighted mean it would
//! record several ops and pass full-size gradients between them.

use super::Reduction;
use crate::ops::Lanes;
use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{expect_ok, Axis, ErrorKind, Result, Tensor, TensorError};

/// The options both class-index losses take (PyTorch's `weight`, `ignore_index`, the class
/// axis and `reduction`).
#[derive(Debug, Clone, Default)]
pub struct ClassLossOptions {
    /// A weight per class, `[C]`.
    pub weight: Option<Tensor>,
    /// Targets equal to this cost 0 and get no gradient.
    pub ignore_index: Option<i64>,
    /// The axis of the scores that holds the classes; `None`: the last axis.
    pub class_axis: Option<isize>,
    /// How the per-row losses are combined; `Mean` divides by the total weight of the rows
    /// not ignored, as PyTorch does.
    pub reduction: Reduction,
}

/// Class-index targets checked against scores: row `r` is the lane of `C` scores (along the
/// class axis) that target `r` picks from.
struct ClassRows {
    lanes: Lanes,
    /// The weight of each class (1 each without class weights).
    class_weight: Vec<f32>,
    /// Each row's target class; `None` where the target is the ignored index.
    targets: Vec<Option<usize>>,
    /// The length of the scores' first axis (what `BatchMean` divides by).
    batch: usize,
}

impl ClassLossOptions {
    /// Checks `targets` (and the class weights) against `scores`.
    fn rows(&self, op: &'static str, scores: &Var, targets: &Tensor) -> Result<ClassRows> {
        let err = |kind, msg: String| Err(TensorError::new(op, kind, msg));
        let axis = self.class_axis.unwrap_or(-1).resolve(scores.ndim(), op)?;
        let mut rest = scores.shape().to_vec();
        let classes = rest.remove(axis);
        if targets.shape() != &rest[..] {
            let place = match self.class_axis {
                None => "the last axis".to_string(),
                Some(a) => format!("axis {a}"),
            };
            return err(
                ErrorKind::ShapeMismatch,
                format!(
                    "logits {:?} need classes on {place} and targets shaped like the rest, found targets {:?}",
                    scores.shape(),
                    targets.shape()
                ),
            );
        }
        let class_weight = match &self.weight {
            Some(w) if w.shape() != [classes] => {
                return err(
                    ErrorKind::ShapeMismatch,
                    format!(
                        "weight {:?} needs one value per class, [{classes}] for logits {:?}",
                        w.shape(),
                        scores.shape()
                    ),
                )
            }
            Some(w) => w.to_vec(),
            None => vec![1.0; classes],
        };
        let mut ids = Vec::with_capacity(targets.numel());
        for &t in targets.values().iter() {
            if self.ignore_index.is_some_and(|i| t == i as f32) {
                ids.push(None);
            } else if t >= 0.0 && t.fract() == 0.0 && (t as usize) < classes {
                ids.push(Some(t as usize));
            } else {
                return err(
                    ErrorKind::IndexOutOfRange,
                    format!("target {t} is not a class index in 0..{classes}"),
                );
            }
        }
        Ok(ClassRows {
            lanes: Lanes::along(scores.shape(), axis),
            class_weight,
            targets: ids,
            // A single row of scores `[C]` is a batch of one.
            batch: if scores.ndim() > 1 {
                scores.shape()[0]
            } else {
                1
            },
        })
    }
}

impl ClassRows {
    /// The flat index of class `c` in row `r`.
    fn index(&self, r: usize, c: usize) -> usize {
        self.lanes.start(r) + c * self.lanes.stride
    }

    /// PyTorch's reduction of per-row losses: `Mean` divides the sum by the total weight
    /// `Σ w[target]` of the rows not ignored. Returns the value and the factor by which a
    /// scalar upstream gradient reaches each row.
    fn reduce(&self, losses: Vec<f32>, reduction: Reduction, shape: &[usize]) -> (Tensor, f32) {
        let sum = || losses.iter().sum::<f32>();
        match reduction {
            Reduction::Mean => {
                let total: f32 = self
                    .targets
                    .iter()
                    .flatten()
                    .map(|&t| self.class_weight[t])
                    .sum();
                (Tensor::scalar(sum() / total), 1.0 / total)
            }
            Reduction::BatchMean => {
                let batch = self.batch as f32;
                (Tensor::scalar(sum() / batch), 1.0 / batch)
            }
            Reduction::Sum => (Tensor::scalar(sum()), 1.0),
            Reduction::None => (Tensor::from_vec(losses, shape), 1.0),
        }
    }
}

/// The gradient reaching row `r`: its own entry of `upstream` (no reduction), or the single
/// upstream value times `scale`.
fn row_upstream(upstream: &[f32], scale: f32, r: usize) -> f32 {
    if upstream.len() == 1 {
        upstream[0] * scale
    } else {
        upstream[r]
    }
}

impl Var {
    /// Cross-entropy of these logits against class-index `targets` (shaped like the logits
    /// without the class axis), with label smoothing `ε ∈ [0, 1]` and PyTorch's `options`.
    ///
    /// With class weights `w` and `C` classes, a row with target `t` costs
    /// `(1 − ε)·w_t·(−ln p_t) + ε/C·Σ_c w_c·(−ln p_c)`, `p = softmax(logits)`; ignored rows
    /// cost 0, and `Mean` divides the sum by `Σ w_t` over the rows not ignored (their count
    /// without weights). With every row ignored, `Mean` is NaN (0/0), as in PyTorch.
    ///
    /// ```
    /// use strata_autograd::{ClassLossOptions, Var};
    /// use strata_tensor::Tensor;
    /// let logits = Var::leaf(Tensor::from_vec(vec![0.0, 3f32.ln()], &[1, 2]));
    /// let targets = Tensor::from_vec(vec![1.0], &[1]);
    /// let loss = logits.softmax_cross_entropy(&targets, &ClassLossOptions::default(), 0.0);
    /// assert!((loss.item() + 0.75f32.ln()).abs() < 1e-6); // −ln(3/4)
    /// ```
    #[track_caller]
    pub fn softmax_cross_entropy(
        &self,
        targets: &Tensor,
        options: &ClassLossOptions,
        label_smoothing: f32,
    ) -> Var {
        expect_ok(self.try_softmax_cross_entropy(targets, options, label_smoothing))
    }

    /// Fallible [`Var::softmax_cross_entropy`].
    #[track_caller]
    pub fn try_softmax_cross_entropy(
        &self,
        targets: &Tensor,
        options: &ClassLossOptions,
        label_smoothing: f32,
    ) -> Result<Var> {
        let rows = options.rows("cross_entropy", self, targets)?;
        let eps = label_smoothing;
        if !(0.0..=1.0).contains(&eps) {
            return Err(TensorError::new(
                "cross_entropy",
                ErrorKind::InvalidArgument,
                format!("label smoothing must be in [0, 1], found {eps}"),
            ));
        }
        let x = self.value().values();
        let (classes, w) = (rows.lanes.len, &rows.class_weight);
        let spread = eps / classes as f32;
        // Per row: the softmax (kept for backward; ignored rows stay 0) and the loss.
        let mut softmax = vec![0.0f32; x.len()];
        let mut losses = vec![0.0f32; rows.targets.len()];
        for (r, target) in rows.targets.iter().enumerate() {
            let Some(t) = *target else { continue };
            let at = |c| rows.index(r, c);
            let max = (0..classes)
                .map(|c| x[at(c)])
                .fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for c in 0..classes {
                softmax[at(c)] = (x[at(c)] - max).exp();
                sum += softmax[at(c)];
            }
            (0..classes).for_each(|c| softmax[at(c)] /= sum);
            // −ln p_c = lse − x_c.
            let lse = max + sum.ln();
            losses[r] = (1.0 - eps) * w[t] * (lse - x[at(t)]);
            if eps > 0.0 {
                losses[r] += spread * (0..classes).map(|c| w[c] * (lse - x[at(c)])).sum::<f32>();
            }
        }
        let (value, scale) = rows.reduce(losses, options.reduction, targets.shape());
        let total_weight: f32 = w.iter().sum();
        Ok(Var::from_op("cross_entropy", value, &[self], move |a| {
            // ∂loss_r/∂x_c = (1 − ε)·w_t·(p_c − [c = t]) + ε/C·(W·p_c − w_c), W = Σ w,
            // times the row's upstream gradient.
            let upstream = a.grad().values();
            let mut grad = softmax.clone();
            let w = &rows.class_weight;
            for (r, target) in rows.targets.iter().enumerate() {
                let Some(t) = *target else { continue };
                let g = row_upstream(&upstream, scale, r);
                let on_target = (1.0 - eps) * w[t];
                let p_scale = on_target + spread * total_weight;
                for (c, i) in rows.lanes.indices(r).enumerate() {
                    grad[i] = (p_scale * grad[i] - spread * w[c]) * g;
                }
                grad[rows.index(r, t)] -= on_target * g;
            }
            smallvec![Some(Tensor::from_vec(grad, a.input(0).shape()))]
        }))
    }

    /// Negative log-likelihood of class-index `targets` given these log-probabilities, with
    /// PyTorch's `options`: a row with target `t` costs `−w_t·x_t`, ignored rows cost 0, and
    /// `Mean` divides the sum by `Σ w_t` over the rows not ignored. Fused because its gradient
    /// is a scatter of `−w_t` into the target positions, one pass over the rows.
    #[track_caller]
    pub fn nll(&self, targets: &Tensor, options: &ClassLossOptions) -> Var {
        expect_ok(self.try_nll(targets, options))
    }

    /// Fallible [`Var::nll`].
    #[track_caller]
    pub fn try_nll(&self, targets: &Tensor, options: &ClassLossOptions) -> Result<Var> {
        let rows = options.rows("nll_loss", self, targets)?;
        let x = self.value().values();
        let losses = rows
            .targets
            .iter()
            .enumerate()
            .map(|(r, t)| t.map_or(0.0, |t| -rows.class_weight[t] * x[rows.index(r, t)]))
            .collect();
        let (value, scale) = rows.reduce(losses, options.reduction, targets.shape());
        Ok(Var::from_op("nll_loss", value, &[self], move |a| {
            // ∂loss_r/∂x_t = −w_t, times the row's upstream gradient; 0 elsewhere.
            let upstream = a.grad().values();
            let mut grad = vec![0.0f32; a.input(0).numel()];
            for (r, target) in rows.targets.iter().enumerate() {
                if let Some(t) = *target {
                    grad[rows.index(r, t)] =
                        -rows.class_weight[t] * row_upstream(&upstream, scale, r);
                }
            }
            smallvec![Some(Tensor::from_vec(grad, a.input(0).shape()))]
        }))
    }
}
