//! Metric learning on the digits: a shared MLP encoder into an 8-dimensional embedding,
//! trained with the contrastive or the triplet loss on pairs and triplets drawn from the
//! training digits, judged by nearest-neighbour classification of held-out digits.

use super::data::{rows_by_class, Digits, CLASSES, PIXELS};
use super::step;
use strata_autograd::Var;
use strata_modules::{Adam, Dense, Relu, Sequential};
use strata_patterns::{nearest_neighbour_accuracy, Siamese};
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation and sampling.
pub const SEED: u64 = 5;
/// Which metric-learning loss trains the encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricLoss {
    /// Pairs, half of one class and half of two classes.
    Contrastive,
    /// (anchor, same-class positive, other-class negative) triplets.
    Triplet,
}

/// Width of the embedding: small enough that a random projection loses much of the class
/// structure (so the test can see learning), large enough to separate ten classes.
pub const EMBEDDING: usize = 8;
/// Width of the encoder's hidden layer.
const HIDDEN: usize = 64;
/// Training steps.
pub const STEPS: usize = 600;
/// Pairs or triplets per step.
const BATCH: usize = 64;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 3e-3;
/// Margin of both losses: dissimilar embeddings are pushed at least this far apart.
const MARGIN: f32 = 1.0;

/// The encoder every branch shares: 64 → 64 (ReLU) → 8.
pub fn build(rng: &mut Rng) -> Siamese<Sequential> {
    Siamese::new(
        Sequential::new()
            .push(Dense::new(PIXELS, HIDDEN, rng))
            .push(Relu)
            .push(Dense::new(HIDDEN, EMBEDDING, rng)),
    )
}

/// Draws a row of class `class`.
fn row_of(by_class: &[Vec<usize>], class: usize, rng: &mut Rng) -> usize {
    let rows = &by_class[class];
    rows[rng.below(rows.len())]
}

/// A class other than `class`.
fn other_class(class: usize, rng: &mut Rng) -> usize {
    (class + 1 + rng.below(CLASSES - 1)) % CLASSES
}

/// Trains the shared encoder with `loss` for [`STEPS`] steps.
pub fn train(loss: MetricLoss, train: &Digits, seed: u64) -> Siamese<Sequential> {
    let mut rng = Rng::new(seed);
    let mut model = build(&mut rng);
    let mut optimizer = Adam::new(LEARNING_RATE);
    let labels = train.label_ids();
    let by_class = rows_by_class(&labels);
    let pick = |rows: &[usize]| Var::constant(train.images.index_select(0, rows));
    for _ in 0..STEPS {
        let anchors: Vec<usize> = (0..BATCH).map(|_| rng.below(train.len())).collect();
        let value = match loss {
            MetricLoss::Contrastive => {
                // Every other pair is of one class.
                let same: Vec<f32> = (0..BATCH).map(|i| (i % 2 == 0) as u8 as f32).collect();
                let partners: Vec<usize> = anchors
                    .iter()
                    .zip(&same)
                    .map(|(&a, &s)| {
                        let class = if s > 0.0 {
                            labels[a]
                        } else {
                            other_class(labels[a], &mut rng)
                        };
                        row_of(&by_class, class, &mut rng)
                    })
                    .collect();
                let same = Tensor::from_vec(same, &[BATCH]);
                model.contrastive_loss(&pick(&anchors), &pick(&partners), &same, MARGIN)
            }
            MetricLoss::Triplet => {
                let positives: Vec<usize> = anchors
                    .iter()
                    .map(|&a| row_of(&by_class, labels[a], &mut rng))
                    .collect();
                let negatives: Vec<usize> = anchors
                    .iter()
                    .map(|&a| row_of(&by_class, other_class(labels[a], &mut rng), &mut rng))
                    .collect();
                model.triplet_loss(
                    &pick(&anchors),
                    &pick(&positives),
                    &pick(&negatives),
                    MARGIN,
                )
            }
        };
        step(&mut model, &mut optimizer, &value);
    }
    model
}

/// Nearest-neighbour accuracy of held-out digits against the training digits, in the
/// embedding of `model`.
pub fn embedding_accuracy(model: &Siamese<Sequential>, train: &Digits, test: &Digits) -> f32 {
    nearest_neighbour_accuracy(
        &model.embeddings(&test.images),
        &test.labels,
        &model.embeddings(&train.images),
        &train.labels,
    )
}
