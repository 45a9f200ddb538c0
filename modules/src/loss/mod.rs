//! Loss functions, as in PyTorch: a function with the default options (`cross_entropy(&logits,
//! &labels)`, `mse_loss(&pred, &target)`, …, each averaged over its elements) and a struct
//! whose builder holds every option (`CrossEntropyLoss::new().label_smoothing(0.1)
//! .reduction(Reduction::Sum).forward(&logits, &labels)`). Targets are a `Tensor` or a `Var`
//! ([`LossTarget`]); a `Var` target gets gradients where the loss is differentiable in it.
//!
//! One kind of loss per file: class-index targets (`class.rs`: cross-entropy, NLL), binary
//! targets (`binary.rs`: BCE), `regression.rs`, `divergence.rs` (KL), `pair.rs` (labelled
//! pairs of embeddings) and `distance.rs` (cosine similarity, triplets); `target.rs` says
//! what a target may be.

mod binary;
mod class;
mod distance;
mod divergence;
mod pair;
mod regression;
mod target;

pub use binary::{
    bce_loss, bce_with_logits, try_bce_loss, try_bce_with_logits, BceLoss, BceWithLogitsLoss,
};
pub use class::{
    cross_entropy, nll_loss, try_cross_entropy, try_nll_loss, CrossEntropyLoss, NllLoss,
};
pub use distance::{
    cosine_similarity, triplet_margin_loss, try_cosine_similarity, try_triplet_margin_loss,
    TripletMarginLoss,
};
pub use divergence::{kl_div, try_kl_div, KlDivLoss};
pub use pair::{
    contrastive_loss, cosine_embedding_loss, try_contrastive_loss, try_cosine_embedding_loss,
    ContrastiveLoss, CosineEmbeddingLoss,
};
pub use regression::{l1_loss, mse_loss, try_l1_loss, try_mse_loss, L1Loss, MseLoss};
pub use target::LossTarget;

pub use strata_autograd::Reduction;

use strata_autograd::Var;

/// Per-element losses combined by `reduction` (`BatchMean`: the sum over the first axis's
/// length).
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
