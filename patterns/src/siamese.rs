//! Siamese networks (metric learning): one encoder applied to every member of a pair or
//! triplet, trained so that distances in its embedding reflect similarity.
//!
//! The weights are shared by construction: there is a single encoder, used once per branch
//! in the same recorded graph, so the backward pass sums the gradients of all branches into
//! its parameters.

use strata_autograd::{no_grad, Var};
use strata_datasets::Batch;
use strata_modules::{ContrastiveLoss, Module, Params, Step, TrainStep, TripletMarginLoss};
use strata_tensor::Tensor;

/// The metric-learning loss a [`Siamese`] encoder is trained on, and what its batches hold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetricLoss {
    /// Pairs: the first two inputs, and a first target that is 1 for similar pairs and 0
    /// for dissimilar ones, `[N]`; dissimilar embeddings are pushed `margin` apart.
    Contrastive {
        /// Distance beyond which a dissimilar pair costs nothing.
        margin: f32,
    },
    /// Triplets: the first three inputs are anchor, positive (similar) and negative
    /// (dissimilar); no target.
    Triplet {
        /// How much closer than the negative the positive must be.
        margin: f32,
    },
}

/// Margin of [`Siamese::new`]'s default loss: the usual default (PyTorch's triplet loss),
/// on the scale of embeddings whose layers start with unit-variance outputs.
const DEFAULT_MARGIN: f32 = 1.0;

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
    /// The loss [`TrainStep::step`] minimises.
    #[module(skip)]
    pub loss: MetricLoss,
}

impl<E: Module> Siamese<E> {
    /// Shares `encoder` between the branches; trained on the contrastive loss with margin 1
    /// unless [`Siamese::trained_with`] says otherwise.
    pub fn new(encoder: E) -> Self {
        Self {
            encoder,
            loss: MetricLoss::Contrastive {
                margin: DEFAULT_MARGIN,
            },
        }
    }

    /// The same encoder, trained on `loss` (builder style).
    pub fn trained_with(mut self, loss: MetricLoss) -> Self {
        self.loss = loss;
        self
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
        ContrastiveLoss::new()
            .margin(margin)
            .forward(&za, &zb, same)
    }

    /// Triplet loss: the anchor must be closer to the positive than to the negative by at
    /// least `margin`.
    pub fn triplet_loss(&self, anchor: &Var, positive: &Var, negative: &Var, margin: f32) -> Var {
        let (za, zp, zn) = (
            self.embed(anchor),
            self.embed(positive),
            self.embed(negative),
        );
        TripletMarginLoss::new()
            .margin(margin)
            .forward(&za, &zp, &zn)
    }
}

impl<E: Module> Module for Siamese<E> {
    /// The embedding of one batch.
    fn forward(&self, x: &Var) -> Var {
        self.embed(x)
    }
}

/// Trained by [`strata_modules::Trainer::fit`] on pairs or triplets, as its [`MetricLoss`]
/// says; reports the loss.
///
/// ```
/// use strata_datasets::{DataLoader, Fields, TensorDataset};
/// use strata_modules::{Adam, Dense, TrainConfig, Trainer};
/// use strata_patterns::{MetricLoss, Siamese};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// // Anchors, points near them, and points far from them.
/// let anchor = Tensor::rand_normal(&[64, 4], 0.0, 1.0, &mut rng);
/// let positive = anchor.add(&Tensor::rand_normal(&[64, 4], 0.0, 0.1, &mut rng));
/// let negative = anchor.neg();
/// let data = TensorDataset::from_fields(
///     Fields::new().with("anchor", anchor).with("positive", positive).with("negative", negative),
///     Fields::new(),
/// ).unwrap();
/// let loader = DataLoader::new(data, 16);
/// let mut model = Siamese::new(Dense::new(4, 2, &mut rng))
///     .trained_with(MetricLoss::Triplet { margin: 1.0 });
/// let mut trainer = Trainer::new(TrainConfig { epochs: 30, ..Default::default() });
/// let history = trainer.fit(&mut model, &mut Adam::new(0.02), &loader, ()).unwrap();
/// assert!(history.last().unwrap().train_loss().unwrap() < 0.5 * history[0].train_loss().unwrap());
/// ```
impl<E: Module> TrainStep for Siamese<E> {
    #[track_caller]
    fn step(&self, batch: &Batch) -> Step {
        let input = |i: usize| Var::constant(batch.inputs[i].clone());
        let loss = match self.loss {
            MetricLoss::Contrastive { margin } => {
                self.contrastive_loss(&input(0), &input(1), batch.target(), margin)
            }
            MetricLoss::Triplet { margin } => {
                self.triplet_loss(&input(0), &input(1), &input(2), margin)
            }
        };
        Step::new(loss, batch.len())
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
