//! Auto-regressive language model with attention: a small causal transformer (GPT) over the
//! characters of *Moby-Dick*, trained on the same windows of the first 90% as the LSTM of the
//! `char_lm` example and judged in bits per character on the last 10% against unigram and
//! bigram counts; then it writes a sample, reusing the cached keys and values of the
//! characters already read.
//!
//! `cargo run --release -p strata-patterns --example char_transformer`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use std::time::Instant;
use support::char_lm::{corpus, PROMPT};
use support::char_transformer::{evaluate, generate, train, SEED};
use support::Progress;

fn main() {
    let corpus = corpus();
    let started = Instant::now();
    let model = train(&corpus, SEED, Progress::Bar);
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "sample (temperature 0.8, top-10):\n{PROMPT}{}\n",
        generate(&model, &corpus, PROMPT, SEED)
    );
    let bits = evaluate(&model, &corpus);
    println!(
        "held-out bits per character: transformer {:.3} ({seconds:.0} s of training), bigram {:.3}, unigram {:.3}",
        bits.model, bits.baselines.bigram, bits.baselines.unigram
    );
}
