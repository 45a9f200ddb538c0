//! `TransformerLm`: the auto-regressive pattern with a causal transformer core (GPT) — every
//! position attends the positions before it, so a whole window trains in one pass, and
//! generation reuses the keys and values of the tokens already read.

use crate::autoregressive::{sample_token, Sampling};
use crate::expect_ok;
use strata_autograd::{no_grad, Var};
use strata_datasets::{token_tensor, Batch};
use strata_modules::{
    accuracy, cross_entropy, AttentionCache, AttentionMasks, CrossEntropyLoss, Dense, Embedding,
    Module, Params, PositionalEmbedding, Reduction, Step, TrainStep, TransformerConfig,
    TransformerEncoder,
};
use strata_tensor::{ErrorKind, Result, Rng, Tensor, TensorError};

/// A decoder-only transformer language model: token embeddings plus learned position
/// embeddings, a causal stack of pre-norm transformer layers with a final norm, and a head to
/// next-token logits. Windows of up to `context` tokens; parameters named `tokens.…`,
/// `positions.…`, `blocks.layers.0.…`, `head.…`.
///
/// ```
/// use strata_modules::TransformerConfig;
/// use strata_patterns::{Sampling, TransformerLm};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let config = TransformerConfig::new(16, 2).dim_feedforward(32).dropout(0.0);
/// let model = TransformerLm::new(7, 8, config, 2, &mut rng);
/// let ids = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[1, 3]);
/// assert_eq!(model.logits(&ids).shape(), &[1, 3, 7]);
/// let text = model.sample(&[1, 2], 20, Sampling::default(), &mut rng); // past the context
/// assert_eq!(text.len(), 20);
/// ```
#[derive(Params)]
pub struct TransformerLm {
    /// Token id → vector.
    pub tokens: Embedding,
    /// Position → vector, added to the tokens'.
    pub positions: PositionalEmbedding,
    /// The causal transformer layers.
    pub blocks: TransformerEncoder,
    /// Vector → next-token logits.
    pub head: Dense,
    #[module(skip)]
    context: usize,
}

impl TransformerLm {
    /// A model of `vocabulary` tokens over windows of `context`, with `layers` pre-norm layers
    /// of `config` (its `norm_first` is set) and a final norm.
    #[track_caller]
    pub fn new(
        vocabulary: usize,
        context: usize,
        config: TransformerConfig,
        layers: usize,
        rng: &mut Rng,
    ) -> Self {
        let d = config.d_model;
        Self {
            tokens: Embedding::new(vocabulary, d, rng),
            positions: PositionalEmbedding::new(context, d, rng),
            blocks: TransformerEncoder::new(config.norm_first(true), layers, rng).with_final_norm(),
            head: Dense::new(d, vocabulary, rng),
            context,
        }
    }

    /// The longest window the model reads.
    pub fn context(&self) -> usize {
        self.context
    }

    /// Next-token logits `[N, T, vocabulary]` for every position of `ids` `[N, T]`
    /// (`T ≤ context`), each from the tokens up to it. Panics at the caller's line on other
    /// shapes or ids outside the vocabulary.
    #[track_caller]
    pub fn logits(&self, ids: &Tensor) -> Var {
        expect_ok(self.try_logits(ids))
    }

    /// Fallible [`TransformerLm::logits`].
    #[track_caller]
    pub fn try_logits(&self, ids: &Tensor) -> Result<Var> {
        let x = self.embed(ids, 0)?;
        let x = self
            .blocks
            .try_forward_masked(&x, &AttentionMasks::causal())?;
        self.head.try_forward(&x)
    }

    /// Token and position vectors of `ids` `[N, T]` at positions `start..start + T`.
    fn embed(&self, ids: &Tensor, start: usize) -> Result<Var> {
        let tokens = self.tokens.try_lookup(ids)?;
        self.positions.try_forward_at(&tokens, start)
    }

    /// Logits of the next tokens `ids` `[N, t]` of sequences whose earlier tokens `caches`
    /// hold.
    fn next_logits(&self, ids: &Tensor, caches: &mut Vec<AttentionCache>) -> Result<Var> {
        let start = caches.first().map_or(0, AttentionCache::len);
        let x = self.embed(ids, start)?;
        let x = self.blocks.try_forward_incremental(&x, caches)?;
        self.head.try_forward(&x)
    }

    /// `count` tokens drawn after `prompt` (non-empty), each from the logits of everything
    /// before it, reusing the cached keys and values of the tokens already read. When the
    /// window is full, reading restarts from its second half. Runs without recording
    /// gradients.
    #[track_caller]
    pub fn sample(
        &self,
        prompt: &[usize],
        count: usize,
        sampling: Sampling,
        rng: &mut Rng,
    ) -> Vec<usize> {
        assert!(
            !prompt.is_empty(),
            "TransformerLm::sample: the prompt is empty"
        );
        let mut text = prompt.to_vec();
        let mut caches = Vec::new();
        let read = |tokens: &[usize], caches: &mut Vec<AttentionCache>| {
            let ids = token_tensor(tokens.iter().copied(), &[1, tokens.len()]);
            let logits = expect_ok(no_grad(|| self.next_logits(&ids, caches)));
            let vocabulary = logits.shape()[2];
            logits.value().to_vec()[(tokens.len() - 1) * vocabulary..].to_vec()
        };
        let mut logits = read(
            &text[text.len().saturating_sub(self.context)..],
            &mut caches,
        );
        for _ in 0..count {
            let token = sample_token(&logits, sampling, rng);
            text.push(token);
            logits = if caches.first().map_or(0, AttentionCache::len) < self.context {
                read(&[token], &mut caches)
            } else {
                caches.clear();
                read(&text[text.len() - self.context.div_ceil(2)..], &mut caches)
            };
        }
        text.split_off(prompt.len())
    }

    /// Bits per token of the text `ids`, each token after the first predicted from the
    /// tokens before it within a window: windows of `context` tokens overlap by half, and each
    /// window scores only the tokens the previous one did not, so every prediction (after the
    /// first window's) sees at least half a window of history. `batch` windows are read at a
    /// time. Runs without recording gradients.
    ///
    /// Panics (at the caller's line) if `ids` has fewer than two tokens or `batch` is 0.
    #[track_caller]
    pub fn bits_per_token(&self, ids: &[usize], batch: usize) -> f64 {
        assert!(
            ids.len() >= 2 && batch > 0,
            "TransformerLm::bits_per_token: expected at least two tokens and a positive batch, \
             found {} tokens and batch {batch}",
            ids.len()
        );
        let windows = scoring_windows(ids.len(), self.context);
        let width = windows[0].0.len();
        let mut nats = 0.0f64;
        for group in windows.chunks(batch) {
            let inputs = group
                .iter()
                .flat_map(|(r, _)| ids[r.clone()].iter().copied());
            let targets = group
                .iter()
                .flat_map(|(r, _)| ids[r.start + 1..r.end + 1].iter().copied());
            let inputs = token_tensor(inputs, &[group.len(), width]);
            let targets = token_tensor(targets, &[group.len() * width]);
            let losses = no_grad(|| {
                let logits = self.logits(&inputs);
                let vocabulary = logits.shape()[2] as isize;
                let losses = CrossEntropyLoss::new()
                    .reduction(Reduction::None)
                    .forward(&logits.reshape(&[-1, vocabulary]), &targets);
                losses.value().to_vec()
            });
            for (w, (_, first_scored)) in group.iter().enumerate() {
                let row = &losses[w * width..(w + 1) * width];
                nats += row[*first_scored..]
                    .iter()
                    .map(|&l| f64::from(l))
                    .sum::<f64>();
            }
        }
        nats / (ids.len() - 1) as f64 / std::f64::consts::LN_2
    }
}

/// The input ranges of the windows that score a text of `len` tokens with a model of
/// `context`, each with the offset of its first scored prediction: windows advance by half a
/// window (the last one ends at the text's end), and each scores the targets after the
/// previous window's last.
fn scoring_windows(len: usize, context: usize) -> Vec<(std::ops::Range<usize>, usize)> {
    let width = context.min(len - 1);
    let stride = (width / 2).max(1);
    let mut windows = Vec::new();
    let (mut start, mut scored) = (0, 0);
    loop {
        let from = start.min(len - 1 - width);
        windows.push((from..from + width, scored - from));
        scored = from + width;
        if scored == len - 1 {
            return windows;
        }
        start += stride;
    }
}

impl TrainStep for TransformerLm {
    /// Teacher forcing on a batch whose first input holds windows of token ids `[N, T]`
    /// (`T ≤ context`) and whose first target the next tokens (the same shape): `loss` (mean
    /// cross-entropy, nats per token) and `accuracy` (share of next tokens that are the
    /// arg-max).
    #[track_caller]
    fn step(&self, batch: &Batch) -> Step {
        let (inputs, targets) = (batch.input(), batch.target());
        if inputs.shape() != targets.shape() || inputs.ndim() != 2 {
            panic!(
                "{}",
                TensorError::new(
                    "TransformerLm::step",
                    ErrorKind::ShapeMismatch,
                    format!(
                        "expected inputs and targets [N, T] of one shape, found {:?} and {:?}",
                        inputs.shape(),
                        targets.shape()
                    ),
                )
            );
        }
        let logits = self.logits(inputs);
        let vocabulary = logits.shape()[2] as isize;
        let logits = logits.reshape(&[-1, vocabulary]);
        let targets = targets.reshape(&[-1]);
        let loss = cross_entropy(&logits, &targets);
        let tokens = targets.numel();
        Step::new(loss, tokens).with("accuracy", accuracy(logits.value(), &targets))
    }
}

#[cfg(test)]
mod tests {
    use super::scoring_windows;

    #[test]
    fn the_windows_score_every_target_once_in_order() {
        for (len, context) in [
            (2, 8),
            (9, 8),
            (10, 8),
            (37, 8),
            (100, 7),
            (50, 1),
            (64, 64),
        ] {
            let mut scored = Vec::new();
            for (range, first) in scoring_windows(len, context) {
                assert!(range.len() <= context && range.end < len, "{range:?}");
                scored.extend(range.start + 1 + first..=range.end);
            }
            assert_eq!(
                scored,
                (1..len).collect::<Vec<_>>(),
                "len {len}, context {context}"
            );
        }
    }
}
