//! Forecasting noisy sine waves: an LSTM trained to predict the next value of each series
//! (teacher forcing) then reads the first 50 values of held-out series and forecasts the next
//! 10 by feeding its own predictions back.

use super::data::evaluation_loader;
use super::{epochs, fit, Progress};
use strata_datasets::{noisy_sine, DataLoader, TensorDataset};
use strata_modules::{Adam, Dense, Lstm};
use strata_patterns::AutoRegressive;
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation and batch order.
pub const SEED: u64 = 23;
/// Seed of the training series.
const TRAIN_SEED: u64 = 1;
/// Seed of the held-out series.
const TEST_SEED: u64 = 2;
/// Training series.
const TRAIN_SERIES: usize = 512;
/// Held-out series.
const TEST_SERIES: usize = 200;
/// Steps the model reads before forecasting.
pub const HISTORY: usize = 50;
/// Steps forecast.
pub const HORIZON: usize = 10;
/// Standard deviation of the noise on every value (the amplitude is 1).
pub const NOISE: f32 = 0.05;
/// Hidden size of the LSTM.
const HIDDEN: usize = 32;
/// Passes over the training series.
const EPOCHS: usize = 40;
/// Series per batch.
const BATCH: usize = 32;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 1e-2;

/// The model: real-valued steps, an LSTM core, one predicted value per step.
pub type Forecaster = AutoRegressive<Lstm>;

/// The held-out series: values `[N, T, 1]` and the next values.
fn test_series() -> TensorDataset {
    noisy_sine(TEST_SERIES, HISTORY + HORIZON, NOISE, TEST_SEED)
}

/// Trains the forecaster on next-step prediction (mean squared error, teacher forcing;
/// initialisation and batch order from `seed`), validating the one-step predictions of the
/// held-out series after every epoch.
pub fn train(seed: u64, progress: Progress) -> Forecaster {
    let train = noisy_sine(TRAIN_SERIES, HISTORY + HORIZON, NOISE, TRAIN_SEED);
    let train = DataLoader::new(train, BATCH).shuffle(seed);
    let test = evaluation_loader(test_series());
    let mut rng = Rng::new(seed);
    let mut model = AutoRegressive::values(
        Lstm::new(1, HIDDEN, &mut rng),
        Dense::new(HIDDEN, 1, &mut rng),
    );
    fit(
        &mut model,
        &mut Adam::new(LEARNING_RATE),
        epochs(EPOCHS),
        &train,
        &test,
        progress,
    );
    model
}

/// Root-mean-square errors over the forecast horizon of held-out series.
#[derive(Debug, Clone, Copy)]
pub struct ForecastError {
    /// The model's forecast.
    pub model: f32,
    /// Repeating the last value read: the naive baseline.
    pub last_value: f32,
}

/// Forecasts [`HORIZON`] steps after [`HISTORY`] of each held-out series.
pub fn evaluate(model: &Forecaster) -> ForecastError {
    let test = test_series();
    let inputs = test.input();
    let history = inputs.narrow(1, 0, HISTORY);
    let truth = inputs.narrow(1, HISTORY, HORIZON);
    let rmse = |predicted: &Tensor| predicted.sub(&truth).square().mean().item().sqrt();
    let last = history.narrow(1, HISTORY - 1, 1);
    ForecastError {
        model: rmse(&model.forecast(&history, HORIZON)),
        last_value: rmse(&last),
    }
}
