//! Default training settings per dataset and network: what `train-demo` uses for each
//! option the user leaves out. Each was chosen to reach the accuracy target with a
//! margin (measured figures in the README).

use crate::data::DatasetName;
use crate::model::ModelKind;
use strata_modules::{Adam, AdamW, Optimizer, Sgd};

/// Learning rate of SGD when none is given: with momentum 0.9 the effective step is ten
/// times this, the usual 0.05/0.9 pairing for standardised inputs.
const SGD_LEARNING_RATE: f32 = 0.05;
/// Momentum of SGD.
const SGD_MOMENTUM: f32 = 0.9;

/// An optimizer the recipes offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum OptimizerKind {
    /// Stochastic gradient descent with momentum 0.9.
    Sgd,
    /// Adam (β = 0.9, 0.999).
    Adam,
    /// AdamW: Adam with decoupled weight decay 0.01.
    Adamw,
}

impl OptimizerKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sgd => "sgd",
            Self::Adam => "adam",
            Self::Adamw => "adamw",
        }
    }

    /// The optimizer with learning rate `lr`.
    pub fn build(self, lr: f32) -> Box<dyn Optimizer> {
        match self {
            Self::Sgd => Box::new(Sgd::new(lr).momentum(SGD_MOMENTUM)),
            Self::Adam => Box::new(Adam::new(lr)),
            Self::Adamw => Box::new(AdamW::new(lr)),
        }
    }
}

/// Default settings of one (dataset, network) pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Recipe {
    /// Epochs.
    pub epochs: usize,
    /// Examples per batch.
    pub batch_size: usize,
    /// Learning rate of Adam and AdamW.
    pub adam_lr: f32,
    /// Widths of the hidden layers.
    pub widths: Vec<usize>,
    /// Batch normalisation in the hidden layers.
    pub batch_norm: bool,
    /// Dropout probability after each hidden dense layer (0: none).
    pub dropout: f32,
    /// Largest random shift of the training images, in pixels (0: no augmentation).
    pub shift: usize,
    /// Epochs of linear warm-up before the cosine decay.
    pub warmup: usize,
}

impl Recipe {
    /// The defaults for `dataset` and `model`.
    pub fn for_run(dataset: DatasetName, model: ModelKind) -> Self {
        let recipe = |epochs, batch_size, adam_lr, widths: &[usize]| Self {
            epochs,
            batch_size,
            adam_lr,
            widths: widths.to_vec(),
            batch_norm: false,
            dropout: 0.0,
            shift: 0,
            warmup: 0,
        };
        match (dataset, model) {
            (DatasetName::Digits, ModelKind::Mlp) => recipe(30, 32, 1e-3, &[512]),
            (DatasetName::Iris, ModelKind::Mlp) => recipe(50, 16, 1e-2, &[16, 16]),
            (DatasetName::Moons, ModelKind::Mlp) => recipe(60, 32, 1e-2, &[32, 32]),
            (DatasetName::Spirals, ModelKind::Mlp) => recipe(150, 32, 1e-2, &[64, 64]),
            // Dropout and one-pixel shifts take the MLP on MNIST from 98.69% to 98.90-99.06%
            // over seeds 0-2; two-pixel shifts gave 98.93%, dropout without shifts 98.54%.
            // Fashion-MNIST shares the recipe, unmeasured.
            (DatasetName::Mnist | DatasetName::FashionMnist, ModelKind::Mlp) => Self {
                dropout: 0.2,
                shift: 1,
                warmup: 1,
                ..recipe(15, 128, 1e-3, &[512, 256])
            },
            (DatasetName::Cifar10, ModelKind::Mlp) => recipe(20, 128, 5e-4, &[512, 256]),
            // LeNet's plan with batch norm, dropout and one-pixel shifts: 99.51-99.59% on MNIST
            // over seeds 0-2 (the plain recipe reached 99.36%). Two-pixel shifts gave 99.47%;
            // twice the channels (32, 64), padded convolutions or 15 epochs gave no more, at
            // 1.5-2.3x the time. Fashion-MNIST shares the recipe, unmeasured.
            (DatasetName::Mnist | DatasetName::FashionMnist, ModelKind::Cnn) => Self {
                batch_norm: true,
                dropout: 0.25,
                shift: 1,
                warmup: 1,
                ..recipe(10, 128, 2e-3, &[16, 32, 128])
            },
            (DatasetName::Cifar10, ModelKind::Cnn) => recipe(20, 64, 1e-3, &[32, 64, 256]),
            // The digits; on vectors (iris, moons, spirals) building the CNN explains why not.
            (_, ModelKind::Cnn) => recipe(30, 32, 1e-3, &[16, 32, 64]),
        }
    }

    /// The default learning rate for `optimizer`.
    pub fn learning_rate(&self, optimizer: OptimizerKind) -> f32 {
        match optimizer {
            OptimizerKind::Sgd => SGD_LEARNING_RATE,
            OptimizerKind::Adam | OptimizerKind::Adamw => self.adam_lr,
        }
    }
}
