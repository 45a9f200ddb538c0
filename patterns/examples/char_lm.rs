//! Auto-regressive language model: an LSTM over the characters of *Moby-Dick* (embedded in
//! strata-datasets), trained on the first 90% of the book and judged in bits per character
//! on the last 10% against unigram and bigram counts; then it writes a sample, feeding each
//! drawn character back as its next input.
//!
//! `cargo run --release -p strata-patterns --example char_lm`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use std::time::Instant;
use support::char_lm::{corpus, evaluate, generate, train, PROMPT, SEED};
use support::Progress;

fn main() {
    let corpus = corpus();
    let started = Instant::now();
    let model = train(&corpus, SEED, Progress::Bar);
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "sample (temperature 0.8, top-10):\n{PROMPT}{}\n",
        generate(&model, &corpus, SEED)
    );
    let bits = evaluate(&model, &corpus);
    println!(
        "held-out bits per character: LSTM {:.3} ({seconds:.0} s of training), bigram {:.3}, unigram {:.3}",
        bits.model, bits.bigram, bits.unigram
    );
}
