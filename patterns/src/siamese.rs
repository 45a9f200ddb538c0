//! Siamese networks (metric learning): one encoder applied to every member of a pair or
//! triplet, trained so that distances in its embedding reflect similarity.
//!
//! The weights are shared by construction: there is a single encoder, used once per branch
//! in the same recorded graph, so the backward pass sums the gradients of all branches into
//! its parameters.

use strata_autograd::{no_grad, Var};
use strata_modules::{contrastive_loss, triplet_margin_loss, Module, Params, Reduction};
use strata_tensor::Tensor;

/// A shared encoder `E` applied to several inputs, with the metric-learning losses.
///
/// ```
/// use strata_modules::{Dense, Var};
/// use strata_patterns::Siamese;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let siamese = Siamese::new(Dense::new(4, 2, &mut rng));
/// let a = Var::constant(Tensor::rand_normal(&[3, 4], 0.0, 1.0, &mut rng));
/// let b = Var::constant(Tensor::rand_normal(&[3, 4], 0.0, 1.0, &mut rng));
/// let same = Tensor::from_vec(vec![1.0, 0.0, 1.0], &[3]);
/// let loss = siamese.contrastive_loss(&a, &b, &same, 1.0);
/// assert!(loss.item() >= 0.0);
/// ```
#[derive(Params)]
pub struct Siamese<E> {
    /// The one encoder every branch uses.
    pub encoder: E,
}

impl<E: Module> Siamese<E> {
    /// Shares `encoder` between the branches.
    pub fn new(encoder: E) -> Self {
        Self { encoder }
    }

    /// The embedding of a batch `[N, D]` (recorded).
    pub fn embed(&self, x: &Var) -> Var {
        self.encoder.forward(x)
    }

    /// The embeddings of a batch for inspection or retrieval (nothing recorded).
    pub fn embeddings(&self, x: &Tensor) -> Tensor {
        no_grad(|| self.embed(&Var::constant(x.clone())).value().clone())
    }

    /// Both branches of a pair through the same encoder.
    pub fn forward_pair(&self, a: &Var, b: &Var) -> (Var, Var) {
        (self.embed(a), self.embed(b))
    }

    /// Contrastive loss of pairs (`same` is 1 for similar pairs, 0 for dissimilar): similar
    /// embeddings are pulled together, dissimilar ones pushed at least `margin` apart.
    pub fn contrastive_loss(&self, a: &Var, b: &Var, same: &Tensor, margin: f32) -> Var {
        let (za, zb) = self.forward_pair(a, b);
        contrastive_loss(&za, &zb, same, margin, Reduction::Mean)
    }

    /// Triplet loss: the anchor must be closer to the positive than to the negative by at
    /// least `margin`.
    pub fn triplet_loss(&self, anchor: &Var, positive: &Var, negative: &Var, margin: f32) -> Var {
        let (za, zp, zn) = (
            self.embed(anchor),
            self.embed(positive),
            self.embed(negative),
        );
        triplet_margin_loss(&za, &zp, &zn, margin, Reduction::Mean)
    }
}

impl<E: Module> Module for Siamese<E> {
    /// The embedding of one batch.
    fn forward(&self, x: &Var) -> Var {
        self.embed(x)
    }
}

/// Classifies each query by the label of its nearest reference (Euclidean distance) and
/// returns the fraction classified correctly: how well an embedding separates the classes.
///
/// `queries` `[Q, D]` and `references` `[R, D]`; labels `[Q]` and `[R]`.
pub fn nearest_neighbour_accuracy(
    queries: &Tensor,
    query_labels: &Tensor,
    references: &Tensor,
    reference_labels: &Tensor,
) -> f32 {
    // ‖q − r‖² = ‖q‖² − 2·q·r + ‖r‖²; the ‖q‖² term does not change the arg-min.
    let cross = queries.matmul(&references.t());
    let reference_norms = references.square().sum_axes(&[1], false).unsqueeze(0);
    let nearest = reference_norms.sub(&cross.mul_scalar(2.0)).argmin(1, false);
    let reference_labels = reference_labels.values();
    let correct = nearest
        .values()
        .iter()
        .zip(query_labels.values().iter())
        .filter(|(&r, &label)| reference_labels[r as usize] == label)
        .count();
    correct as f32 / query_labels.numel().max(1) as f32
}
