//! Multi-input encoder on two views of each digit: its left half and its right half. A
//! classifier that sees one view is compared with classifiers that encode both views and
//! fuse them (concatenation, sum, product, learned gate), same budget and seed.
//!
//! `cargo run --release -p strata-patterns --example multimodal`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::data::digit_datasets;
use support::multimodal::{held_out_accuracy, train, FusionChoice, View, SEED};
use support::{Progress, SPLIT_SEED};

fn main() {
    let (train_set, test_set) = digit_datasets(SPLIT_SEED);
    let mut best_single: f32 = 0.0;
    for view in View::BOTH {
        let mut model = train(
            &[view],
            FusionChoice::Concat,
            &train_set,
            SEED,
            Progress::Bar,
        );
        let accuracy = held_out_accuracy(&mut model, &test_set);
        best_single = best_single.max(accuracy);
        println!(
            "{view:?} half only: held-out accuracy {:.2}%",
            100.0 * accuracy
        );
    }
    let mut fused = Vec::new();
    for fusion in FusionChoice::ALL {
        let mut model = train(&View::BOTH, fusion, &train_set, SEED, Progress::Bar);
        let accuracy = held_out_accuracy(&mut model, &test_set);
        println!(
            "both halves, {fusion:?} fusion: held-out accuracy {:.2}%",
            100.0 * accuracy
        );
        fused.push(accuracy);
    }
    let worst_fused = fused.iter().copied().fold(f32::INFINITY, f32::min);
    println!(
        "fused models {:.2}%..{:.2}% vs best single view {:.2}% held out",
        100.0 * worst_fused,
        100.0 * fused.iter().copied().fold(0.0, f32::max),
        100.0 * best_single
    );
}
