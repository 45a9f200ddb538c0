//! Multi-output decoder: one trunk and three heads trained together on the digits: which
//! digit (10-way softmax), is it odd (sigmoid), is it 5 or more (sigmoid). The combined loss
//! is the weighted sum of the three; each head is evaluated on held-out digits.
//!
//! `cargo run --release -p strata-patterns --example multitask`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::data::digit_datasets;
use support::multitask::{evaluate_tasks, train, SEED, TASKS};
use support::{Progress, SPLIT_SEED};

fn main() {
    let (train_set, test_set) = digit_datasets(SPLIT_SEED);
    let mut model = train(&train_set, SEED, Progress::Bar);
    let metrics = evaluate_tasks(&mut model, &test_set);
    let accuracy = |task: &str| 100.0 * metrics[&format!("{task}.accuracy")];
    for task in TASKS {
        println!(
            "{task}: held-out loss {:.4}, accuracy {:.2}%",
            metrics[&format!("{task}.loss")],
            accuracy(task)
        );
    }
    let summary: Vec<String> = TASKS
        .iter()
        .map(|task| format!("{task} {:.2}%", accuracy(task)))
        .collect();
    println!("held-out accuracy: {}", summary.join(", "));
}
