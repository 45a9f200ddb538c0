//! Auto-regressive models: a sequence is modelled one step at a time, each step predicted
//! from the steps before it. Training uses teacher forcing (every step reads the true previous
//! step, so a whole sequence trains as one pass); generation feeds the model's own outputs
//! back as its next inputs.

use crate::expect_ok;
use crate::seq2seq::Recurrent;
use strata_autograd::{no_grad, Var};
use strata_datasets::Batch;
use strata_modules::{
    cross_entropy, Dense, Embedding, Mean, Metrics, Module, Params, Reduction, Step, TrainStep,
};
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
        masked_mean(&token_losses(&logits, targets), None)
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
        masked_mean(&value_losses(&predicted, targets), None)
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

impl<R: Recurrent> TrainStep for AutoRegressive<R> {
    /// Teacher forcing on a batch whose first input holds the steps (token ids `[N, T]`, or
    /// values `[N, T, F]`) and whose first target holds the next steps (the same shape). A
    /// token model reports `loss` (mean cross-entropy, nats per token) and `accuracy` (share
    /// of next tokens that are the arg-max); a value model `loss` (mean squared error) and
    /// `mae`. When the input is a sequence field ([`Fields::with_sequence`]) of rows of
    /// different lengths, the padded steps count in neither loss nor metrics (pad with a valid
    /// token id, e.g. 0: a causal core reads padding only after the real steps). Loss and
    /// metrics are weighted by the steps counted, so an epoch's `loss` is the mean over all
    /// its steps (nats per token for a token model).
    ///
    /// [`Fields::with_sequence`]: strata_datasets::Fields::with_sequence
    ///
    /// ```
    /// use strata_datasets::{DataLoader, Dataset, Example, Fields, DataResult};
    /// use strata_modules::{Adam, Dense, Embedding, Gru, TrainConfig, Trainer};
    /// use strata_patterns::AutoRegressive;
    /// use strata_tensor::{Rng, Tensor};
    ///
    /// /// Counting sentences `k, k+1, …` (mod 5) of 3 to 8 tokens: after token t comes t+1.
    /// struct Counting;
    /// impl Dataset for Counting {
    ///     fn len(&self) -> usize { 60 }
    ///     fn get(&self, index: usize) -> DataResult<Example> {
    ///         let length = 3 + index % 6;
    ///         let ids: Vec<f32> = (0..=length).map(|t| ((index + t) % 5) as f32).collect();
    ///         let steps = |from: usize| Tensor::from_vec(ids[from..from + length].to_vec(), &[length]);
    ///         Ok(Example::from_fields(
    ///             Fields::new().with_sequence("tokens", steps(0), 0.0),
    ///             Fields::new().with_sequence("next", steps(1), 0.0),
    ///         ))
    ///     }
    /// }
    /// let mut rng = Rng::new(0);
    /// let mut model = AutoRegressive::tokens(
    ///     Embedding::new(5, 8, &mut rng), Gru::new(8, 16, &mut rng), Dense::new(16, 5, &mut rng),
    /// );
    /// let loader = DataLoader::new(Counting, 10).shuffle(1);
    /// let mut trainer = Trainer::new(TrainConfig { epochs: 30, ..Default::default() });
    /// let history = trainer.fit(&mut model, &mut Adam::new(0.02), &loader, &loader).unwrap();
    /// assert!(history.last().unwrap().val_accuracy().unwrap() > 0.95);
    /// ```
    fn step(&self, batch: &Batch) -> Step {
        let (inputs, targets) = (batch.input(), batch.target());
        expect_ok(check_same_shape("AutoRegressive::step", inputs, targets));
        let mask = batch.inputs.mask(0);
        let (predicted, _) = self.run(inputs, None);
        let (per_step, metric, per_step_metric) = match self.embedding {
            Some(_) => (
                token_losses(&predicted, targets),
                "accuracy",
                predicted.value().argmax(-1, false).eq(targets),
            ),
            None => (
                value_losses(&predicted, targets),
                "mae",
                predicted.value().sub(targets).abs().mean_axes(&[2], false),
            ),
        };
        let steps = mask
            .as_ref()
            .map_or(per_step.numel(), |m| m.sum().item() as usize);
        let loss = masked_mean(&per_step, mask.as_ref());
        let metric_value = masked_mean(&Var::constant(per_step_metric), mask.as_ref()).item();
        let metrics = Metrics::new()
            .with("loss", Mean::of(loss.item(), steps))
            .with(metric, Mean::of(metric_value, steps));
        Step { loss, metrics }
    }
}

/// Cross-entropy of next-token `logits` `[N, T, V]` against `targets` `[N, T]`, per step
/// `[N, T]`.
fn token_losses(logits: &Var, targets: &Tensor) -> Var {
    let vocabulary = logits.shape()[2] as isize;
    let flat = cross_entropy(
        &logits.reshape(&[-1, vocabulary]),
        &targets.reshape(&[-1]),
        0.0,
        Reduction::None,
    );
    flat.reshape(&[targets.shape()[0] as isize, -1])
}

/// Squared error of `predicted` `[N, T, F]` against `targets`, averaged over the `F` values of
/// each step: `[N, T]`.
fn value_losses(predicted: &Var, targets: &Tensor) -> Var {
    predicted
        .sub(&Var::constant(targets.clone()))
        .square()
        .mean_axes(&[2], false)
}

/// The mean of `per_step` `[N, T]` over the steps `mask` keeps (all of them when `None`).
fn masked_mean(per_step: &Var, mask: Option<&Tensor>) -> Var {
    match mask {
        None => per_step.mean(),
        Some(mask) => {
            let kept = mask.sum().item().max(1.0);
            per_step
                .mul(&Var::constant(mask.clone()))
                .sum()
                .mul_scalar(1.0 / kept)
        }
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
