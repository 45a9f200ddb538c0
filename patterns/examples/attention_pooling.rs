//! Modulation by attention: attention pooling over a set of ten numbers in [0, 1) learns to
//! weight the largest one, and a head reads the maximum from the pooled summary.
//!
//! `cargo run --release -p strata-patterns --example attention_pooling`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::max_of_set::{evaluate, train, SEED, SET_SIZE};

fn main() {
    let model = train(SEED);
    let metrics = evaluate(&model);
    println!(
        "attention peaks on the largest number in {:.1}% of held-out sets (mean weight {:.2})",
        100.0 * metrics.attends_to_max,
        metrics.weight_on_max
    );
    println!(
        "maximum of {SET_SIZE} numbers: held-out mean absolute error {:.4} (always guessing the \
         mean maximum: {:.4})",
        metrics.mean_abs_error, metrics.baseline_error
    );
}
