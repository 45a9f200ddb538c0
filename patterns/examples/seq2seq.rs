//! Sequence to sequence: a GRU encoder reads a random sequence of 5 to 10 digits into its
//! final state, a GRU decoder writes the sequence reversed. Trained with teacher forcing on
//! batches of mixed lengths, evaluated by greedy decoding on held-out sequences (exact match
//! of the whole sequence).
//!
//! `cargo run --release -p strata-patterns --example seq2seq`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::seq2seq::{
    exact_accuracy, held_out, train, EPOCHS, LENGTHS, SEED, TEST_PER_LENGTH, TEST_SEED,
    TRAIN_SEQUENCES,
};
use support::Progress;

fn main() {
    let test = held_out(TEST_SEED);
    let mut model = train(&test, SEED, Progress::Bar);
    for length in LENGTHS {
        let group: Vec<Vec<usize>> = test.iter().filter(|s| s.len() == length).cloned().collect();
        println!(
            "length {length:2}: {:.1}% of {TEST_PER_LENGTH} held-out sequences reversed exactly",
            100.0 * exact_accuracy(&mut model, &group)
        );
    }
    println!(
        "after {EPOCHS} epochs over {TRAIN_SEQUENCES} sequences (teacher forcing): held-out exact-sequence accuracy {:.2}% (greedy decoding)",
        100.0 * exact_accuracy(&mut model, &test)
    );
}
