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

pub use strata_autograd::Reduction;

use strata_autograd::Var;
use strata_tensor::{ErrorKind, Result, TensorError};

#[track_caller]
fn reduce(loss: Var, reduction: Reduction) -> Var {
    match reduction {
        Reduction::Mean => loss.mean(),
        Reduction::BatchMean => {
            let batch = loss.shape().first().copied().unwrap_or(1).max(1);
            loss.sum().mul_scalar(1.0 / batch as f32)
        }
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
