//! Relation learning: instead of a fixed distance (as [`Siamese`](crate::Siamese) uses), a
//! learned head judges how two inputs relate, from their codes by a shared encoder.

use strata_autograd::{no_grad, Var};
use strata_datasets::Batch;
use strata_modules::{
    bce_with_logits, binary_accuracy, Module, Params, Reduction, Step, TrainStep,
};
use strata_tensor::Tensor;

/// A shared encoder `E` and a relation head `H` scoring pairs: the logit of "`a` and `b` are
/// related" (for example, of the same class) is `H([|z_a − z_b| | z_a ⊙ z_b])`.
///
/// The pair features are symmetric, so the score of `(a, b)` is the score of `(b, a)`; for
/// codes of width `D` the head reads `2·D` features and returns one logit.
///
/// ```
/// use strata_modules::{Dense, Var};
/// use strata_patterns::Relation;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let relation = Relation::new(Dense::new(4, 3, &mut rng), Dense::new(6, 1, &mut rng));
/// let a = Var::constant(Tensor::rand_normal(&[5, 4], 0.0, 1.0, &mut rng));
/// let b = Var::constant(Tensor::rand_normal(&[5, 4], 0.0, 1.0, &mut rng));
/// let (ab, ba) = (relation.score(&a, &b), relation.score(&b, &a));
/// assert_eq!(ab.shape(), &[5, 1]);
/// assert_eq!(ab.value().to_vec(), ba.value().to_vec());
/// ```
#[derive(Params)]
pub struct Relation<E, H> {
    /// Encodes each member of a pair (shared).
    pub encoder: E,
    /// Scores the pair features.
    pub head: H,
}

impl<E: Module, H: Module> Relation<E, H> {
    /// A relation model from its encoder and head.
    pub fn new(encoder: E, head: H) -> Self {
        Self { encoder, head }
    }

    /// The symmetric pair features `[|z_a − z_b| | z_a ⊙ z_b]`, `[N, 2·D]`.
    pub fn pair_features(za: &Var, zb: &Var) -> Var {
        Var::concat(&[&za.sub(zb).abs(), &za.mul(zb)], -1)
    }

    /// The relation logits of pairs `(a, b)`, `[N, 1]`.
    pub fn score(&self, a: &Var, b: &Var) -> Var {
        let (za, zb) = (self.encoder.forward(a), self.encoder.forward(b));
        self.head.forward(&Self::pair_features(&za, &zb))
    }

    /// Binary cross-entropy of the scores against `related` (1 or 0 per pair, `[N]`).
    pub fn loss(&self, a: &Var, b: &Var, related: &Tensor) -> Var {
        scores_loss(&self.score(a, b), related)
    }

    /// Whether each pair is judged related (1) or not (0), `[N]` (nothing recorded).
    pub fn predict(&self, a: &Tensor, b: &Tensor) -> Tensor {
        no_grad(|| {
            let logits = self.score(&Var::constant(a.clone()), &Var::constant(b.clone()));
            logits.value().squeeze(1).gt(&Tensor::scalar(0.0))
        })
    }
}

/// Binary cross-entropy of relation logits `[N, 1]` against `related` `[N]`.
fn scores_loss(logits: &Var, related: &Tensor) -> Var {
    bce_with_logits(
        logits,
        &Var::constant(related.unsqueeze(1)),
        Reduction::Mean,
    )
}

/// Trained by [`strata_modules::Trainer::fit`] on batches of pairs: the first two inputs are
/// the members `a` and `b`, the first target says whether they are related (1 or 0, `[N]`).
/// Reports the loss and `accuracy` (the logit's sign matches the target).
///
/// ```
/// use strata_datasets::{DataLoader, Fields, TensorDataset};
/// use strata_modules::{evaluate, Adam, Dense, Relu, Sequential, TrainConfig, Trainer};
/// use strata_patterns::Relation;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// // Numbers in [0, 4): related when they fall in the same unit interval.
/// let a = Tensor::rand_uniform(&[256, 1], 0.0, 4.0, &mut rng);
/// let b = a.add(&Tensor::rand_uniform(&[256, 1], -1.0, 1.0, &mut rng)).clamp(0.0, 3.99);
/// let related = a.map(f32::floor).eq(&b.map(f32::floor)).squeeze(1);
/// let data = TensorDataset::from_fields(
///     Fields::new().with("a", a).with("b", b),
///     Fields::new().with("related", related),
/// ).unwrap();
/// let loader = DataLoader::new(data, 32).shuffle(0);
/// let encoder = Sequential::new().push(Dense::new(1, 16, &mut rng)).push(Relu);
/// let head = Sequential::new().push(Dense::new(32, 16, &mut rng)).push(Relu).push(Dense::new(16, 1, &mut rng));
/// let mut model = Relation::new(encoder, head);
/// let mut trainer = Trainer::new(TrainConfig { epochs: 60, ..Default::default() });
/// trainer.fit(&mut model, &mut Adam::new(0.01), &loader, ()).unwrap();
/// assert!(evaluate(&mut model, &loader).unwrap()["accuracy"] > 0.8);
/// ```
impl<E: Module, H: Module> TrainStep for Relation<E, H> {
    #[track_caller]
    fn step(&self, batch: &Batch) -> Step {
        let (a, b) = (&batch.inputs[0], &batch.inputs[1]);
        let related = batch.target();
        let logits = self.score(&Var::constant(a.clone()), &Var::constant(b.clone()));
        let loss = scores_loss(&logits, related);
        let accuracy = binary_accuracy(&logits.value().squeeze(1), related);
        Step::new(loss, batch.len()).with("accuracy", accuracy)
    }
}
