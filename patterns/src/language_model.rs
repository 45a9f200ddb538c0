//! Judging language models: held-out bits per token of an auto-regressive model read over a
//! long text with its state carried along, and the count baselines (unigram, bigram) that
//! give the figure its meaning.

use crate::autoregressive::AutoRegressive;
use crate::seq2seq::Recurrent;
use strata_autograd::no_grad;
use strata_datasets::token_tensor;
use strata_modules::{CrossEntropyLoss, Reduction};

impl<R: Recurrent> AutoRegressive<R> {
    /// Bits per token of the text `ids`, each token after the first predicted from those
    /// before it: the predictions are cut into `streams` equal parallel streams (a remainder
    /// at the end is left out), each read `chunk` tokens at a time with the recurrent state
    /// carried from chunk to chunk, so every prediction sees its stream's whole past. Runs
    /// without recording gradients.
    ///
    /// Panics (at the caller's line) if `streams` or `chunk` is 0 or there are fewer than
    /// `streams` tokens to predict.
    ///
    /// ```
    /// use strata_modules::{Dense, Embedding, Gru};
    /// use strata_patterns::AutoRegressive;
    /// use strata_tensor::Rng;
    /// let mut rng = Rng::new(0);
    /// let model = AutoRegressive::tokens(
    ///     Embedding::new(5, 4, &mut rng),
    ///     Gru::new(4, 8, &mut rng),
    ///     Dense::new(8, 5, &mut rng),
    /// );
    /// let text: Vec<usize> = (0..200).map(|i| i % 5).collect();
    /// let bits = model.bits_per_token(&text, 4, 16);
    /// assert!(bits > 0.0 && bits < 5.0); // untrained: near log2(5) ≈ 2.32
    /// ```
    #[track_caller]
    pub fn bits_per_token(&self, ids: &[usize], streams: usize, chunk: usize) -> f64 {
        assert!(
            streams > 0 && chunk > 0 && ids.len() > streams,
            "bits_per_token: {} tokens cannot be read as {streams} streams in chunks of {chunk}",
            ids.len()
        );
        // Stream s predicts tokens s·per_stream + 1 ..= (s + 1)·per_stream.
        let per_stream = (ids.len() - 1) / streams;
        let mut nats = 0.0f64;
        let mut state = None;
        let mut start = 0;
        while start < per_stream {
            let len = chunk.min(per_stream - start);
            let window = |shift: usize| {
                let ids = (0..streams).flat_map(|s| {
                    let from = s * per_stream + start + shift;
                    ids[from..from + len].iter().copied()
                });
                token_tensor(ids, &[streams * len])
            };
            let (inputs, targets) = (
                window(0).reshape(&[streams as isize, len as isize]),
                window(1),
            );
            no_grad(|| {
                let (logits, next) = self.run(&inputs, state.as_ref());
                state = Some(next);
                let vocabulary = logits.shape()[2] as isize;
                let logits = logits.reshape(&[-1, vocabulary]);
                nats += f64::from(
                    CrossEntropyLoss::new()
                        .reduction(Reduction::Sum)
                        .forward(&logits, &targets)
                        .item(),
                );
            });
            start += len;
        }
        nats / (streams * per_stream) as f64 / std::f64::consts::LN_2
    }
}

/// Held-out bits per token of the two count models of a training text, with add-one
/// smoothing: the unigram (token frequencies) and the bigram (next-token frequencies given
/// the previous token). A language model worth its training beats both.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountBaselines {
    /// Bits per token of the unigram model.
    pub unigram: f64,
    /// Bits per token of the bigram model.
    pub bigram: f64,
}

impl CountBaselines {
    /// The baselines counted on `train` and judged on every token of `test` after its first
    /// (as [`AutoRegressive::bits_per_token`] judges), for ids in `0..vocabulary`.
    ///
    /// Panics (at the caller's line) if an id is outside the vocabulary or `test` has fewer
    /// than two tokens.
    ///
    /// ```
    /// use strata_patterns::CountBaselines;
    /// // "abab…": the bigram knows each next token for sure, the unigram only that each is 1/2.
    /// let text: Vec<usize> = (0..1000).map(|i| i % 2).collect();
    /// let baselines = CountBaselines::measure(&text, &text, 2);
    /// assert!((baselines.unigram - 1.0).abs() < 0.01 && baselines.bigram < 0.01);
    /// ```
    #[track_caller]
    pub fn measure(train: &[usize], test: &[usize], vocabulary: usize) -> Self {
        assert!(
            train.iter().chain(test).all(|&id| id < vocabulary) && test.len() >= 2,
            "CountBaselines::measure: ids must be below the vocabulary of {vocabulary} and the \
             test text must hold at least two tokens"
        );
        let v = vocabulary;
        let mut unigram = vec![1.0f64; v];
        let mut bigram = vec![1.0f64; v * v];
        for pair in train.windows(2) {
            unigram[pair[1]] += 1.0;
            bigram[pair[0] * v + pair[1]] += 1.0;
        }
        let unigram_total: f64 = unigram.iter().sum();
        let mut bits = (0.0f64, 0.0f64);
        for pair in test.windows(2) {
            let (previous, next) = (pair[0], pair[1]);
            bits.0 -= (unigram[next] / unigram_total).log2();
            let row = &bigram[previous * v..(previous + 1) * v];
            bits.1 -= (row[next] / row.iter().sum::<f64>()).log2();
        }
        let count = (test.len() - 1) as f64;
        Self {
            unigram: bits.0 / count,
            bigram: bits.1 / count,
        }
    }
}
