//! A character-level language model of *Moby-Dick*: an LSTM reads the text one character at a
//! time and predicts the next, trained on the first 90% of the book (random windows through a
//! `DataLoader`, teacher forcing) and judged in bits per character on the last 10%, against
//! the unigram and the bigram model of the training text.

use super::{epochs, fit, for_time, Progress};
use std::time::Duration;
use strata_datasets::{
    moby_dick, CharDataset, DataLoader, DataResult, Dataset, Example, Subset, Vocabulary,
};
use strata_modules::{Adam, Dense, Embedding, Lstm, TrainConfig};
use strata_patterns::{AutoRegressive, CountBaselines, Sampling};
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation, of the training windows and of their order.
pub const SEED: u64 = 29;
/// Fraction of the book held out, at its end.
const HELD_OUT: f64 = 0.1;
/// Width of each character's embedding.
const EMBEDDING: usize = 32;
/// Hidden size of the LSTM.
const HIDDEN: usize = 128;
/// Characters per training window (truncated back-propagation through time; the
/// transformer's context).
pub const WINDOW: usize = 64;
/// The training text is cut into blocks of this many characters, and every epoch reads one
/// window from each block at a random offset (drawn anew each epoch): an epoch covers half
/// of the text.
const BLOCK: usize = 2 * WINDOW;
/// Windows per training batch.
const BATCH: usize = 64;
/// Passes over the blocks: 3 × 131 = 393 steps of 64 windows, about 1.6 M characters or 1.5
/// passes over the training text (the budget of 400 steps of random windows this recipe had
/// before it went through a `DataLoader`).
const EPOCHS: usize = 3;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 5e-3;
/// Parallel streams the held-out text is cut into for evaluation.
const EVAL_STREAMS: usize = 64;
/// Characters each evaluation pass reads per stream, the state carried across passes.
const EVAL_CHUNK: usize = 256;

/// The model: character ids, an LSTM core, next-character logits.
pub type CharModel = AutoRegressive<Lstm>;

/// The book split into the training part and the held-out end, with the vocabulary of the
/// whole book.
pub struct Corpus {
    /// The characters of the whole book, by id.
    pub vocabulary: Vocabulary,
    /// The first 90%.
    pub train: String,
    /// The last 10%.
    pub test: String,
}

impl Corpus {
    /// The ids of `text`'s characters.
    pub fn ids(&self, text: &str) -> Vec<usize> {
        self.vocabulary
            .encode(text)
            .expect("every character of the book is in its own vocabulary")
    }

    /// Shuffled batches of `batch` training windows: one random window of [`WINDOW`]
    /// characters from each block per epoch (windows and order drawn from `seed`).
    pub fn training_windows(&self, batch: usize, seed: u64) -> DataLoader {
        DataLoader::new(self.training_blocks(), batch)
            .shuffle(seed)
            .transform(random_window, seed)
    }

    /// The training text cut into consecutive blocks of [`BLOCK`] characters (inputs and
    /// next-character targets, `[BLOCK]` ids each), which training windows are cut from.
    fn training_blocks(&self) -> Subset {
        let windows = CharDataset::with_vocabulary(&self.train, BLOCK, self.vocabulary.clone())
            .expect("the training text is longer than a block");
        let starts = (0..windows.len()).step_by(BLOCK).collect();
        windows
            .subset(starts)
            .expect("the starts are windows of the text")
    }
}

/// Loads the embedded book and splits it (the vocabulary is the book's character set).
pub fn corpus() -> Corpus {
    let text = moby_dick();
    let characters = text.chars().count();
    let cut = ((1.0 - HELD_OUT) * characters as f64) as usize;
    let cut_byte = text
        .char_indices()
        .nth(cut)
        .map_or(text.len(), |(byte, _)| byte);
    Corpus {
        vocabulary: Vocabulary::from_text(&text),
        test: text[cut_byte..].to_string(),
        train: text[..cut_byte].to_string(),
    }
}

/// A random window of [`WINDOW`] steps of a block example (input and target `[BLOCK]`).
fn random_window(block: Example, rng: &mut Rng) -> DataResult<Example> {
    let start = rng.below(BLOCK - WINDOW + 1);
    let window = |steps: &Tensor| steps.narrow(0, start, WINDOW).contiguous();
    Ok(Example::from_fields(
        block.inputs.map(window),
        block.targets.map(window),
    ))
}

/// Trains the LSTM language model on random windows of the training text (initialisation,
/// windows and their order from `seed`). There is no validation pass between epochs: the
/// held-out text is judged once, after training, by [`evaluate`] (which carries the state
/// across the whole text rather than starting every window afresh).
pub fn train(corpus: &Corpus, seed: u64, progress: Progress) -> CharModel {
    train_with(corpus, seed, progress, epochs(EPOCHS))
}

/// [`train`] for as many epochs as fit in `time` (the last one cut short).
pub fn train_for(corpus: &Corpus, seed: u64, progress: Progress, time: Duration) -> CharModel {
    train_with(corpus, seed, progress, for_time(time))
}

fn train_with(corpus: &Corpus, seed: u64, progress: Progress, config: TrainConfig) -> CharModel {
    let vocabulary = corpus.vocabulary.len();
    let mut rng = Rng::new(seed);
    let mut model = AutoRegressive::tokens(
        Embedding::new(vocabulary, EMBEDDING, &mut rng),
        Lstm::new(EMBEDDING, HIDDEN, &mut rng),
        Dense::new(HIDDEN, vocabulary, &mut rng),
    );
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

/// Held-out bits per character of the model and of the two count baselines.
#[derive(Debug, Clone, Copy)]
pub struct BitsPerChar {
    /// The LSTM.
    pub model: f64,
    /// Character frequencies of the training text (add-one smoothing).
    pub unigram: f64,
    /// Next-character frequencies given the previous character (add-one smoothing).
    pub bigram: f64,
}

/// Bits per character of the held-out text: the model reads it as parallel streams, carrying
/// its state from chunk to chunk; the baselines count the training text.
pub fn evaluate(model: &CharModel, corpus: &Corpus) -> BitsPerChar {
    let (train, test) = (corpus.ids(&corpus.train), corpus.ids(&corpus.test));
    let baselines = CountBaselines::measure(&train, &test, corpus.vocabulary.len());
    BitsPerChar {
        model: model.bits_per_token(&test, EVAL_STREAMS, EVAL_CHUNK),
        unigram: baselines.unigram,
        bigram: baselines.bigram,
    }
}

/// The prompt of the printed sample.
pub const PROMPT: &str = "The whale ";
/// Characters drawn after the prompt.
const SAMPLE_LENGTH: usize = 300;
/// How the sample is drawn: a little sharper than the model's distribution, among the ten
/// most probable characters.
const SAMPLING: Sampling = Sampling {
    temperature: 0.8,
    top_k: Some(10),
};

/// A seeded continuation of [`PROMPT`] written by the model.
pub fn generate(model: &CharModel, corpus: &Corpus, seed: u64) -> String {
    let prompt = corpus
        .vocabulary
        .encode(PROMPT)
        .expect("the prompt's characters occur in the book");
    let drawn = model.sample(&prompt, SAMPLE_LENGTH, SAMPLING, &mut Rng::new(seed));
    corpus
        .vocabulary
        .decode(&drawn)
        .expect("the model draws ids of its vocabulary")
}
