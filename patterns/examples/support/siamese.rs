//! Metric learning on the digits: a shared MLP encoder into an 8-dimensional embedding,
//! trained with the contrastive or the triplet loss on pairs and triplets drawn from the
//! training digits, judged by nearest-neighbour classification of held-out digits.

use super::data::PIXELS;
use super::pairs::{Pairs, Triplets};
use super::{epochs, fit, Progress};
use strata_datasets::{DataLoader, TensorDataset};
use strata_modules::{Adam, Dense, Relu, Sequential};
use strata_patterns::{nearest_neighbour_accuracy, MetricLoss, Siamese};
use strata_tensor::Rng;

/// Seed of initialisation, tuples and batch order.
pub const SEED: u64 = 5;

/// Width of the embedding: small enough that a random projection loses much of the class
/// structure (so the test can see learning), large enough to separate ten classes.
pub const EMBEDDING: usize = 8;
/// Width of the encoder's hidden layer.
const HIDDEN: usize = 64;
/// Pairs or triplets drawn from the training digits.
pub const TUPLES: usize = 12_800;
/// Passes over them: 600 steps in all.
pub const EPOCHS: usize = 3;
/// Pairs or triplets per step.
const BATCH: usize = 64;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 3e-3;
/// Margin of both losses: dissimilar embeddings are pushed at least this far apart.
const MARGIN: f32 = 1.0;
/// The contrastive loss on pairs, half of one class and half of two classes.
pub const CONTRASTIVE: MetricLoss = MetricLoss::Contrastive { margin: MARGIN };
/// The triplet loss on (anchor, same-class positive, other-class negative).
pub const TRIPLET: MetricLoss = MetricLoss::Triplet { margin: MARGIN };

/// The encoder every branch shares: 64 → 64 (ReLU) → 8.
pub fn build(rng: &mut Rng) -> Siamese<Sequential> {
    Siamese::new(
        Sequential::new()
            .push(Dense::new(PIXELS, HIDDEN, rng))
            .push(Relu)
            .push(Dense::new(HIDDEN, EMBEDDING, rng)),
    )
}

/// Trains the shared encoder with `loss` on tuples of the training digits.
pub fn train(
    loss: MetricLoss,
    digits: &TensorDataset,
    seed: u64,
    progress: Progress,
) -> Siamese<Sequential> {
    let mut model = build(&mut Rng::new(seed)).trained_with(loss);
    let loader = match loss {
        MetricLoss::Contrastive { .. } => DataLoader::new(Pairs::new(digits, TUPLES, seed), BATCH),
        MetricLoss::Triplet { .. } => DataLoader::new(Triplets::new(digits, TUPLES, seed), BATCH),
    };
    fit(
        &mut model,
        &mut Adam::new(LEARNING_RATE),
        epochs(EPOCHS),
        &loader.shuffle(seed),
        (),
        progress,
    );
    model
}

/// Nearest-neighbour accuracy of held-out digits against the training digits, in the
/// embedding of `model`.
pub fn embedding_accuracy(
    model: &Siamese<Sequential>,
    train: &TensorDataset,
    test: &TensorDataset,
) -> f32 {
    nearest_neighbour_accuracy(
        &model.embeddings(test.input()),
        test.target(),
        &model.embeddings(train.input()),
        train.target(),
    )
}
