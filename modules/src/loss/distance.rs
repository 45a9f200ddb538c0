//! Losses over pairs and triplets of embeddings: cosine-embedding, contrastive, triplet margin.

use super::{reduce, same_shape, Reduction};
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Tensor, TensorError};

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
