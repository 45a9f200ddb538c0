//! Three tasks on one digit representation: which digit (multi-class, softmax), is it odd
//! (binary, sigmoid), is it ≥ 5 (binary, sigmoid). The two yes/no heads together are a
//! multi-label answer; the class head is a multi-class one.

use super::data::{shuffled_batches, Digits, CLASSES, PIXELS};
use super::step;
use strata_modules::{Adam, BinaryClassification, Classification, Dense, Relu, Sequential, Var};
use strata_patterns::{MultiOutput, TaskMetrics};
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation and batch order.
pub const SEED: u64 = 11;
/// The multi-task model of this recipe: an MLP trunk and three dense heads.
pub type Model = MultiOutput<Sequential, Dense>;

/// Task names, in head order.
pub const CLASS: &str = "class";
/// Whether the digit is odd.
pub const PARITY: &str = "parity";
/// Whether the digit is 5 or more.
pub const AT_LEAST_FIVE: &str = "at_least_5";

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

/// The three targets of a batch: class ids `[N]`, parity and "≥ 5" as 0/1 `[N, 1]`.
pub fn targets(labels: &Tensor) -> [Tensor; 3] {
    let column = labels.unsqueeze(1);
    [
        labels.clone(),
        column.map(|d| (d as usize % 2) as f32),
        column.ge(&Tensor::scalar(5.0)),
    ]
}

/// Runs `f` with the named targets of `labels`.
fn with_targets<R>(labels: &Tensor, f: impl FnOnce(&[(&str, &Tensor)]) -> R) -> R {
    let [class, parity, at_least_five] = targets(labels);
    f(&[
        (CLASS, &class),
        (PARITY, &parity),
        (AT_LEAST_FIVE, &at_least_five),
    ])
}

/// Trains the three tasks together on the weighted sum of their losses.
pub fn train(train: &Digits, seed: u64) -> Model {
    let mut rng = Rng::new(seed);
    let mut model = build(&mut rng);
    let mut optimizer = Adam::new(LEARNING_RATE);
    for _ in 0..EPOCHS {
        for rows in shuffled_batches(train.len(), BATCH, &mut rng) {
            let batch = train.rows(&rows);
            let outputs = model.forward(&Var::constant(batch.images));
            let loss = with_targets(&batch.labels, |t| model.loss(&outputs, t));
            step(&mut model, &mut optimizer, &loss.total);
        }
    }
    model
}

/// Each task's held-out loss and accuracy.
pub fn evaluate(model: &mut Model, test: &Digits) -> Vec<TaskMetrics> {
    with_targets(&test.labels, |t| model.evaluate(&test.images, t))
}
