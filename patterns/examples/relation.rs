//! Relation learning: a shared encoder codes two digits and a learned head judges whether
//! they show the same digit. Trained on pairs of training digits, evaluated on balanced
//! pairs of held-out digits.
//!
//! `cargo run --release -p strata-patterns --example relation`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::data::digit_datasets;
use support::relation::{pair_accuracy, train, SEED, TEST_PAIRS, TEST_SEED};
use support::{Progress, SPLIT_SEED};

fn main() {
    let (train_set, test_set) = digit_datasets(SPLIT_SEED);
    let mut model = train(&train_set, SEED, Progress::Bar);
    println!("same digit or not, on {TEST_PAIRS} balanced pairs of held-out digits (chance 50%):");
    println!(
        "held-out pair accuracy {:.2}%",
        100.0 * pair_accuracy(&mut model, &test_set, TEST_SEED)
    );
}
