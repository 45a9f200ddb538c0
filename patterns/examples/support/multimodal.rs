//! Two views of each digit, its left half and its right half (8 rows × 4 columns each), as
//! two input flows: single-view classifiers against classifiers that fuse both views.

use super::data::{accuracy, shuffled_batches, Digits, CLASSES, SIDE};
use super::step;
use strata_autograd::{no_grad, Var};
use strata_modules::{cross_entropy, Adam, Dense, Module, Params, Reduction, Relu, Sequential};
use strata_patterns::{Fusion, MultiInput};
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation and batch order, the same for every model.
pub const SEED: u64 = 3;
/// Half of each image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Columns 0..4.
    Left,
    /// Columns 4..8.
    Right,
}

/// Columns of one view.
const VIEW_COLUMNS: usize = SIDE / 2;

impl View {
    /// The view's pixels of each image, `[N, 32]`.
    pub fn of(self, images: &Tensor) -> Tensor {
        let start = match self {
            View::Left => 0,
            View::Right => VIEW_COLUMNS,
        };
        images
            .reshape(&[-1, SIDE as isize, SIDE as isize])
            .narrow(2, start, VIEW_COLUMNS)
            .reshape(&[-1, (SIDE * VIEW_COLUMNS) as isize])
    }
}

/// How a fused model merges its flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FusionChoice {
    /// [`Fusion::Concat`].
    Concat,
    /// [`Fusion::Sum`].
    Sum,
    /// [`Fusion::Product`].
    Product,
    /// [`Fusion::Gated`].
    Gated,
}

impl FusionChoice {
    /// All four, in the order the examples report them.
    pub const ALL: [FusionChoice; 4] = [Self::Concat, Self::Sum, Self::Product, Self::Gated];

    fn build(self, flows: usize, width: usize, rng: &mut Rng) -> Fusion {
        match self {
            Self::Concat => Fusion::Concat,
            Self::Sum => Fusion::Sum,
            Self::Product => Fusion::Product,
            Self::Gated => Fusion::gated(flows, width, rng),
        }
    }
}

/// Width of each view's code.
const CODE: usize = 64;
/// Passes over the training digits.
pub const EPOCHS: usize = 30;
/// Mini-batch size.
const BATCH: usize = 32;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 3e-3;

/// One encoder (32 → 64, ReLU) per view, a fusion, and a dense classifier on the fused code.
/// A single-view model is the same with one flow.
#[derive(Params)]
pub struct ViewClassifier {
    /// The encoders and their fusion.
    pub inputs: MultiInput<Sequential>,
    /// Fused code → class logits.
    pub head: Dense,
    /// Which view each flow reads.
    #[module(skip)]
    pub views: Vec<View>,
}

impl ViewClassifier {
    /// A classifier reading `views`, fused by `fusion`.
    pub fn new(views: &[View], fusion: FusionChoice, rng: &mut Rng) -> Self {
        let encoders = views
            .iter()
            .map(|_| {
                Sequential::new()
                    .push(Dense::new(SIDE * VIEW_COLUMNS, CODE, rng))
                    .push(Relu)
            })
            .collect();
        let fusion = fusion.build(views.len(), CODE, rng);
        let fused = fusion.output_width(&vec![CODE; views.len()]);
        Self {
            inputs: MultiInput::new(encoders, fusion),
            head: Dense::new(fused, CLASSES, rng),
            views: views.to_vec(),
        }
    }

    /// Class logits of whole images (each flow takes its view).
    pub fn logits(&self, images: &Tensor) -> Var {
        let flows: Vec<Var> = self
            .views
            .iter()
            .map(|view| Var::constant(view.of(images)))
            .collect();
        let refs: Vec<&Var> = flows.iter().collect();
        self.head.forward(&self.inputs.forward_inputs(&refs))
    }

    /// Held-out accuracy.
    pub fn accuracy(&self, digits: &Digits) -> f32 {
        let predicted = no_grad(|| self.logits(&digits.images).value().argmax(-1, false));
        accuracy(&predicted, &digits.labels)
    }
}

/// Trains a classifier on `views` fused by `fusion`; same budget and seed for every choice.
pub fn train(views: &[View], fusion: FusionChoice, train: &Digits, seed: u64) -> ViewClassifier {
    let mut rng = Rng::new(seed);
    let mut model = ViewClassifier::new(views, fusion, &mut rng);
    let mut optimizer = Adam::new(LEARNING_RATE);
    for _ in 0..EPOCHS {
        for rows in shuffled_batches(train.len(), BATCH, &mut rng) {
            let batch = train.rows(&rows);
            let loss = cross_entropy(
                &model.logits(&batch.images),
                &batch.labels,
                0.0,
                Reduction::Mean,
            );
            step(&mut model, &mut optimizer, &loss);
        }
    }
    model
}
