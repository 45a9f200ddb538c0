//! Relation learning on the digits: "are these two digits of the same class?", answered by a
//! learned head over the codes of a shared encoder, on pairs never seen in training.

use super::data::{rows_by_class, Digits, CLASSES, PIXELS};
use super::step;
use strata_modules::{Adam, Dense, Relu, Sequential, Var};
use strata_patterns::Relation;
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation and training pairs.
pub const SEED: u64 = 7;
/// Seed of the held-out pairs.
pub const TEST_SEED: u64 = 8;
/// The relation models of this recipe.
pub type PairModel = Relation<Sequential, Sequential>;

/// Width of each digit's code.
const CODE: usize = 32;
/// Width of the hidden layers.
const HIDDEN: usize = 64;
/// Training steps.
pub const STEPS: usize = 800;
/// Pairs per step.
const BATCH: usize = 64;
/// Held-out pairs evaluated.
pub const TEST_PAIRS: usize = 2000;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 3e-3;

/// Encoder 64 → 64 (ReLU) → 32 (ReLU); head over the 64 pair features → 64 (ReLU) → 1.
pub fn build(rng: &mut Rng) -> PairModel {
    let encoder = Sequential::new()
        .push(Dense::new(PIXELS, HIDDEN, rng))
        .push(Relu)
        .push(Dense::new(HIDDEN, CODE, rng))
        .push(Relu);
    let head = Sequential::new()
        .push(Dense::new(2 * CODE, HIDDEN, rng))
        .push(Relu)
        .push(Dense::new(HIDDEN, 1, rng));
    Relation::new(encoder, head)
}

/// `count` pairs of rows of `digits`, alternately of one class (related, 1) and of two
/// classes (0): balanced, so always answering one way scores 50%.
pub fn pairs(digits: &Digits, count: usize, rng: &mut Rng) -> (Tensor, Tensor, Tensor) {
    let labels = digits.label_ids();
    let by_class = rows_by_class(&labels);
    let (mut left, mut right, mut related) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..count {
        let a = rng.below(digits.len());
        let same = i % 2 == 0;
        let class = if same {
            labels[a]
        } else {
            (labels[a] + 1 + rng.below(CLASSES - 1)) % CLASSES
        };
        let rows = &by_class[class];
        left.push(a);
        right.push(rows[rng.below(rows.len())]);
        related.push(if same { 1.0 } else { 0.0 });
    }
    (
        digits.images.index_select(0, &left),
        digits.images.index_select(0, &right),
        Tensor::from_vec(related, &[count]),
    )
}

/// Trains the relation model on fresh training pairs each step.
pub fn train(train: &Digits, seed: u64) -> PairModel {
    let mut rng = Rng::new(seed);
    let mut model = build(&mut rng);
    let mut optimizer = Adam::new(LEARNING_RATE);
    for _ in 0..STEPS {
        let (a, b, related) = pairs(train, BATCH, &mut rng);
        let loss = model.loss(&Var::constant(a), &Var::constant(b), &related);
        step(&mut model, &mut optimizer, &loss);
    }
    model
}

/// Accuracy on [`TEST_PAIRS`] pairs of held-out digits (drawn with `seed`).
pub fn pair_accuracy(model: &PairModel, test: &Digits, seed: u64) -> f32 {
    let (a, b, related) = pairs(test, TEST_PAIRS, &mut Rng::new(seed));
    super::data::accuracy(&model.predict(&a, &b), &related)
}
