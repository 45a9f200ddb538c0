//! Loss functions. Class-index targets are `&Tensor`s of whole numbers; value targets are
//! `&Var`s, so they can come from another model (a teacher) or be constants.
//!
//! One kind of loss per file: class-index targets (`class.rs`: cross-entropy, NLL), binary
//! targets (`binary.rs`: BCE), `regression.rs`, `divergence.rs` (KL) and `distance.rs`
//! (losses over embeddings).

mod binary;
mod class;
mod distance;
mod divergence;
mod regression;

pub use binary::{
    bce_loss, bce_with_logits, try_bce_loss, try_bce_with_logits, BceLoss, BceWithLogitsLoss,
};
pub use class::{
    cross_entropy, nll_loss, try_cross_entropy, try_nll_loss, CrossEntropyLoss, NllLoss,
};
pub use distance::{
    contrastive_loss, cosine_embedding_loss, cosine_similarity, triplet_margin_loss,
    try_contrastive_loss, try_cosine_embedding_loss, try_cosine_similarity,
    try_triplet_margin_loss, TripletMarginLoss,
};
pub use divergence::{kl_div, try_kl_div};
pub use regression::{l1_loss, mse_loss, try_l1_loss, try_mse_loss};

use strata_autograd::Var;
use strata_tensor::{ErrorKind, Result, TensorError};

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

/// The lanes of a tensor along one axis: lane `r`, the `r`-th position (row-major) of the
/// shape without that axis, holds `len` elements `stride` apart.
#[derive(Debug, Clone, Copy)]
struct Lanes {
    len: usize,
    stride: usize,
}

impl Lanes {
    fn along(shape: &[usize], axis: usize) -> Self {
        Self {
            len: shape[axis],
            stride: shape[axis + 1..].iter().product(),
        }
    }

    /// The flat index of the first element of lane `r`.
    fn start(self, r: usize) -> usize {
        (r / self.stride) * self.len * self.stride + r % self.stride
    }

    /// The flat indices of the elements of lane `r`.
    fn indices(self, r: usize) -> impl Iterator<Item = usize> {
        let start = self.start(r);
        (0..self.len).map(move |k| start + k * self.stride)
    }
}
