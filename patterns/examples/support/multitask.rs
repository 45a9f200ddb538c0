//! Three tasks on one digit representation: which digit (multi-class, softmax), is it odd
//! (binary, sigmoid), is it ≥ 5 (binary, sigmoid). The two yes/no heads together are a
//! multi-label answer; the class head is a multi-class one.

use super::data::evaluation_loader;
use super::data::{CLASSES, PIXELS};
use super::{epochs, fit, Progress};
use strata_datasets::{DataLoader, Fields, TensorDataset};
use strata_modules::{
    evaluate, Adam, BinaryClassification, Classification, Dense, MetricValues, Relu, Sequential,
};
use strata_patterns::MultiOutput;
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation and batch order.
pub const SEED: u64 = 11;
/// The multi-task model of this recipe: an MLP trunk and three dense heads.
pub type Model = MultiOutput<Sequential, Dense>;

/// Task names, in head order: which digit.
pub const CLASS: &str = "class";
/// Whether the digit is odd.
pub const PARITY: &str = "parity";
/// Whether the digit is 5 or more.
pub const AT_LEAST_FIVE: &str = "at_least_5";
/// The three tasks, in head order.
pub const TASKS: [&str; 3] = [CLASS, PARITY, AT_LEAST_FIVE];

/// Width of the shared representation.
const HIDDEN: usize = 128;
/// Passes over the training digits.
pub const EPOCHS: usize = 40;
/// Mini-batch size.
const BATCH: usize = 32;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 3e-3;
/// Loss weights: the ten-way task carries most of the information; the two binary tasks are
/// functions of it and get half weight each.
const WEIGHTS: [f32; 3] = [1.0, 0.5, 0.5];

/// Trunk 64 → 128 (ReLU); a 10-way head and two 1-logit heads.
pub fn build(rng: &mut Rng) -> Model {
    let trunk = Sequential::new()
        .push(Dense::new(PIXELS, HIDDEN, rng))
        .push(Relu);
    MultiOutput::new(trunk)
        .with_head(
            CLASS,
            Dense::new(HIDDEN, CLASSES, rng),
            Classification::default(),
            WEIGHTS[0],
        )
        .with_head(
            PARITY,
            Dense::new(HIDDEN, 1, rng),
            BinaryClassification,
            WEIGHTS[1],
        )
        .with_head(
            AT_LEAST_FIVE,
            Dense::new(HIDDEN, 1, rng),
            BinaryClassification,
            WEIGHTS[2],
        )
}

/// The digits with one target per task, named after it: class ids `[N]`, parity and "≥ 5"
/// as 0/1 `[N, 1]`.
pub fn tasks(digits: &TensorDataset) -> TensorDataset {
    let labels = digits.target();
    let column = labels.unsqueeze(1);
    TensorDataset::from_fields(
        Fields::new().with("image", digits.input().clone()),
        Fields::new()
            .with(CLASS, labels.clone())
            .with(PARITY, column.map(|d| (d as usize % 2) as f32))
            .with(AT_LEAST_FIVE, column.ge(&Tensor::scalar(5.0))),
    )
    .expect("one set of targets per image")
}

/// Trains the three tasks together on the weighted sum of their losses.
pub fn train(digits: &TensorDataset, seed: u64, progress: Progress) -> Model {
    let mut model = build(&mut Rng::new(seed));
    let loader = DataLoader::new(tasks(digits), BATCH).shuffle(seed);
    fit(
        &mut model,
        &mut Adam::new(LEARNING_RATE),
        epochs(EPOCHS),
        &loader,
        (),
        progress,
    );
    model
}

/// Each task's held-out loss and accuracy (`class.loss`, `class.accuracy`, …).
pub fn evaluate_tasks(model: &mut Model, digits: &TensorDataset) -> MetricValues {
    evaluate(model, &evaluation_loader(tasks(digits))).expect("the digits are in memory")
}
