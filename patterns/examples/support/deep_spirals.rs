//! The same deep MLP on the spirals, three ways: plain, with skip connections around each
//! hidden layer ([`Residual`]), and with batch normalisation after each hidden layer. Each is
//! trained by the `Trainer` with the same seed, data order and budget, and validated on the
//! held-out points after every epoch (the training curve).

use super::data::evaluation_loader;
use super::{annealed, fit, Progress};
use strata_datasets::{spirals, DataLoader, Dataset};
use strata_modules::{Adam, BatchNorm1d, Classification, Dense, Module, Relu, Sequential};
use strata_patterns::Residual;
use strata_tensor::Rng;

/// Seed of initialisation and batch order, the same for every variant.
pub const SEED: u64 = 5;
/// Seed of the spiral points and of their 80/20 split.
const DATA_SEED: u64 = 1;
/// Points drawn (a fifth held out).
const POINTS: usize = 1500;
/// Spiral arms (classes).
const ARMS: usize = 3;
/// Standard deviation of the noise added to each coordinate: small enough that the arms
/// stay separable (a good model scores close to 100%), large enough to blur them.
const NOISE: f32 = 0.02;
/// Dense layers of each network: the input layer, the hidden layers, the output layer.
pub const DEPTH: usize = 20;
/// Width of every hidden layer.
const WIDTH: usize = 32;
/// Passes over the training points.
pub const EPOCHS: usize = 60;
/// Mini-batch size.
const BATCH: usize = 32;
/// Adam's initial learning rate, annealed to zero over the epochs along a cosine: with a
/// constant rate the held-out accuracy kept swinging by several points from epoch to epoch,
/// so the last epoch's figure depended on luck.
const LEARNING_RATE: f32 = 2e-3;

/// Where the hidden layers' signal goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// `h ← relu(W·h + b)`.
    Plain,
    /// `h ← h + relu(W·h + b)`.
    Residual,
    /// `h ← relu(BN(W·h + b))`.
    BatchNorm,
}

impl Variant {
    /// All three, in the order the example reports them.
    pub const ALL: [Variant; 3] = [Self::Plain, Self::Residual, Self::BatchNorm];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Residual => "residual",
            Self::BatchNorm => "batch-norm",
        }
    }

    /// One hidden layer `WIDTH → WIDTH` of this variant.
    fn hidden_layer(self, rng: &mut Rng) -> Box<dyn Module> {
        let dense = Dense::new(WIDTH, WIDTH, rng);
        match self {
            Self::Plain => Box::new(Sequential::new().push(dense).push(Relu)),
            Self::Residual => Box::new(Residual::new(Sequential::new().push(dense).push(Relu))),
            Self::BatchNorm => Box::new(
                Sequential::new()
                    .push(dense)
                    .push(BatchNorm1d::new(WIDTH))
                    .push(Relu),
            ),
        }
    }

    /// The `DEPTH`-layer network `2 → WIDTH → … → WIDTH → ARMS`.
    pub fn build(self, rng: &mut Rng) -> Sequential {
        let mut net = Sequential::new().push(Dense::new(2, WIDTH, rng)).push(Relu);
        for _ in 0..DEPTH - 2 {
            net.push_boxed(self.hidden_layer(rng));
        }
        net.push(Dense::new(WIDTH, ARMS, rng))
    }
}

/// The spirals split into `(train, test)` loaders: training batches shuffled by `seed`, the
/// held-out points in one batch.
pub fn spirals_split(seed: u64) -> (DataLoader, DataLoader) {
    let (train, test) = spirals(POINTS, ARMS, NOISE, DATA_SEED)
        .split(0.2, DATA_SEED)
        .expect("the spirals split");
    (
        DataLoader::new(train, BATCH).shuffle(seed),
        evaluation_loader(test),
    )
}

/// A trained network and its held-out accuracy after each epoch.
pub struct Run {
    /// The network after the last epoch.
    pub net: Sequential,
    /// `curve[e]`: held-out accuracy after epoch `e + 1`.
    pub curve: Vec<f32>,
}

impl Run {
    /// The held-out accuracy after the last epoch.
    pub fn final_accuracy(&self) -> f32 {
        self.curve.last().copied().unwrap_or(0.0)
    }

    /// The first epoch (1-based) after which the held-out accuracy reached `level`.
    pub fn epochs_to(&self, level: f32) -> Option<usize> {
        self.curve.iter().position(|&a| a >= level).map(|e| e + 1)
    }
}

/// Trains `variant` for [`EPOCHS`] with cross-entropy and Adam (cosine-annealed rate),
/// validating on `test` after every epoch; `seed` draws the initial weights.
pub fn train(
    variant: Variant,
    seed: u64,
    train: &DataLoader,
    test: &DataLoader,
    progress: Progress,
) -> Run {
    let mut net = variant.build(&mut Rng::new(seed));
    let history = fit(
        &mut net.with_objective(Classification::default()),
        &mut Adam::new(LEARNING_RATE),
        annealed(EPOCHS),
        train,
        test,
        progress,
    );
    let curve = history
        .iter()
        .map(|epoch| epoch.val_accuracy().expect("validated every epoch"))
        .collect();
    Run { net, curve }
}
