//! Losses over embeddings: cosine similarity and the cosine-embedding loss, the contrastive
//! loss, and the triplet margin loss with PyTorch's options.

use super::{reduce, same_shape, Reduction};
use strata_autograd::Var;
use strata_tensor::{expect_ok, Axis, ErrorKind, Result, Tensor, TensorError};

/// Small constant inside the square root of the contrastive loss's distance, so that its
/// gradient stays finite at 0.
const DISTANCE_EPS: f32 = 1e-6;

/// PyTorch's cosine-embedding loss adds this to each squared magnitude.
const MAGNITUDE_EPS: f32 = 1e-12;

/// Euclidean distance between rows of two `[N, D]` batches, `[N]`.
fn row_distance(a: &Var, b: &Var) -> Var {
    a.sub(b)
        .square()
        .sum_axes(&[-1], false)
        .add_scalar(DISTANCE_EPS)
        .sqrt()
}

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

/// Cosine-embedding loss over rows of `[N, D]` pairs with labels `y = ±1`, PyTorch's formula:
/// `1 − cos(a, b)` where `y = 1`, `max(0, cos(a, b) − margin)` where `y = −1`, with
/// `cos = a·b / √((‖a‖² + 1e-12)(‖b‖² + 1e-12))`. Other labels are refused.
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
    const OP: &str = "cosine_embedding_loss";
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
        same_shape(OP, anchor, positive)?;
        same_shape(OP, anchor, negative)?;
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

/// Triplet margin loss over rows with a given margin: [`TripletMarginLoss`] with PyTorch's
/// other defaults (`p = 2`, `eps = 1e-6`, no swap).
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
    TripletMarginLoss::new()
        .margin(margin)
        .reduction(reduction)
        .try_forward(anchor, positive, negative)
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
