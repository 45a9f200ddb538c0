//! A character-level transformer language model of *Moby-Dick*: the same corpus, held-out
//! split, training windows and count baselines as the LSTM of [`super::char_lm`], with a
//! small causal transformer (GPT) in place of the LSTM; generation reuses cached keys and
//! values.

use super::char_lm::{Corpus, WINDOW};
use super::{epochs, fit, for_time, Progress};
use std::time::Duration;
use strata_modules::{Adam, TrainConfig, TransformerConfig};
use strata_patterns::{CountBaselines, Sampling, TransformerLm};
use strata_tensor::Rng;

/// Seed of initialisation, of the training windows and of their order.
pub const SEED: u64 = 31;
/// Width of the token vectors.
const WIDTH: usize = 64;
/// Attention heads.
const HEADS: usize = 4;
/// Transformer layers.
const LAYERS: usize = 2;
/// Windows per training batch.
const BATCH: usize = 32;
/// Passes over the training blocks (one random window of each per pass).
const EPOCHS: usize = 3;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 2e-3;
/// Windows scored together when judging the held-out text.
const EVAL_BATCH: usize = 64;

/// Trains the transformer on random windows of the training text (initialisation, windows
/// and their order from `seed`).
pub fn train(corpus: &Corpus, seed: u64, progress: Progress) -> TransformerLm {
    train_with(corpus, seed, progress, epochs(EPOCHS))
}

/// [`train`] for as many epochs as fit in `time` (the last one cut short).
pub fn train_for(corpus: &Corpus, seed: u64, progress: Progress, time: Duration) -> TransformerLm {
    train_with(corpus, seed, progress, for_time(time))
}

fn train_with(
    corpus: &Corpus,
    seed: u64,
    progress: Progress,
    config: TrainConfig,
) -> TransformerLm {
    let mut rng = Rng::new(seed);
    let layer = TransformerConfig::new(WIDTH, HEADS)
        .dim_feedforward(4 * WIDTH)
        .dropout(0.0);
    let mut model = TransformerLm::new(corpus.vocabulary.len(), WINDOW, layer, LAYERS, &mut rng);
    let train = corpus.training_windows(BATCH, seed);
    fit(
        &mut model,
        &mut Adam::new(LEARNING_RATE),
        config,
        &train,
        (),
        progress,
    );
    model
}

/// Held-out bits per character of the transformer and of the two count baselines.
#[derive(Debug, Clone, Copy)]
pub struct BitsPerChar {
    /// The transformer.
    pub model: f64,
    /// The count baselines of the training text.
    pub baselines: CountBaselines,
}

/// Bits per character of the held-out text (windows overlapping by half); the baselines
/// count the training text.
pub fn evaluate(model: &TransformerLm, corpus: &Corpus) -> BitsPerChar {
    let (train, test) = (corpus.ids(&corpus.train), corpus.ids(&corpus.test));
    BitsPerChar {
        model: model.bits_per_token(&test, EVAL_BATCH),
        baselines: CountBaselines::measure(&train, &test, corpus.vocabulary.len()),
    }
}

/// A seeded continuation of `prompt` written by the model, drawn as the LSTM's is.
pub fn generate(model: &TransformerLm, corpus: &Corpus, prompt: &str, seed: u64) -> String {
    let sampling = Sampling {
        temperature: 0.8,
        top_k: Some(10),
    };
    let prompt = corpus
        .vocabulary
        .encode(prompt)
        .expect("the prompt's characters occur in the book");
    let drawn = model.sample(&prompt, 300, sampling, &mut Rng::new(seed));
    corpus
        .vocabulary
        .decode(&drawn)
        .expect("the model draws ids of its vocabulary")
}
