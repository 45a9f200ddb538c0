//! Multi-output decoder: one trunk and three heads trained together on the digits: which
//! digit (10-way softmax), is it odd (sigmoid), is it 5 or more (sigmoid). The combined loss
//! is the weighted sum of the three; each head is evaluated on held-out digits.
//!
//! `cargo run --release -p strata-patterns --example multitask`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::data::digits_split;
use support::multitask::{evaluate, train, SEED};
use support::SPLIT_SEED;

fn main() {
    let (train_set, test_set) = digits_split(SPLIT_SEED);
    let mut model = train(&train_set, SEED);
    let metrics = evaluate(&mut model, &test_set);
    for task in &metrics {
        println!(
            "{}: held-out loss {:.4}, accuracy {:.2}%",
            task.name,
            task.loss,
            100.0 * task.accuracy.unwrap_or(f32::NAN)
        );
    }
    let summary: Vec<String> = metrics
        .iter()
        .map(|t| format!("{} {:.2}%", t.name, 100.0 * t.accuracy.unwrap_or(f32::NAN)))
        .collect();
    println!("held-out accuracy: {}", summary.join(", "));
}
