//! Distances between embeddings: the cosine similarity and the triplet margin loss with
//! PyTorch's options.

use super::{reduce, Reduction};
use strata_autograd::check_input_target_shapes;
use strata_autograd::Var;
use strata_tensor::{expect_ok, Axis, ErrorKind, Result, TensorError};

/// Cosine similarity along `axis` (the op [`Var::cosine_similarity`]), PyTorch's
/// `F.cosine_similarity`:
/// `Σ a·b / (max(‖a‖, eps)·max(‖b‖, eps))`, each norm clamped at `eps` separately (PyTorch's
/// default `eps` is 1e-8). `a` and `b` broadcast to one shape; the result drops `axis`.
///
/// ```
/// use strata_modules::{cosine_similarity, Var};
/// use strata_tensor::Tensor;
/// let a = Var::leaf(Tensor::from_vec(vec![1.0, 0.0, 3.0, 4.0], &[2, 2]));
/// let b = Var::leaf(Tensor::from_vec(vec![1.0, 1.0], &[1, 2])); // broadcast to both rows
/// let cos = cosine_similarity(&a, &b, 1, 1e-8);
/// let want = [0.5f32.sqrt(), 7.0 / (5.0 * 2f32.sqrt())];
/// assert!(cos.value().to_vec().iter().zip(want).all(|(c, w)| (c - w).abs() < 1e-6));
/// ```
#[track_caller]
pub fn cosine_similarity(a: &Var, b: &Var, axis: impl Axis, eps: f32) -> Var {
    expect_ok(try_cosine_similarity(a, b, axis, eps))
}

/// Fallible [`cosine_similarity`].
#[track_caller]
pub fn try_cosine_similarity(a: &Var, b: &Var, axis: impl Axis, eps: f32) -> Result<Var> {
    a.try_cosine_similarity(b, axis, eps)
}

/// Triplet margin loss with PyTorch's options, `max(0, d(a, p) − d(a, n) + margin)` over the
/// rows of `[N, D]` (or `[D]`) embeddings, with PyTorch's pairwise distance
/// `d(x, y) = ‖x − y + eps‖_p` (eps added to the difference); with `swap`, the distance to
/// the negative is `min(d(a, n), d(p, n))` (Balntas et al. 2016).
///
/// ```
/// use strata_modules::{TripletMarginLoss, Var};
/// use strata_tensor::Tensor;
/// let row = |v: Vec<f32>| Var::leaf(Tensor::from_vec(v, &[1, 2]));
/// let anchor = row(vec![0.0, 0.0]);
/// let (positive, negative) = (row(vec![1.0, 1.0]), row(vec![2.0, 1.0]));
/// // L1 distances 2 and 3; swapped, the negative is 1 from the positive: 2 − 1 + 1.
/// let loss = TripletMarginLoss::new().norm_degree(1.0).eps(0.0).swap(true);
/// assert_eq!(loss.forward(&anchor, &positive, &negative).item(), 2.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TripletMarginLoss {
    margin: f32,
    p: f32,
    eps: f32,
    swap: bool,
    reduction: Reduction,
}

impl Default for TripletMarginLoss {
    /// PyTorch's defaults: margin 1, `p = 2`, `eps = 1e-6`, no swap, `Mean`.
    fn default() -> Self {
        Self {
            margin: 1.0,
            p: 2.0,
            eps: 1e-6,
            swap: false,
            reduction: Reduction::Mean,
        }
    }
}

impl TripletMarginLoss {
    /// PyTorch's defaults: margin 1, `p = 2`, `eps = 1e-6`, no swap, `Mean`.
    pub fn new() -> Self {
        Self::default()
    }

    /// How much farther than the positive the negative must be (1 by default).
    pub fn margin(mut self, margin: f32) -> Self {
        self.margin = margin;
        self
    }

    /// The degree `p > 0` of the distance's norm (PyTorch's `p`, 2 by default).
    #[doc(alias = "p")]
    pub fn norm_degree(mut self, p: f32) -> Self {
        self.p = p;
        self
    }

    /// What the pairwise distance adds to each difference (1e-6 by default).
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }

    /// Measure the negative from whichever of the anchor and the positive is nearer.
    pub fn swap(mut self, swap: bool) -> Self {
        self.swap = swap;
        self
    }

    /// How the per-row losses are combined (`Mean` by default).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// The loss of `anchor` rows against their `positive` and `negative` rows (one shape).
    #[track_caller]
    pub fn forward(&self, anchor: &Var, positive: &Var, negative: &Var) -> Var {
        expect_ok(self.try_forward(anchor, positive, negative))
    }

    /// Fallible [`TripletMarginLoss::forward`].
    #[track_caller]
    pub fn try_forward(&self, anchor: &Var, positive: &Var, negative: &Var) -> Result<Var> {
        const OP: &str = "triplet_margin_loss";
        check_input_target_shapes(OP, anchor, positive)?;
        check_input_target_shapes(OP, anchor, negative)?;
        if anchor.ndim() == 0 {
            return Err(TensorError::new(
                OP,
                ErrorKind::ShapeMismatch,
                "expects [N, D] or [D] embeddings, found a scalar",
            ));
        }
        if !(self.p > 0.0 && self.p.is_finite()) {
            return Err(TensorError::new(
                OP,
                ErrorKind::InvalidArgument,
                format!(
                    "the norm degree p must be positive and finite, found {}",
                    self.p
                ),
            ));
        }
        let distance = |x: &Var, y: &Var| x.sub(y).add_scalar(self.eps).norm_last_axis(self.p);
        let mut to_negative = distance(anchor, negative);
        if self.swap {
            to_negative = to_negative.minimum(&distance(positive, negative));
        }
        let gap = distance(anchor, positive).sub(&to_negative);
        Ok(reduce(gap.add_scalar(self.margin).relu(), self.reduction))
    }
}

/// Triplet margin loss over rows, averaged: [`TripletMarginLoss`] with PyTorch's defaults
/// (margin 1, `p = 2`, `eps = 1e-6`, no swap).
#[track_caller]
pub fn triplet_margin_loss(anchor: &Var, positive: &Var, negative: &Var) -> Var {
    expect_ok(try_triplet_margin_loss(anchor, positive, negative))
}

/// Fallible [`triplet_margin_loss`].
#[track_caller]
pub fn try_triplet_margin_loss(anchor: &Var, positive: &Var, negative: &Var) -> Result<Var> {
    TripletMarginLoss::new().try_forward(anchor, positive, negative)
}
