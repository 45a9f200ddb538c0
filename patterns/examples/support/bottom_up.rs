//! "Which digit is in quadrant q?": a 16×16 image made of four 8×8 digits (a 2×2 grid, drawn
//! with a seed) and a queried quadrant. Bottom-up, an encoder codes each quadrant (its pixels
//! and its position, as Anderson et al.'s region features carry their box); top-down, the
//! query's embedding weights the four codes; a head names the digit.

use super::data::{digit_datasets, evaluation_loader, CLASSES, PIXELS, SIDE};
use super::{epochs, fit, Progress, SPLIT_SEED};
use std::fmt::Write as _;
use std::path::Path;
use strata_autograd::no_grad;
use strata_datasets::{DataLoader, Fields, TensorDataset};
use strata_modules::{Adam, Dense, Relu, Sequential};
use strata_patterns::BottomUpTopDown;
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation, of the training grids and of their order.
pub const SEED: u64 = 31;
/// Seed of the held-out grids.
const TEST_SEED: u64 = 1_031;
/// Regions of an image: the quadrants of the 2×2 grid, in reading order.
pub const REGIONS: usize = 4;
/// Side of the composed image.
pub const IMAGE_SIDE: usize = 2 * SIDE;
/// A region's input: its 64 pixels and the one-hot of its position.
const REGION_INPUT: usize = PIXELS + REGIONS;
/// Width of the region features.
const FEATURES: usize = 64;
/// Training grids (composed once, from the run's seed, of training digits).
const TRAIN_GRIDS: usize = 16_000;
/// Passes over the training grids: 2500 steps of 64.
const EPOCHS: usize = 10;
/// Grids per batch.
const BATCH: usize = 64;
/// Held-out grids (made of held-out digits only).
pub const TEST_GRIDS: usize = 2000;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 2e-3;
/// Name of the target: the digit in the queried quadrant.
const DIGIT: &str = "digit";

/// The model of this recipe.
pub type Model = BottomUpTopDown<Sequential, Sequential>;

/// `n` grids of four digits drawn from `digits` (images `[M, 64]`, labels `[M]`), each with a
/// random queried quadrant: inputs `regions` `[n, REGIONS, REGION_INPUT]` (each quadrant's
/// pixels and position) and `query` (the one-hot queried quadrant, `[n, REGIONS]`), target
/// `digit` (the digit in the queried quadrant, `[n]`).
pub fn grids(digits: &TensorDataset, n: usize, rng: &mut Rng) -> TensorDataset {
    let images = digits.input().values();
    let labels = digits.target().values();
    let mut regions = vec![0.0; n * REGIONS * REGION_INPUT];
    let mut queries = vec![0.0; n * REGIONS];
    let mut answers = Vec::with_capacity(n);
    for grid in 0..n {
        let q = rng.below(REGIONS);
        for region in 0..REGIONS {
            let digit = rng.below(labels.len());
            let at = (grid * REGIONS + region) * REGION_INPUT;
            regions[at..at + PIXELS].copy_from_slice(&images[digit * PIXELS..(digit + 1) * PIXELS]);
            regions[at + PIXELS + region] = 1.0;
            if region == q {
                answers.push(labels[digit]);
            }
        }
        queries[grid * REGIONS + q] = 1.0;
    }
    TensorDataset::from_fields(
        Fields::new()
            .with(
                Model::REGIONS,
                Tensor::from_vec(regions, &[n, REGIONS, REGION_INPUT]),
            )
            .with(Model::QUERY, Tensor::from_vec(queries, &[n, REGIONS])),
        Fields::new().with(DIGIT, Tensor::from_vec(answers, &[n])),
    )
    .expect("one query and one answer per grid")
}

/// Trains the model on grids of training digits (initialisation, grids and their order from
/// `seed`), validating on the held-out grids after every epoch; returns it with its last
/// held-out accuracy.
pub fn train(seed: u64, progress: Progress) -> (Model, f32) {
    let (train_digits, test_digits) = digit_datasets(SPLIT_SEED);
    let mut rng = Rng::new(seed);
    let encoder = Sequential::new()
        .push(Dense::new(REGION_INPUT, FEATURES, &mut rng))
        .push(Relu)
        .push(Dense::new(FEATURES, FEATURES, &mut rng))
        .push(Relu);
    let head = Sequential::new()
        .push(Dense::new(FEATURES, FEATURES, &mut rng))
        .push(Relu)
        .push(Dense::new(FEATURES, CLASSES, &mut rng));
    let mut model = BottomUpTopDown::new(encoder, REGIONS, FEATURES, head, &mut rng);
    let train = DataLoader::new(grids(&train_digits, TRAIN_GRIDS, &mut rng), BATCH).shuffle(seed);
    let test = evaluation_loader(test_grids(&test_digits));
    let history = fit(
        &mut model,
        &mut Adam::new(LEARNING_RATE),
        epochs(EPOCHS),
        &train,
        &test,
        progress,
    );
    let accuracy = history.last().and_then(|last| last.val_accuracy());
    (model, accuracy.expect("validated every epoch"))
}

/// Seeded held-out grids of held-out digits.
pub fn test_grids(test_digits: &TensorDataset) -> TensorDataset {
    grids(test_digits, TEST_GRIDS, &mut Rng::new(TEST_SEED))
}

/// Answers `[N]` and attention weights `[N, REGIONS]` for `grids`.
pub fn predict(model: &Model, grids: &TensorDataset) -> (Tensor, Tensor) {
    let inputs = grids.inputs();
    let (logits, weights) =
        no_grad(|| model.answer(&inputs[Model::REGIONS], &inputs[Model::QUERY]));
    (logits.value().argmax(1, false), weights.value().clone())
}

/// Mean attention weight on the queried quadrant of `grids`.
pub fn weight_on_queried(model: &Model, grids: &TensorDataset) -> f32 {
    let (_, weights) = predict(model, grids);
    let queries = &grids.inputs()[Model::QUERY];
    weights.mul(queries).sum().item() / queries.shape()[0] as f32
}

/// Size of one pixel of the picture.
const CELL: usize = 16;
/// Margin around the image (room for the caption).
const MARGIN: usize = 30;

/// An SVG picture of grid `row` of `grids`: the 16×16 image in grey, each quadrant outlined
/// in red with an opacity equal to its attention weight (printed inside), and a caption with
/// the query and the answer.
pub fn attention_svg(grids: &TensorDataset, row: usize, weights: &Tensor, answer: usize) -> String {
    let regions = grids.inputs()[Model::REGIONS].values();
    let queried = grids.inputs()[Model::QUERY].argmax(1, false).values()[row];
    let truth = grids.targets()[DIGIT].values()[row];
    let weights = weights.values();
    let side = IMAGE_SIDE * CELL;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="14">"#,
        side + 2 * MARGIN,
        side + 2 * MARGIN
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{MARGIN}" y="20">query: quadrant {queried} → answer {answer} (true {truth})</text>"#
    );
    for region in 0..REGIONS {
        let at = (row * REGIONS + region) * REGION_INPUT;
        let (x0, y0) = (
            MARGIN + (region % 2) * SIDE * CELL,
            MARGIN + (region / 2) * SIDE * CELL,
        );
        for (p, &value) in regions[at..at + PIXELS].iter().enumerate() {
            let grey = (255.0 * (1.0 - value.clamp(0.0, 1.0))) as u8;
            let _ = writeln!(
                svg,
                r#"<rect x="{}" y="{}" width="{CELL}" height="{CELL}" fill="rgb({grey},{grey},{grey})"/>"#,
                x0 + (p % SIDE) * CELL,
                y0 + (p / SIDE) * CELL
            );
        }
        let weight = weights[row * REGIONS + region];
        let _ = writeln!(
            svg,
            r#"<rect x="{x0}" y="{y0}" width="{0}" height="{0}" fill="red" fill-opacity="{1:.3}" stroke="red" stroke-width="3" stroke-opacity="{weight:.3}"/>"#,
            SIDE * CELL,
            0.25 * weight
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" fill="red">{weight:.2}</text>"#,
            x0 + 4,
            y0 + 16
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Writes the picture of the first held-out grid to `path`.
pub fn write_attention_picture(
    model: &Model,
    grids: &TensorDataset,
    path: &Path,
) -> std::io::Result<()> {
    let (answers, weights) = predict(model, grids);
    let answer = answers.values()[0] as usize;
    std::fs::write(path, attention_svg(grids, 0, &weights, answer))
}
