//! Auto-regressive models: a sequence is modelled one step at a time, each step predicted
//! from the steps before it. Training uses teacher forcing (every step reads the true previous
//! step, so a whole sequence trains as one pass); generation feeds the model's own outputs
//! back as its next inputs.

use crate::expect_ok;
use crate::seq2seq::Recurrent;
use strata_autograd::{no_grad, Var};
use strata_modules::{cross_entropy, mse_loss, Dense, Embedding, Module, Params, Reduction};
use strata_tensor::{ErrorKind, Result, Rng, Tensor, TensorError};

/// How the next token is drawn from the model's logits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// Logits are divided by it: below 1 sharpens the distribution, above 1 flattens it.
    pub temperature: f32,
    /// Draw only among the `k` most probable tokens (`None`: among all).
    pub top_k: Option<usize>,
}

impl Default for Sampling {
    /// Temperature 1, every token: the model's own distribution.
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_k: None,
        }
    }
}

/// Draws a token id from `logits` (one row) with `sampling`. Panics if `logits` is empty or
/// the temperature is not positive.
///
/// ```
/// use strata_patterns::{sample_token, Sampling};
/// use strata_tensor::Rng;
/// let logits = [0.0, 3.0, 1.0];
/// let greedy = Sampling { temperature: 1.0, top_k: Some(1) };
/// assert_eq!(sample_token(&logits, greedy, &mut Rng::new(0)), 1);
/// ```
#[track_caller]
pub fn sample_token(logits: &[f32], sampling: Sampling, rng: &mut Rng) -> usize {
    assert!(
        !logits.is_empty() && sampling.temperature > 0.0,
        "sample_token: expected logits and a positive temperature, found {} logits and \
         temperature {}",
        logits.len(),
        sampling.temperature
    );
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    order.truncate(sampling.top_k.unwrap_or(logits.len()).max(1));
    let top = logits[order[0]];
    let weights: Vec<f64> = order
        .iter()
        .map(|&i| (f64::from(logits[i] - top) / f64::from(sampling.temperature)).exp())
        .collect();
    let mut u = rng.next_f64() * weights.iter().sum::<f64>();
    for (&token, &w) in order.iter().zip(&weights) {
        if u < w {
            return token;
        }
        u -= w;
    }
    order[order.len() - 1]
}

/// A next-step model: an input map (an [`Embedding`] for token ids, or none for real-valued
/// steps fed as they are), a recurrent core `R` (the modules' `Lstm` or `Gru`) that carries
/// what it has read, and a dense head giving each step's prediction of the next step (token
/// logits, or values). Parameters are named `embedding.…`, `core.…`, `head.…`.
///
/// ```
/// use strata_modules::{Dense, Embedding, Gru};
/// use strata_patterns::{AutoRegressive, Sampling};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let (vocabulary, width) = (5, 8);
/// let model = AutoRegressive::tokens(
///     Embedding::new(vocabulary, width, &mut rng),
///     Gru::new(width, width, &mut rng),
///     Dense::new(width, vocabulary, &mut rng),
/// );
/// let text = Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0, 4.0, 0.0], &[1, 6]);
/// let loss = model.token_loss(&text.narrow(1, 0, 5), &text.narrow(1, 1, 5));
/// assert!(loss.item() > 0.0);
/// let continuation = model.sample(&[0, 1], 10, Sampling::default(), &mut rng);
/// assert_eq!(continuation.len(), 10);
/// ```
#[derive(Params)]
pub struct AutoRegressive<R> {
    /// Token id → vector; `None` when the steps are real-valued vectors.
    pub embedding: Option<Embedding>,
    /// Reads the steps in order, carrying a state.
    pub core: R,
    /// Hidden state → the prediction of the next step.
    pub head: Dense,
}

impl<R: Recurrent> AutoRegressive<R> {
    /// A model of token sequences (ids `[N, T]`); the head outputs next-token logits.
    pub fn tokens(embedding: Embedding, core: R, head: Dense) -> Self {
        Self {
            embedding: Some(embedding),
            core,
            head,
        }
    }

    /// A model of real-valued sequences `[N, T, F]`; the head outputs the next `F` values.
    pub fn values(core: R, head: Dense) -> Self {
        Self {
            embedding: None,
            core,
            head,
        }
    }

    /// Predictions for every step of `inputs` (ids `[N, T]` or values `[N, T, F]`) from
    /// `state` (zeros when `None`): `[N, T, out]`, and the state after the last step.
    pub fn run(&self, inputs: &Tensor, state: Option<&R::State>) -> (Var, R::State) {
        let steps = Var::constant(inputs.clone());
        let steps = match &self.embedding {
            Some(embedding) => embedding.forward(&steps),
            None => steps,
        };
        let (hidden, state) = self.core.run(&steps, state);
        (self.head.forward(&hidden), state)
    }

    /// Teacher-forced mean cross-entropy (nats per token) of next-token logits for `inputs`
    /// `[N, T]` against `targets` `[N, T]` (the inputs shifted by one step).
    #[track_caller]
    pub fn token_loss(&self, inputs: &Tensor, targets: &Tensor) -> Var {
        expect_ok(check_same_shape(
            "AutoRegressive::token_loss",
            inputs,
            targets,
        ));
        let (logits, _) = self.run(inputs, None);
        let vocabulary = logits.shape()[2] as isize;
        let flat_targets = targets.reshape(&[-1]);
        cross_entropy(
            &logits.reshape(&[-1, vocabulary]),
            &flat_targets,
            0.0,
            Reduction::Mean,
        )
    }

    /// Teacher-forced mean squared error of the predicted next values for `inputs`
    /// `[N, T, F]` against `targets` `[N, T, F]`.
    #[track_caller]
    pub fn value_loss(&self, inputs: &Tensor, targets: &Tensor) -> Var {
        expect_ok(check_same_shape(
            "AutoRegressive::value_loss",
            inputs,
            targets,
        ));
        let (predicted, _) = self.run(inputs, None);
        mse_loss(&predicted, &Var::constant(targets.clone()), Reduction::Mean)
    }

    /// Reads `prompt` (token ids, at least one), then draws `steps` tokens, each fed back as
    /// the next input. Returns the drawn tokens (nothing recorded).
    #[track_caller]
    pub fn sample(
        &self,
        prompt: &[usize],
        steps: usize,
        sampling: Sampling,
        rng: &mut Rng,
    ) -> Vec<usize> {
        assert!(
            !prompt.is_empty(),
            "AutoRegressive::sample: expected a prompt of at least one token, found none"
        );
        no_grad(|| {
            let ids: Vec<f32> = prompt.iter().map(|&t| t as f32).collect();
            let (logits, mut state) = self.run(&Tensor::from_vec(ids, &[1, prompt.len()]), None);
            let vocabulary = logits.shape()[2];
            let mut last = logits.value().narrow(1, prompt.len() - 1, 1).to_vec();
            let mut drawn = Vec::with_capacity(steps);
            for _ in 0..steps {
                let token = sample_token(&last[..vocabulary], sampling, rng);
                drawn.push(token);
                let (logits, next) =
                    self.run(&Tensor::from_vec(vec![token as f32], &[1, 1]), Some(&state));
                state = next;
                last = logits.value().to_vec();
            }
            drawn
        })
    }

    /// Reads `history` `[N, T, F]`, then predicts `steps` further steps, each prediction fed
    /// back as the next input: `[N, steps, F]` (nothing recorded).
    pub fn forecast(&self, history: &Tensor, steps: usize) -> Tensor {
        no_grad(|| {
            let (predicted, mut state) = self.run(history, None);
            let t = history.shape()[1];
            let mut next = predicted.value().narrow(1, t - 1, 1);
            let mut future = Vec::with_capacity(steps);
            for _ in 0..steps {
                future.push(next.clone());
                let (predicted, after) = self.run(&next, Some(&state));
                state = after;
                next = predicted.value().clone();
            }
            let parts: Vec<&Tensor> = future.iter().collect();
            Tensor::concat(&parts, 1)
        })
    }
}

impl<R: Recurrent> Module for AutoRegressive<R> {
    /// Teacher-forced predictions `[N, T, out]` for the steps held by `x` (its value).
    fn forward(&self, x: &Var) -> Var {
        self.run(x.value(), None).0
    }
}

/// Checks that inputs and targets have the same shape.
fn check_same_shape(op: &'static str, inputs: &Tensor, targets: &Tensor) -> Result<()> {
    if inputs.shape() == targets.shape() {
        Ok(())
    } else {
        Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!(
                "inputs {:?} and targets {:?} should have the same shape (targets are the \
                 inputs one step later)",
                inputs.shape(),
                targets.shape()
            ),
        ))
    }
}
