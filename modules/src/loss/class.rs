//! Losses over class-index targets: cross-entropy from logits, negative log-likelihood from
//! log-probabilities, with PyTorch's options (class weights, an ignored index, where the
//! classes lie).
//!
//! By default classes lie on the **last** axis of the scores (`[N, C]`, or `[N, T, C]` for
//! sequences), with targets shaped like the leading axes (`[N]`, `[N, T]`);
//! `class_axis(1)` takes PyTorch's layout, scores `[N, C, d1, …]` against targets `[N, d1, …]`.

use super::{LossTarget, Reduction};
use strata_autograd::{ClassLossOptions, Var};
use strata_tensor::{expect_ok, Axis, Result, Tensor};

/// Cross-entropy from logits against class-index targets, with PyTorch's options (the fused
/// op [`Var::softmax_cross_entropy`]).
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
    class: ClassLossOptions,
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
    pub fn forward(&self, logits: &Var, targets: &impl LossTarget) -> Var {
        expect_ok(self.try_forward(logits, targets))
    }

    /// Fallible [`CrossEntropyLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, logits: &Var, targets: &impl LossTarget) -> Result<Var> {
        let targets = targets.as_tensor();
        logits.try_softmax_cross_entropy(targets, &self.class, self.label_smoothing)
    }
}

/// Negative log-likelihood of class-index targets given log-probabilities (pair with
/// `LogSoftmax`), with PyTorch's options (the op [`Var::nll`]): a row with target `t` costs `−w_t·x_t`, ignored rows
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
    class: ClassLossOptions,
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
    pub fn forward(&self, log_probs: &Var, targets: &impl LossTarget) -> Var {
        expect_ok(self.try_forward(log_probs, targets))
    }

    /// Fallible [`NllLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, log_probs: &Var, targets: &impl LossTarget) -> Result<Var> {
        log_probs.try_nll(targets.as_tensor(), &self.class)
    }
}

/// Cross-entropy from logits `[…, C]` against integer class targets, averaged over the
/// rows: [`CrossEntropyLoss`] with its defaults (which holds the options).
///
/// ```
/// use strata_modules::{cross_entropy, Var};
/// use strata_tensor::Tensor;
/// let logits = Var::leaf(Tensor::from_vec(vec![0.0, 3f32.ln()], &[1, 2]));
/// let loss = cross_entropy(&logits, &Tensor::from_vec(vec![1.0], &[1]));
/// assert!((loss.item() + 0.75f32.ln()).abs() < 1e-6); // −ln(3/4)
/// ```
#[track_caller]
pub fn cross_entropy(logits: &Var, targets: &impl LossTarget) -> Var {
    expect_ok(try_cross_entropy(logits, targets))
}

/// Fallible [`cross_entropy`].
#[track_caller]
pub fn try_cross_entropy(logits: &Var, targets: &impl LossTarget) -> Result<Var> {
    CrossEntropyLoss::new().try_forward(logits, targets)
}

/// Negative log-likelihood of class targets given log-probabilities `[…, C]`, averaged over
/// the rows: [`NllLoss`] with its defaults.
#[track_caller]
pub fn nll_loss(log_probs: &Var, targets: &impl LossTarget) -> Var {
    expect_ok(try_nll_loss(log_probs, targets))
}

/// Fallible [`nll_loss`].
#[track_caller]
pub fn try_nll_loss(log_probs: &Var, targets: &impl LossTarget) -> Result<Var> {
    NllLoss::new().try_forward(log_probs, targets)
}
