//! Two views of each digit, its left half and its right half (8 rows × 4 columns each), as
//! two input flows: single-view classifiers against classifiers that fuse both views.

use super::data::evaluation_loader;
use super::data::{CLASSES, SIDE};
use super::{epochs, fit, Progress};
use strata_datasets::{DataLoader, Fields, TensorDataset};
use strata_modules::{evaluate, Adam, Classification, Dense, Relu, Sequential};
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
/// The target: which digit.
const DIGIT: &str = "digit";

impl View {
    /// Both views, in the order of the dataset's inputs.
    pub const BOTH: [View; 2] = [View::Left, View::Right];

    /// The name of the view's input.
    pub fn name(self) -> &'static str {
        match self {
            View::Left => "left",
            View::Right => "right",
        }
    }

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

/// The classifiers of this recipe: an encoder per view, their fusion and a dense head.
pub type ViewClassifier = MultiInput<Sequential>;

/// The digits as two inputs, `left` and `right` `[N, 32]`, and the target `digit`.
pub fn views(digits: &TensorDataset) -> TensorDataset {
    let images = digits.input();
    TensorDataset::from_fields(
        Fields::new()
            .with(View::Left.name(), View::Left.of(images))
            .with(View::Right.name(), View::Right.of(images)),
        Fields::new().with(DIGIT, digits.target().clone()),
    )
    .expect("one label per image")
}

/// One encoder (32 → 64, ReLU) per view read, a fusion, and a dense classifier on the fused
/// code. A single-view model is the same with one flow.
pub fn build(views: &[View], fusion: FusionChoice, rng: &mut Rng) -> ViewClassifier {
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
    let names: Vec<&str> = views.iter().map(|v| v.name()).collect();
    MultiInput::new(encoders, fusion).reading(&names).with_head(
        DIGIT,
        Dense::new(fused, CLASSES, rng),
        Classification::default(),
    )
}

/// Trains a classifier on `views` fused by `fusion`; same budget and seed for every choice.
pub fn train(
    views_read: &[View],
    fusion: FusionChoice,
    digits: &TensorDataset,
    seed: u64,
    progress: Progress,
) -> ViewClassifier {
    let mut model = build(views_read, fusion, &mut Rng::new(seed));
    let loader = DataLoader::new(views(digits), BATCH).shuffle(seed);
    fit(
        &mut model,
        &mut Adam::new(LEARNING_RATE),
        epochs(EPOCHS),
        &loader,
        (),
        progress,
    );
    model
}

/// Held-out accuracy.
pub fn held_out_accuracy(model: &mut ViewClassifier, digits: &TensorDataset) -> f32 {
    let loader = evaluation_loader(views(digits));
    evaluate(model, &loader).expect("the digits are in memory")["accuracy"]
}
