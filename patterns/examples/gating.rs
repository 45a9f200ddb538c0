//! Modulation by gating. A GLU classifier on the digits (each hidden feature scaled by a
//! learned sigmoid gate), and the LSTM's gates at work: remember the first of 30 symbols
//! through 29 distractors (its forget gate opened at the start), against a plain tanh RNN of
//! the same width.
//!
//! `cargo run --release -p strata-patterns --example gating`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::gating::{train_glu, train_memory, Cell, LENGTH, SEED};
use support::Progress;

fn main() {
    let glu = train_glu(SEED, Progress::Bar);
    println!(
        "GLU digits classifier: held-out accuracy {:.2}% (mean gate {:.2})",
        100.0 * glu.accuracy,
        glu.mean_gate
    );
    let (_, rnn_accuracy) = train_memory(Cell::Rnn, SEED, Progress::Bar);
    println!(
        "recall the first of {LENGTH} symbols, plain tanh RNN: {:.1}%",
        100.0 * rnn_accuracy
    );
    let (_, lstm_accuracy) = train_memory(Cell::Lstm, SEED, Progress::Bar);
    println!(
        "held-out accuracy: GLU digits {:.2}%, LSTM recall {:.1}% (plain RNN {:.1}%)",
        100.0 * glu.accuracy,
        100.0 * lstm_accuracy,
        100.0 * rnn_accuracy
    );
}
