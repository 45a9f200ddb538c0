//! Modulation by attention: attention pooling over a set of ten numbers in [0, 1) learns to
//! weight the largest one, and a head reads the maximum from the pooled summary.
//!
//! `cargo run --release -p strata-patterns --example attention_pooling`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::max_of_set::{
    baseline_error, train, ATTENDS_TO_MAX, MAE, SEED, SET_SIZE, WEIGHT_ON_MAX,
};
use support::Progress;

fn main() {
    let (_, held_out) = train(SEED, Progress::Bar);
    println!(
        "attention peaks on the largest number in {:.1}% of held-out sets (mean weight {:.2})",
        100.0 * held_out[ATTENDS_TO_MAX],
        held_out[WEIGHT_ON_MAX]
    );
    println!(
        "maximum of {SET_SIZE} numbers: held-out mean absolute error {:.4} (always guessing the \
         mean maximum: {:.4})",
        held_out[MAE],
        baseline_error()
    );
}
