//! Sequence to sequence (Sutskever, Vinyals & Le 2014; Cho et al. 2014): an encoder-decoder
//! whose encoder reads a token sequence into its final recurrent state `z`, and whose decoder
//! writes the output sequence token by token from that state.
//!
//! Training uses teacher forcing: the decoder's input at step `t` is the true token `t − 1`
//! (the start token first), so all steps run as one sequence. Inference decodes greedily: it
//! feeds back its own most probable token until it emits the end token.
//!
//! Batches may mix lengths (sequence fields padded by the data loader): the rows of each
//! source length are encoded and decoded together, so no step reads padding, and padding
//! positions of the targets count in neither the loss nor the metrics.

use crate::expect_ok;
use strata_autograd::{no_grad, Var};
use strata_datasets::Batch;
use strata_modules::{
    cross_entropy, Dense, Gru, Lstm, Mean, Metrics, Module, Params, Reduction, Step, TrainStep,
};
use strata_tensor::{ErrorKind, Result, Tensor, TensorError};

/// A recurrent layer over batch-first sequences that can start from a given state and
/// returns its final state: what a seq2seq encoder and decoder need. Implemented for the
/// modules' [`Gru`] (state `h`) and [`Lstm`] (state `(h, c)`).
pub trait Recurrent: Module {
    /// The recurrent state carried between steps.
    type State: Clone;

    /// Runs over `x` `[N, T, in]` from `state` (zeros when `None`); returns the hidden
    /// states `[N, T, H]` and the final state.
    fn run(&self, x: &Var, state: Option<&Self::State>) -> (Var, Self::State);
}

impl Recurrent for Gru {
    type State = Var;

    fn run(&self, x: &Var, state: Option<&Var>) -> (Var, Var) {
        self.forward_seq(x, state)
    }
}

impl Recurrent for Lstm {
    type State = (Var, Var);

    fn run(&self, x: &Var, state: Option<&(Var, Var)>) -> (Var, (Var, Var)) {
        self.forward_seq(x, state.map(|(h, c)| (h, c)))
    }
}

/// One-hot vectors of token ids `[N, T]` over `vocabulary` tokens: `[N, T, vocabulary]`.
fn one_hot(tokens: &Tensor, vocabulary: usize) -> Tensor {
    let ids = tokens.values();
    let mut data = vec![0.0; ids.len() * vocabulary];
    for (row, &id) in ids.iter().enumerate() {
        data[row * vocabulary + id as usize] = 1.0;
    }
    let mut shape = tokens.shape().to_vec();
    shape.push(vocabulary);
    Tensor::from_vec(data, &shape)
}

/// Checks that `tokens` is `[N, T]` of ids below `vocabulary`.
fn check_tokens(op: &'static str, tokens: &Tensor, vocabulary: usize) -> Result<()> {
    if tokens.ndim() != 2 || tokens.shape()[1] == 0 {
        return Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!(
                "token ids should be [N, T] with T > 0, found {:?}",
                tokens.shape()
            ),
        ));
    }
    match tokens
        .values()
        .iter()
        .find(|&&t| !(t >= 0.0 && t.fract() == 0.0 && (t as usize) < vocabulary))
    {
        Some(bad) => Err(TensorError::new(
            op,
            ErrorKind::IndexOutOfRange,
            format!("token {bad} is not an id in 0..{vocabulary}"),
        )),
        None => Ok(()),
    }
}

/// A recurrent encoder and decoder `R` over one vocabulary, with a dense layer mapping the
/// decoder's hidden states to next-token logits.
///
/// Tokens are ids in `0..vocabulary` (whole-number `f32`s), fed to both recurrent layers as
/// one-hot vectors (so their input width is `vocabulary`). Outputs end with `end`. The methods
/// on tensors take sources of one length; a training batch may mix lengths (see the
/// [`TrainStep`] implementation).
///
/// ```
/// use strata_modules::{Dense, Gru};
/// use strata_patterns::Seq2Seq;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let (vocabulary, hidden) = (5, 16); // tokens 0..3, start = 3, end = 4
/// let model = Seq2Seq::new(
///     Gru::new(vocabulary, hidden, &mut rng),
///     Gru::new(vocabulary, hidden, &mut rng),
///     Dense::new(hidden, vocabulary, &mut rng),
///     3,
///     4,
/// );
/// let source = Tensor::from_vec(vec![0.0, 1.0, 2.0], &[1, 3]);
/// let target = Tensor::from_vec(vec![2.0, 1.0, 0.0, 4.0], &[1, 4]); // ends with `end`
/// assert_eq!(model.logits(&source, &target).shape(), &[1, 4, 5]);
/// let decoded = model.greedy_decode(&source, 6);
/// assert!(decoded[0].len() <= 6);
/// ```
#[derive(Params)]
pub struct Seq2Seq<R> {
    /// Reads the source; its final state is the latent code `z`.
    pub encoder: R,
    /// Writes the output from `z`, one token per step.
    pub decoder: R,
    /// Hidden state → next-token logits, `H → vocabulary`.
    pub output: Dense,
    /// The token fed to the decoder before the first output token.
    #[module(skip)]
    pub start: usize,
    /// The token that ends an output sequence.
    #[module(skip)]
    pub end: usize,
}

impl<R: Recurrent> Seq2Seq<R> {
    /// A model whose vocabulary is `output`'s width, with the given start and end tokens.
    pub fn new(encoder: R, decoder: R, output: Dense, start: usize, end: usize) -> Self {
        Self {
            encoder,
            decoder,
            output,
            start,
            end,
        }
    }

    /// Number of token ids.
    pub fn vocabulary(&self) -> usize {
        self.output.out_features()
    }

    /// The encoder's final state for sources `[N, T]`: the latent code `z`.
    #[track_caller]
    pub fn encode(&self, source: &Tensor) -> R::State {
        expect_ok(check_tokens("Seq2Seq::encode", source, self.vocabulary()));
        let inputs = Var::constant(one_hot(source, self.vocabulary()));
        self.encoder.run(&inputs, None).1
    }

    /// Teacher-forced next-token logits `[N, T, vocabulary]` for targets `[N, T]` (each
    /// ending with the end token): step `t` reads the true token `t − 1`.
    #[track_caller]
    pub fn logits(&self, source: &Tensor, target: &Tensor) -> Var {
        expect_ok(self.try_logits(source, target))
    }

    /// Fallible [`Seq2Seq::logits`].
    pub fn try_logits(&self, source: &Tensor, target: &Tensor) -> Result<Var> {
        self.check_pair("Seq2Seq::logits", source, target)?;
        Ok(self.teacher_forced(&self.encode(source), target))
    }

    /// Checks that `source` and `target` are token ids of one batch.
    fn check_pair(&self, op: &'static str, source: &Tensor, target: &Tensor) -> Result<()> {
        let vocabulary = self.vocabulary();
        check_tokens(op, source, vocabulary)?;
        check_tokens(op, target, vocabulary)?;
        if source.shape()[0] != target.shape()[0] {
            return Err(TensorError::new(
                op,
                ErrorKind::ShapeMismatch,
                format!(
                    "source {:?} and target {:?} need the same batch size",
                    source.shape(),
                    target.shape()
                ),
            ));
        }
        Ok(())
    }

    /// The decoder's logits from the encoder states `z` when step `t` reads the true token
    /// `t − 1` of `target` `[N, T]` (the start token at step 0).
    fn teacher_forced(&self, z: &R::State, target: &Tensor) -> Var {
        let (n, steps) = (target.shape()[0], target.shape()[1]);
        let start = Tensor::full(&[n, 1], self.start as f32);
        let shifted = Tensor::concat(&[&start, &target.narrow(1, 0, steps - 1)], 1);
        let inputs = Var::constant(one_hot(&shifted, self.vocabulary()));
        let (hidden, _) = self.decoder.run(&inputs, Some(z));
        self.output.forward(&hidden)
    }

    /// A batch's rows grouped by source length (one group when the source is not a sequence
    /// field): each group's sources cut to its length, its targets to its longest target.
    #[track_caller]
    fn length_groups(&self, batch: &Batch) -> Vec<LengthGroup> {
        let (source, target) = (batch.input(), batch.target());
        expect_ok(self.check_pair("Seq2Seq::step", source, target));
        let rows = source.shape()[0];
        let lengths_or = |lengths: Option<&[usize]>, steps: usize| {
            lengths.map_or_else(|| vec![steps; rows], <[usize]>::to_vec)
        };
        let source_lengths = lengths_or(batch.inputs.lengths(0), source.shape()[1]);
        let target_lengths = lengths_or(batch.targets.lengths(0), target.shape()[1]);
        let mut order: Vec<usize> = (0..rows).collect();
        order.sort_by_key(|&r| source_lengths[r]);
        order
            .chunk_by(|&a, &b| source_lengths[a] == source_lengths[b])
            .map(|group| {
                let lengths: Vec<usize> = group.iter().map(|&r| target_lengths[r]).collect();
                let longest = lengths.iter().copied().max().unwrap_or(0);
                LengthGroup {
                    source: source
                        .index_select(0, group)
                        .narrow(1, 0, source_lengths[group[0]]),
                    target: target.index_select(0, group).narrow(1, 0, longest),
                    target_lengths: lengths,
                }
            })
            .collect()
    }

    /// Greedy decoding: from the encoder's state, feed back the most probable token until
    /// the end token or `max_len` tokens. Returns each sequence without its end token
    /// (nothing recorded).
    #[track_caller]
    pub fn greedy_decode(&self, source: &Tensor, max_len: usize) -> Vec<Vec<usize>> {
        let rows = source.shape().first().copied().unwrap_or(0);
        no_grad(|| self.decode_from(self.encode(source), rows, max_len))
    }

    /// Greedy decoding of `rows` sequences from the encoder states `state`.
    fn decode_from(&self, mut state: R::State, rows: usize, max_len: usize) -> Vec<Vec<usize>> {
        let vocabulary = self.vocabulary();
        let mut tokens = Tensor::full(&[rows, 1], self.start as f32);
        let mut outputs: Vec<Vec<usize>> = vec![Vec::new(); rows];
        let mut finished = vec![false; rows];
        for _ in 0..max_len {
            let input = Var::constant(one_hot(&tokens, vocabulary));
            let (hidden, next) = self.decoder.run(&input, Some(&state));
            state = next;
            tokens = self.output.forward(&hidden).value().argmax(-1, false);
            for (row, &token) in tokens.values().iter().enumerate() {
                let token = token as usize;
                if finished[row] || token == self.end {
                    finished[row] = true;
                } else {
                    outputs[row].push(token);
                }
            }
            if finished.iter().all(|&f| f) {
                break;
            }
        }
        outputs
    }
}

/// Rows of a batch whose sources have one length.
struct LengthGroup {
    /// Their sources `[n, length]`.
    source: Tensor,
    /// Their targets `[n, T]`, `T` the longest of them (the others padded).
    target: Tensor,
    /// Each row's target length.
    target_lengths: Vec<usize>,
}

impl LengthGroup {
    /// 1 at the targets' real tokens, 0 at padding, `[n, T]`.
    fn mask(&self) -> Tensor {
        let steps = self.target.shape()[1];
        let mask = self
            .target_lengths
            .iter()
            .flat_map(|&length| (0..steps).map(move |t| f32::from(u8::from(t < length))))
            .collect();
        Tensor::from_vec(mask, self.target.shape())
    }

    /// The tokens of row `row`'s target before its end token.
    fn expected_output(&self, row: usize, end: usize) -> Vec<usize> {
        let tokens = self.target.narrow(0, row, 1).to_vec();
        tokens[..self.target_lengths[row]]
            .iter()
            .map(|&t| t as usize)
            .take_while(|&t| t != end)
            .collect()
    }
}

/// Trained by [`strata_modules::Trainer::fit`] with teacher forcing on batches whose first
/// input is the source `[N, T]` and first target the output `[N, T']`, each ending with the
/// end token: fixed-length tensors, or sequence fields the loader pads (with any token id)
/// and whose lengths it records. The loss is the mean cross-entropy over the targets' real
/// tokens; reports `token_accuracy` (teacher-forced next-token predictions) and, in
/// validation, `sequence_accuracy`: the share of sources whose greedy decoding is exactly
/// their target.
///
/// ```
/// use strata_datasets::{DataLoader, Dataset, Example, Fields, DataResult};
/// use strata_modules::{evaluate, Adam, Dense, Gru, TrainConfig, Trainer};
/// use strata_patterns::Seq2Seq;
/// use strata_tensor::{Rng, Tensor};
/// // Copy sequences of 1 to 3 tokens from {0, 1}; start = 2, end = 3.
/// let (start, end) = (2, 3);
/// struct Copies(Vec<Vec<f32>>);
/// impl Dataset for Copies {
///     fn len(&self) -> usize { self.0.len() }
///     fn get(&self, index: usize) -> DataResult<Example> {
///         let tokens = &self.0[index];
///         let target = [tokens.clone(), vec![3.0]].concat(); // ends with `end`
///         let sequence = |t: &[f32]| Tensor::from_slice(t, &[t.len()]);
///         Ok(Example::from_fields(
///             Fields::new().with_sequence("source", sequence(tokens), 3.0),
///             Fields::new().with_sequence("target", sequence(&target), 3.0),
///         ))
///     }
/// }
/// let sequences = [&[0.0][..], &[1.0], &[0.0, 1.0], &[1.0, 1.0], &[1.0, 0.0, 0.0]];
/// let loader = DataLoader::new(Copies(sequences.iter().map(|s| s.to_vec()).collect()), 5);
/// let mut rng = Rng::new(0);
/// let mut model = Seq2Seq::new(Gru::new(4, 16, &mut rng), Gru::new(4, 16, &mut rng),
///                              Dense::new(16, 4, &mut rng), start, end);
/// let mut trainer = Trainer::new(TrainConfig { epochs: 150, ..Default::default() });
/// trainer.fit(&mut model, &mut Adam::new(0.02), &loader, ()).unwrap();
/// assert_eq!(evaluate(&mut model, &loader).unwrap()["sequence_accuracy"], 1.0);
/// ```
impl<R: Recurrent> TrainStep for Seq2Seq<R> {
    /// Each group of rows sharing a source length is encoded and decoded on its own, so that
    /// no step reads padding; the loss sums their real tokens' losses.
    #[track_caller]
    fn step(&self, batch: &Batch) -> Step {
        let (mut loss_sum, mut tokens, mut correct) = (None::<Var>, 0.0, 0.0);
        for group in self.length_groups(batch) {
            let logits = self.teacher_forced(&self.encode(&group.source), &group.target);
            let mask = group.mask();
            let per_token = cross_entropy(&logits, &group.target, 0.0, Reduction::None);
            let group_loss = per_token.mul(&Var::constant(mask.clone())).sum();
            loss_sum = Some(loss_sum.map_or(group_loss.clone(), |sum| sum.add(&group_loss)));
            let predicted = logits.value().argmax(-1, false);
            correct += predicted.eq(&group.target).mul(&mask).sum().item();
            tokens += mask.sum().item();
        }
        let loss = loss_sum
            .expect("a batch has at least one row")
            .mul_scalar(1.0 / tokens);
        let token_accuracy = Mean::ratio(correct as usize, tokens as usize);
        Step::new(loss, batch.len()).with("token_accuracy", token_accuracy)
    }

    #[track_caller]
    fn validation_step(&self, batch: &Batch) -> Metrics {
        let metrics = self.step(batch).metrics;
        let mut exact = 0;
        for group in self.length_groups(batch) {
            let (rows, steps) = (group.target.shape()[0], group.target.shape()[1]);
            let decoded = self.decode_from(self.encode(&group.source), rows, steps + 1);
            exact += (0..rows)
                .filter(|&row| decoded[row] == group.expected_output(row, self.end))
                .count();
        }
        metrics.with("sequence_accuracy", Mean::ratio(exact, batch.len()))
    }
}
