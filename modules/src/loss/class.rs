//! Losses over class-index targets: cross-entropy from logits, negative log-likelihood from
//! log-probabilities, with PyTorch's options (class weights, an ignored index, where the
//! classes lie).
//!
//! By default classes lie on the **last** axis of the scores (`[N, C]`, or `[N, T, C]` for
//! sequences), with targets shaped like the leading axes (`[N]`, `[N, T]`);
//! `class_axis(1)` takes PyTorch's layout, scores `[N, C, d1, …]` against targets `[N, d1, …]`.

use super::{Lanes, Reduction};
use strata_autograd::{smallvec, Var};
use strata_tensor::{expect_ok, Axis, ErrorKind, Result, Tensor, TensorError};

/// The options both class-index losses take.
#[derive(Debug, Clone, Default)]
struct ClassOptions {
    weight: Option<Tensor>,
    ignore_index: Option<i64>,
    /// `None`: the last axis.
    class_axis: Option<isize>,
    reduction: Reduction,
}

/// Class-index targets checked against scores: row `r` is the lane of `C` scores (along the
/// class axis) that target `r` picks from.
struct ClassRows {
    lanes: Lanes,
    /// The weight of each class (1 each without class weights).
    class_weight: Vec<f32>,
    /// Each row's target class; `None` where the target is the ignored index.
    targets: Vec<Option<usize>>,
}

impl ClassOptions {
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

/// Cross-entropy from logits against class-index targets, with PyTorch's options; fused: one
/// log-sum-exp per row, and the gradient written in the same layout in one pass.
///
/// With class weights `w`, label smoothing `ε` and `C` classes, a row with target `t` costs
/// `(1 − ε)·w_t·(−ln p_t) + ε/C·Σ_c w_c·(−ln p_c)`; ignored rows cost 0, and `Mean` divides
/// the sum by `Σ w_t` over the rows not ignored (their count without weights), as PyTorch
/// does. With every row ignored, `Mean` is NaN (0/0), as in PyTorch.
///
/// ```
/// use strata_modules::{CrossEntropyLoss, Var};
/// use strata_tensor::Tensor;
/// // PyTorch's layout: logits [N, C, L] = [1, 2, 3], targets [N, L] = [1, 3].
/// let scores = vec![0.0, 0.0, 5.0, 3f32.ln(), 0.0, 0.0];
/// let logits = Var::leaf(Tensor::from_vec(scores, &[1, 2, 3]));
/// let targets = Tensor::from_vec(vec![1.0, -100.0, -100.0], &[1, 3]);
/// let loss = CrossEntropyLoss::new()
///     .class_axis(1)
///     .ignore_index(-100)
///     .weight(Tensor::from_vec(vec![1.0, 2.0], &[2]))
///     .forward(&logits, &targets);
/// assert!((loss.item() + 0.75f32.ln()).abs() < 1e-6); // 2·(−ln ¾) / 2
/// ```
#[derive(Debug, Clone, Default)]
pub struct CrossEntropyLoss {
    class: ClassOptions,
    label_smoothing: f32,
}

impl CrossEntropyLoss {
    /// Classes on the last axis, no class weights, nothing ignored, no smoothing, `Mean`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A weight per class, `[C]` (PyTorch's `weight`).
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.class.weight = Some(weight);
        self
    }

    /// Targets equal to `index` cost 0 and get no gradient (PyTorch's `ignore_index`, whose
    /// default there is −100; here nothing is ignored unless asked). May be a class.
    pub fn ignore_index(mut self, index: i64) -> Self {
        self.class.ignore_index = Some(index);
        self
    }

    /// The axis of the logits that holds the classes (negative counts from the back); `1`
    /// is PyTorch's layout `[N, C, d1, …]`. The default is the last axis.
    pub fn class_axis(mut self, axis: impl Axis) -> Self {
        self.class.class_axis = Some(axis.signed());
        self
    }

    /// Label smoothing `ε ∈ [0, 1]`: the target distribution becomes `(1 − ε)·onehot + ε/C`.
    pub fn label_smoothing(mut self, epsilon: f32) -> Self {
        self.label_smoothing = epsilon;
        self
    }

    /// How the per-row losses are combined (`Mean` by default).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.class.reduction = reduction;
        self
    }

    /// The loss of `logits` against class-index `targets`.
    #[track_caller]
    pub fn forward(&self, logits: &Var, targets: &Tensor) -> Var {
        expect_ok(self.try_forward(logits, targets))
    }

    /// Fallible [`CrossEntropyLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, logits: &Var, targets: &Tensor) -> Result<Var> {
        let rows = self.class.rows("cross_entropy", logits, targets)?;
        let eps = self.label_smoothing;
        if !(0.0..=1.0).contains(&eps) {
            return Err(TensorError::new(
                "cross_entropy",
                ErrorKind::InvalidArgument,
                format!("label smoothing must be in [0, 1], found {eps}"),
            ));
        }
        let x = logits.value().values();
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
        let (value, scale) = rows.reduce(losses, self.class.reduction, targets.shape());
        let total_weight: f32 = w.iter().sum();
        Ok(Var::from_op("cross_entropy", value, &[logits], move |a| {
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
}

/// Negative log-likelihood of class-index targets given log-probabilities (pair with
/// `LogSoftmax`), with PyTorch's options: a row with target `t` costs `−w_t·x_t`, ignored rows
/// cost 0, and `Mean` divides the sum by `Σ w_t` over the rows not ignored.
///
/// ```
/// use strata_modules::{NllLoss, Var};
/// use strata_tensor::Tensor;
/// let log_probs = Var::leaf(Tensor::from_vec(vec![-1.0, -2.0, -3.0, -4.0], &[2, 2]));
/// let targets = Tensor::from_vec(vec![1.0, 0.0], &[2]);
/// let weight = Tensor::from_vec(vec![3.0, 1.0], &[2]);
/// let loss = NllLoss::new().weight(weight).forward(&log_probs, &targets);
/// assert_eq!(loss.item(), (1.0 * 2.0 + 3.0 * 3.0) / 4.0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct NllLoss {
    class: ClassOptions,
}

impl NllLoss {
    /// Classes on the last axis, no class weights, nothing ignored, `Mean`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A weight per class, `[C]` (PyTorch's `weight`).
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.class.weight = Some(weight);
        self
    }

    /// Targets equal to `index` cost 0 and get no gradient (PyTorch's `ignore_index`).
    pub fn ignore_index(mut self, index: i64) -> Self {
        self.class.ignore_index = Some(index);
        self
    }

    /// The axis that holds the classes; `1` is PyTorch's layout `[N, C, d1, …]`.
    pub fn class_axis(mut self, axis: impl Axis) -> Self {
        self.class.class_axis = Some(axis.signed());
        self
    }

    /// How the per-row losses are combined (`Mean` by default).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.class.reduction = reduction;
        self
    }

    /// The loss of `log_probs` against class-index `targets`.
    #[track_caller]
    pub fn forward(&self, log_probs: &Var, targets: &Tensor) -> Var {
        expect_ok(self.try_forward(log_probs, targets))
    }

    /// Fallible [`NllLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, log_probs: &Var, targets: &Tensor) -> Result<Var> {
        let rows = self.class.rows("nll_loss", log_probs, targets)?;
        let x = log_probs.value().values();
        let losses = rows
            .targets
            .iter()
            .enumerate()
            .map(|(r, t)| t.map_or(0.0, |t| -rows.class_weight[t] * x[rows.index(r, t)]))
            .collect();
        let (value, scale) = rows.reduce(losses, self.class.reduction, targets.shape());
        Ok(Var::from_op("nll_loss", value, &[log_probs], move |a| {
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

/// Cross-entropy from logits `[…, C]` with integer class targets and label smoothing `ε`:
/// [`CrossEntropyLoss`] with these two options.
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
    CrossEntropyLoss::new()
        .label_smoothing(label_smoothing)
        .reduction(reduction)
        .try_forward(logits, targets)
}

/// Negative log-likelihood of class targets given log-probabilities `[…, C]`: [`NllLoss`]
/// with no options but the reduction.
#[track_caller]
pub fn nll_loss(log_probs: &Var, targets: &Tensor, reduction: Reduction) -> Var {
    expect_ok(try_nll_loss(log_probs, targets, reduction))
}

/// Fallible [`nll_loss`].
#[track_caller]
pub fn try_nll_loss(log_probs: &Var, targets: &Tensor, reduction: Reduction) -> Result<Var> {
    NllLoss::new()
        .reduction(reduction)
        .try_forward(log_probs, targets)
}
