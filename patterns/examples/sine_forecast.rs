//! Auto-regressive forecasting: an LSTM learns next-value prediction on noisy sine waves
//! (random frequency and phase per series, noise σ = 0.05), then forecasts 10 steps of
//! held-out series from 50 observed ones, feeding its own predictions back.
//!
//! `cargo run --release -p strata-patterns --example sine_forecast`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::sine::{evaluate, train, HISTORY, HORIZON, SEED};
use support::Progress;

fn main() {
    let model = train(SEED, Progress::Bar);
    let error = evaluate(&model);
    println!(
        "{HORIZON}-step forecast after {HISTORY} observed steps: held-out RMSE {:.4} \
         (repeating the last value: {:.4})",
        error.model, error.last_value
    );
}
