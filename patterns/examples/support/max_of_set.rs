//! Attention pooling on sets: find the largest of ten numbers. Each number is encoded on its
//! own, an [`AttentionPool`] summarises the set, and a head reads the maximum from the
//! summary. The pool has to learn to put its weight on the largest element.

use super::step;
use strata_autograd::{no_grad, Var};
use strata_modules::{mse_loss, Adam, Dense, Module, Params, Reduction, Relu, Sequential};
use strata_patterns::AttentionPool;
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation and of the training sets.
pub const SEED: u64 = 17;
/// Seed of the held-out sets.
const TEST_SEED: u64 = 1_017;
/// Numbers in each set, uniform in [0, 1).
pub const SET_SIZE: usize = 10;
/// Width of each element's code.
const WIDTH: usize = 32;
/// Training steps, each on fresh sets.
const STEPS: usize = 1500;
/// Sets per training batch.
const BATCH: usize = 64;
/// Held-out sets.
const TEST_SETS: usize = 2000;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 3e-3;

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

/// `n` sets `[n, SET_SIZE]` and their maxima `[n, 1]`.
pub fn sets(n: usize, rng: &mut Rng) -> (Tensor, Tensor) {
    let sets = Tensor::rand_uniform(&[n, SET_SIZE], 0.0, 1.0, rng);
    let maxima = sets.max_axes(&[1], true);
    (sets, maxima)
}

/// Trains the model on fresh sets with the squared error of the predicted maximum.
pub fn train(seed: u64) -> MaxModel {
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
    let mut optimizer = Adam::new(LEARNING_RATE);
    for _ in 0..STEPS {
        let (x, maxima) = sets(BATCH, &mut rng);
        let (predicted, _) = model.predict(&x);
        let loss = mse_loss(&predicted, &Var::constant(maxima), Reduction::Mean);
        step(&mut model, &mut optimizer, &loss);
    }
    model
}

/// What the model achieves on held-out sets.
#[derive(Debug, Clone, Copy)]
pub struct MaxMetrics {
    /// Mean absolute error of the predicted maximum.
    pub mean_abs_error: f32,
    /// The same error when always answering the mean maximum (10/11): the baseline.
    pub baseline_error: f32,
    /// Fraction of sets whose largest attention weight is on the largest number.
    pub attends_to_max: f32,
    /// Mean attention weight on the largest number.
    pub weight_on_max: f32,
}

/// Held-out metrics on seeded sets.
pub fn evaluate(model: &MaxModel) -> MaxMetrics {
    let (x, maxima) = sets(TEST_SETS, &mut Rng::new(TEST_SEED));
    let (predicted, weights) = no_grad(|| model.predict(&x));
    let mean_abs_error = predicted.value().sub(&maxima).abs().mean().item();
    let expected_max = SET_SIZE as f32 / (SET_SIZE as f32 + 1.0);
    let baseline_error = maxima.add_scalar(-expected_max).abs().mean().item();
    let largest = x.argmax(1, false).to_vec();
    let attended = weights.value().argmax(1, false).to_vec();
    let weights = weights.value().to_vec();
    let hits = largest
        .iter()
        .zip(&attended)
        .filter(|(a, b)| a == b)
        .count();
    let weight_on_max: f32 = largest
        .iter()
        .enumerate()
        .map(|(row, &i)| weights[row * SET_SIZE + i as usize])
        .sum();
    MaxMetrics {
        mean_abs_error,
        baseline_error,
        attends_to_max: hits as f32 / TEST_SETS as f32,
        weight_on_max: weight_on_max / TEST_SETS as f32,
    }
}
