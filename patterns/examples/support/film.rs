//! A conditioned classifier: given a digit image and a queried class `k`, answer "is this
//! digit a `k`?". The image's features are modulated by FiLM with `γ`, `β` computed from the
//! one-hot query, so the same network becomes ten different detectors.

use super::data::{shuffled_batches, Digits, CLASSES, PIXELS};
use super::step;
use strata_autograd::{no_grad, Var};
use strata_modules::{bce_with_logits, Adam, Dense, Module, Params, Reduction};
use strata_patterns::Film;
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation, queries and batch order.
pub const SEED: u64 = 13;
/// Seed of the held-out queries.
const TEST_QUERY_SEED: u64 = 99;
/// Width of the image features.
const HIDDEN: usize = 64;
/// Passes over the training digits (each pass draws new queries).
const EPOCHS: usize = 40;
/// Mini-batch size.
const BATCH: usize = 32;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 3e-3;

/// `x → relu(Dense) → FiLM(query) → relu → Dense → logit of "is a k"`.
#[derive(Params)]
pub struct ConditionedClassifier {
    /// Image → features.
    pub features: Dense,
    /// One-hot query → `γ`, `β` for the features.
    pub film: Film,
    /// Modulated features → one logit.
    pub output: Dense,
}

impl ConditionedClassifier {
    /// Logits `[N, 1]` for images `[N, 64]` and one-hot queries `[N, 10]`.
    pub fn logits(&self, images: &Var, queries: &Var) -> Var {
        let h = self.features.forward(images).relu();
        self.output.forward(&self.film.modulate(&h, queries).relu())
    }
}

/// Queries for `labels`: the true class for half of the rows (chosen at random), a random
/// other class for the rest. Returns one-hot queries `[N, 10]` and answers `[N, 1]` (1 = yes).
pub fn queries(labels: &[usize], rng: &mut Rng) -> (Tensor, Tensor) {
    let mut one_hot = vec![0.0; labels.len() * CLASSES];
    let mut answers = Vec::with_capacity(labels.len());
    for (row, &label) in labels.iter().enumerate() {
        let yes = rng.below(2) == 1;
        let query = if yes {
            label
        } else {
            (label + 1 + rng.below(CLASSES - 1)) % CLASSES
        };
        one_hot[row * CLASSES + query] = 1.0;
        answers.push(if yes { 1.0 } else { 0.0 });
    }
    (
        Tensor::from_vec(one_hot, &[labels.len(), CLASSES]),
        Tensor::from_vec(answers, &[labels.len(), 1]),
    )
}

/// Trains the conditioned classifier with binary cross-entropy.
pub fn train(train: &Digits, seed: u64) -> ConditionedClassifier {
    let mut rng = Rng::new(seed);
    let mut model = ConditionedClassifier {
        features: Dense::new(PIXELS, HIDDEN, &mut rng),
        film: Film::dense(CLASSES, HIDDEN, &mut rng),
        output: Dense::new(HIDDEN, 1, &mut rng),
    };
    let mut optimizer = Adam::new(LEARNING_RATE);
    for _ in 0..EPOCHS {
        for rows in shuffled_batches(train.len(), BATCH, &mut rng) {
            let batch = train.rows(&rows);
            let (query, answer) = queries(&batch.label_ids(), &mut rng);
            let logits = model.logits(&Var::constant(batch.images), &Var::constant(query));
            let loss = bce_with_logits(&logits, &Var::constant(answer), Reduction::Mean);
            step(&mut model, &mut optimizer, &loss);
        }
    }
    model
}

/// Held-out accuracy of the yes/no answers on seeded, balanced queries.
pub fn evaluate(model: &ConditionedClassifier, test: &Digits) -> f32 {
    let (query, answer) = queries(&test.label_ids(), &mut Rng::new(TEST_QUERY_SEED));
    let logits =
        no_grad(|| model.logits(&Var::constant(test.images.clone()), &Var::constant(query)));
    let said_yes = logits.value().gt(&Tensor::scalar(0.0));
    said_yes.eq_mask(&answer).sum().item() / answer.numel() as f32
}
