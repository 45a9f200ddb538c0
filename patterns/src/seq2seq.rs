//! Sequence to sequence (Sutskever, Vinyals & Le 2014; Cho et al. 2014): an encoder-decoder
//! whose encoder reads a token sequence into its final recurrent state `z`, and whose decoder
//! writes the output sequence token by token from that state.
//!
//! Training uses teacher forcing: the decoder's input at step `t` is the true token `t − 1`
//! (the start token first), so all steps run as one sequence. Inference decodes greedily: it
//! feeds back its own most probable token until it emits the end token.

use crate::expect_ok;
use strata_autograd::{no_grad, Var};
use strata_modules::{cross_entropy, Dense, Gru, Lstm, Module, Params, Reduction};
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
/// one-hot vectors (so their input width is `vocabulary`). Sources of one batch share a
/// length (batch sequences by length); outputs may differ in length, each ending with `end`.
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
        let vocabulary = self.vocabulary();
        check_tokens("Seq2Seq::logits", source, vocabulary)?;
        check_tokens("Seq2Seq::logits", target, vocabulary)?;
        if source.shape()[0] != target.shape()[0] {
            return Err(TensorError::new(
                "Seq2Seq::logits",
                ErrorKind::ShapeMismatch,
                format!(
                    "source {:?} and target {:?} need the same batch size",
                    source.shape(),
                    target.shape()
                ),
            ));
        }
        let z = self.encode(source);
        let (n, steps) = (target.shape()[0], target.shape()[1]);
        let start = Tensor::full(&[n, 1], self.start as f32);
        let shifted = Tensor::concat(&[&start, &target.narrow(1, 0, steps - 1)], 1);
        let inputs = Var::constant(one_hot(&shifted, vocabulary));
        let (hidden, _) = self.decoder.run(&inputs, Some(&z));
        Ok(self.output.forward(&hidden))
    }

    /// Mean cross-entropy of the teacher-forced predictions against `target` `[N, T]`.
    #[track_caller]
    pub fn loss(&self, source: &Tensor, target: &Tensor) -> Var {
        cross_entropy(&self.logits(source, target), target, 0.0, Reduction::Mean)
    }

    /// Greedy decoding: from the encoder's state, feed back the most probable token until
    /// the end token or `max_len` tokens. Returns each sequence without its end token
    /// (nothing recorded).
    #[track_caller]
    pub fn greedy_decode(&self, source: &Tensor, max_len: usize) -> Vec<Vec<usize>> {
        no_grad(|| {
            let vocabulary = self.vocabulary();
            let n = source.shape().first().copied().unwrap_or(0);
            let mut state = self.encode(source);
            let mut tokens = Tensor::full(&[n, 1], self.start as f32);
            let mut outputs: Vec<Vec<usize>> = vec![Vec::new(); n];
            let mut finished = vec![false; n];
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
        })
    }
}
