//! Auto-regressive language model with attention: a small causal transformer (GPT) over the
//! characters of *Moby-Dick*, trained on the same windows of the first 90% as the LSTM of the
//! `char_lm` example and judged in bits per character on the last 10% against unigram and
//! bigram counts; then it writes a sample, reusing the cached keys and values of the
//! characters already read. Beside it, the LSTM of `char_lm` trained for the same time.
//!
//! `cargo run --release -p strata-patterns --example char_transformer [SECONDS]`: the
//! transformer trains for its recipe's epochs, or for `SECONDS` when given; the LSTM for as
//! long as the transformer did.

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use std::time::{Duration, Instant};
use support::char_lm::{self, corpus, PROMPT};
use support::char_transformer::{evaluate, generate, train, train_for, SEED};
use support::Progress;

fn main() -> Result<(), String> {
    let budget = match std::env::args().nth(1) {
        Some(seconds) => Some(
            seconds
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    format!("expected a positive number of seconds, found `{seconds}`")
                })?,
        ),
        None => None,
    };
    let corpus = corpus();
    let started = Instant::now();
    let model = match budget {
        Some(time) => train_for(&corpus, SEED, Progress::Bar, time),
        None => train(&corpus, SEED, Progress::Bar),
    };
    let time = started.elapsed();
    println!(
        "sample (temperature 0.8, top-10):\n{PROMPT}{}\n",
        generate(&model, &corpus, PROMPT, SEED)
    );
    let bits = evaluate(&model, &corpus);
    let lstm = char_lm::train_for(&corpus, char_lm::SEED, Progress::Bar, time);
    let lstm_bits = char_lm::evaluate(&lstm, &corpus);
    println!(
        "held-out bits per character after {:.0} s of training each: transformer {:.3}, \
         LSTM {:.3}; bigram {:.3}, unigram {:.3}",
        time.as_secs_f64(),
        bits.model,
        lstm_bits.model,
        bits.baselines.bigram,
        bits.baselines.unigram
    );
    Ok(())
}
