//! Modulation by skip connections and by batch normalisation: the same 20-layer MLP on the
//! spirals trained plain, with a residual connection around each hidden layer, and with
//! batch normalisation after each hidden layer (same seed, data order and budget). Prints the
//! held-out accuracy curve of each and how many epochs each needed to reach 95%.
//!
//! `cargo run --release -p strata-patterns --example residual`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::deep_spirals::{spirals_split, train, Variant, DEPTH, EPOCHS, SEED};
use support::Progress;

/// The accuracy the issue asks the residual network to reach.
const TARGET: f32 = 0.95;
/// Print every this many epochs of a curve.
const CURVE_STRIDE: usize = 5;

fn main() {
    let (train_set, test_set) = spirals_split(SEED);
    let mut summary = Vec::new();
    for variant in Variant::ALL {
        let run = train(variant, SEED, &train_set, &test_set, Progress::Bar);
        let curve: Vec<String> = run
            .curve
            .iter()
            .enumerate()
            .filter(|(e, _)| (e + 1) % CURVE_STRIDE == 0)
            .map(|(e, a)| format!("{}:{:.0}%", e + 1, 100.0 * a))
            .collect();
        println!(
            "{} held-out accuracy by epoch: {}",
            variant.name(),
            curve.join(" ")
        );
        let reached = run
            .epochs_to(TARGET)
            .map_or("never".to_string(), |e| format!("epoch {e}"));
        summary.push(format!(
            "{} {:.1}% (95% at {reached})",
            variant.name(),
            100.0 * run.final_accuracy()
        ));
    }
    println!(
        "{DEPTH}-layer MLP on spirals, held-out accuracy after {EPOCHS} epochs: {}",
        summary.join(", ")
    );
}
