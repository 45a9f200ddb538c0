//! Relation learning on the digits: "are these two digits of the same class?", answered by a
//! learned head over the codes of a shared encoder, on pairs never seen in training.

use super::data::evaluation_loader;
use super::data::PIXELS;
use super::pairs::Pairs;
use super::{epochs, fit, Progress};
use strata_datasets::{DataLoader, TensorDataset};
use strata_modules::{evaluate, Adam, Dense, Relu, Sequential};
use strata_patterns::Relation;
use strata_tensor::Rng;

/// Seed of initialisation, training pairs and batch order.
pub const SEED: u64 = 7;
/// Seed of the held-out pairs.
pub const TEST_SEED: u64 = 8;
/// The relation models of this recipe.
pub type PairModel = Relation<Sequential, Sequential>;

/// Width of each digit's code.
const CODE: usize = 32;
/// Width of the hidden layers.
const HIDDEN: usize = 64;
/// Pairs drawn from the training digits.
pub const PAIRS: usize = 12_800;
/// Passes over them: 800 steps in all.
pub const EPOCHS: usize = 4;
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

/// Trains the relation model on balanced pairs of training digits.
pub fn train(digits: &TensorDataset, seed: u64, progress: Progress) -> PairModel {
    let mut model = build(&mut Rng::new(seed));
    let loader = DataLoader::new(Pairs::new(digits, PAIRS, seed), BATCH).shuffle(seed);
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

/// Accuracy on [`TEST_PAIRS`] balanced pairs of held-out digits (drawn with `seed`).
pub fn pair_accuracy(model: &mut PairModel, digits: &TensorDataset, seed: u64) -> f32 {
    let pairs = evaluation_loader(Pairs::new(digits, TEST_PAIRS, seed));
    evaluate(model, &pairs).expect("the digits are in memory")["accuracy"]
}
