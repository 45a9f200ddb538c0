//! Sequence to sequence: a GRU encoder reads a random sequence of 5 to 10 digits into its
//! final state, a GRU decoder writes the sequence reversed. Trained with teacher forcing,
//! evaluated by greedy decoding on held-out sequences (exact match of the whole sequence).
//!
//! `cargo run --release -p strata-patterns --example seq2seq`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::seq2seq::{
    exact_accuracy, held_out, train, LENGTHS, SEED, STEPS, TEST_PER_LENGTH, TEST_SEED,
};

fn main() {
    let test = held_out(TEST_SEED);
    let model = train(&test, SEED);
    for length in LENGTHS {
        let group: Vec<Vec<usize>> = test.iter().filter(|s| s.len() == length).cloned().collect();
        println!(
            "length {length:2}: {:.1}% of {TEST_PER_LENGTH} held-out sequences reversed exactly",
            100.0 * exact_accuracy(&model, &group)
        );
    }
    println!(
        "after {STEPS} teacher-forced steps: held-out exact-sequence accuracy {:.2}% (greedy decoding)",
        100.0 * exact_accuracy(&model, &test)
    );
}
