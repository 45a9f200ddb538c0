//! Attention pooling on sets: find the largest of ten numbers. Each number is encoded on its
//! own, an [`AttentionPool`] summarises the set, and a head reads the maximum from the
//! summary. The pool has to learn to put its weight on the largest element.

use super::data::evaluation_loader;
use super::{epochs, fit, Progress};
use strata_autograd::Var;
use strata_datasets::{Batch, DataLoader, TensorDataset};
use strata_modules::{
    accuracy, mean_absolute_error, mse_loss, Adam, Dense, Mean, MetricValues, Module, Params,
    Reduction, Relu, Sequential, Step, TrainStep,
};
use strata_patterns::AttentionPool;
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation, of the training sets and of their order.
pub const SEED: u64 = 17;
/// Seed of the held-out sets.
const TEST_SEED: u64 = 1_017;
/// Numbers in each set, uniform in [0, 1).
pub const SET_SIZE: usize = 10;
/// Width of each element's code.
const WIDTH: usize = 32;
/// Training sets (drawn once, from the run's seed).
const TRAIN_SETS: usize = 9_600;
/// Passes over the training sets: 1500 steps of 64.
const EPOCHS: usize = 10;
/// Sets per training batch.
const BATCH: usize = 64;
/// Held-out sets.
const TEST_SETS: usize = 2000;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 3e-3;

/// Name of the held-out metric: mean absolute error of the predicted maximum.
pub const MAE: &str = "mae";
/// Name of the held-out metric: share of sets whose largest attention weight is on the
/// largest number.
pub const ATTENDS_TO_MAX: &str = "attends_to_max";
/// Name of the held-out metric: mean attention weight on the largest number.
pub const WEIGHT_ON_MAX: &str = "weight_on_max";

/// Element encoder, attention pool, head.
#[derive(Params)]
pub struct MaxModel {
    /// One number → its code, `1 → 32 → 32`.
    pub encoder: Sequential,
    /// The set's codes → one summary.
    pub pool: AttentionPool,
    /// Summary → the maximum.
    pub head: Sequential,
}

impl MaxModel {
    /// Predicted maxima `[N, 1]` and attention weights `[N, SET_SIZE]` for sets `[N, SET_SIZE]`.
    pub fn predict(&self, sets: &Tensor) -> (Var, Var) {
        let elements = Var::constant(sets.unsqueeze(2));
        let codes = self.encoder.forward(&elements);
        let (summary, weights) = self.pool.pool(&codes);
        (self.head.forward(&summary), weights)
    }
}

impl TrainStep for MaxModel {
    /// Squared error of the predicted maxima; reports the mean absolute error and where the
    /// attention went (share of sets peaking on the largest number, mean weight on it).
    fn step(&self, batch: &Batch) -> Step {
        let (sets, maxima) = (batch.input(), batch.target());
        let (predicted, weights) = self.predict(sets);
        let loss = mse_loss(&predicted, &Var::constant(maxima.clone()), Reduction::Mean);
        let n = batch.len();
        let on_largest = weights.value().mul(&sets.eq(maxima)).sum().item();
        Step::new(loss, n)
            .with(MAE, mean_absolute_error(predicted.value(), maxima))
            .with(
                ATTENDS_TO_MAX,
                accuracy(weights.value(), &sets.argmax(1, false)),
            )
            .with(WEIGHT_ON_MAX, Mean::of(on_largest / n as f32, n))
    }
}

/// `n` sets `[n, SET_SIZE]` and their maxima `[n, 1]`.
pub fn sets(n: usize, rng: &mut Rng) -> TensorDataset {
    let sets = Tensor::rand_uniform(&[n, SET_SIZE], 0.0, 1.0, rng);
    let maxima = sets.max_axes(&[1], true);
    TensorDataset::new(sets, maxima).expect("one maximum per set")
}

/// Trains the model on the squared error of the predicted maximum (initialisation, training
/// sets and their order from `seed`), validating on the held-out sets after every epoch;
/// returns it with its last held-out metrics ([`MAE`], [`ATTENDS_TO_MAX`], [`WEIGHT_ON_MAX`]).
pub fn train(seed: u64, progress: Progress) -> (MaxModel, MetricValues) {
    let mut rng = Rng::new(seed);
    let mut model = MaxModel {
        encoder: Sequential::new()
            .push(Dense::new(1, WIDTH, &mut rng))
            .push(Relu)
            .push(Dense::new(WIDTH, WIDTH, &mut rng)),
        pool: AttentionPool::new(WIDTH, &mut rng),
        head: Sequential::new()
            .push(Dense::new(WIDTH, WIDTH, &mut rng))
            .push(Relu)
            .push(Dense::new(WIDTH, 1, &mut rng)),
    };
    let train = DataLoader::new(sets(TRAIN_SETS, &mut rng), BATCH).shuffle(seed);
    let test = evaluation_loader(test_sets());
    let history = fit(
        &mut model,
        &mut Adam::new(LEARNING_RATE),
        epochs(EPOCHS),
        &train,
        &test,
        progress,
    );
    let last = history.last().expect("at least one epoch");
    (model, last.validation.clone())
}

/// The held-out sets.
fn test_sets() -> TensorDataset {
    sets(TEST_SETS, &mut Rng::new(TEST_SEED))
}

/// The held-out mean absolute error of always answering the mean maximum of a set,
/// `SET_SIZE / (SET_SIZE + 1)`: the baseline.
pub fn baseline_error() -> f32 {
    let maxima = test_sets().target().clone();
    let expected_max = SET_SIZE as f32 / (SET_SIZE as f32 + 1.0);
    mean_absolute_error(&maxima.full_like(expected_max), &maxima).value()
}
