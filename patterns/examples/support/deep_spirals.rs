//! The same deep MLP on the spirals, three ways: plain, with skip connections around each
//! hidden layer ([`Residual`]), and with batch normalisation after each hidden layer. Each is
//! trained with the same seed, data order and budget, and its held-out accuracy is recorded
//! after every epoch (the training curve).

use super::data::shuffled_batches;
use super::step;
use strata_autograd::{no_grad, Var};
use strata_datasets::{spirals, Dataset};
use strata_modules::{
    cross_entropy, Adam, BatchNorm1d, CosineAnnealingLr, Dense, LrSchedule, Module, Optimizer,
    Params, Reduction, Relu, Sequential,
};
use strata_patterns::Residual;
use strata_tensor::{Rng, Tensor};

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

/// Points `[N, 2]` and arm ids `[N]`.
pub struct Points {
    /// Coordinates.
    pub inputs: Tensor,
    /// Arm of each point.
    pub labels: Tensor,
}

/// The spirals split into `(train, test)`.
pub fn spirals_split() -> (Points, Points) {
    let (train, test) = spirals(POINTS, ARMS, NOISE, DATA_SEED)
        .split(0.2, DATA_SEED)
        .expect("the spirals split");
    let all = |part: &dyn Dataset| {
        let indices: Vec<usize> = (0..part.len()).collect();
        let batch = part.get_batch(&indices).expect("the spirals are in memory");
        Points {
            inputs: batch.input().clone(),
            labels: batch.target().clone(),
        }
    };
    (all(&train), all(&test))
}

/// Held-out accuracy of `net` (evaluation mode), then back to training mode.
pub fn accuracy(net: &mut Sequential, points: &Points) -> f32 {
    net.eval();
    let logits = no_grad(|| net.forward(&Var::constant(points.inputs.clone())));
    net.train();
    let predicted = logits.value().argmax(1, false);
    predicted.eq_mask(&points.labels).sum().item() / points.labels.numel() as f32
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

/// Trains `variant` for [`EPOCHS`] with cross-entropy and Adam (cosine-annealed rate).
pub fn train(variant: Variant, train: &Points, test: &Points) -> Run {
    let mut rng = Rng::new(SEED);
    let mut net = variant.build(&mut rng);
    let mut optimizer = Adam::new(LEARNING_RATE);
    let schedule = CosineAnnealingLr {
        period: EPOCHS,
        min_lr: 0.0,
    };
    let mut curve = Vec::with_capacity(EPOCHS);
    for epoch in 0..EPOCHS {
        optimizer.set_learning_rate(schedule.learning_rate(LEARNING_RATE, epoch));
        for rows in shuffled_batches(train.labels.numel(), BATCH, &mut rng) {
            let x = Var::constant(train.inputs.index_select(0, &rows));
            let y = train.labels.index_select(0, &rows);
            let loss = cross_entropy(&net.forward(&x), &y, 0.0, Reduction::Mean);
            step(&mut net, &mut optimizer, &loss);
        }
        curve.push(accuracy(&mut net, test));
    }
    Run { net, curve }
}
