//! "Which digit is in quadrant q?": a 16×16 image made of four 8×8 digits (a 2×2 grid, drawn
//! with a seed) and a queried quadrant. Bottom-up, an encoder codes each quadrant (its pixels
//! and its position, as Anderson et al.'s region features carry their box); top-down, the
//! query's embedding weights the four codes; a head names the digit.

use super::data::{Digits, CLASSES, PIXELS, SIDE};
use super::step;
use std::fmt::Write as _;
use std::path::Path;
use strata_autograd::no_grad;
use strata_modules::{cross_entropy, Adam, Dense, Reduction, Relu, Sequential};
use strata_patterns::BottomUpTopDown;
use strata_tensor::{Rng, Tensor};

/// Seed of initialisation and of the training grids.
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
/// Training steps, each on fresh grids of training digits.
const STEPS: usize = 2500;
/// Grids per batch.
const BATCH: usize = 64;
/// Held-out grids (made of held-out digits only).
pub const TEST_GRIDS: usize = 2000;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 2e-3;

/// The model of this recipe.
pub type Model = BottomUpTopDown<Sequential, Sequential>;

/// Grids with their regions, queries and answers.
pub struct Grids {
    /// `[N, REGIONS, REGION_INPUT]`: each quadrant's pixels and position.
    pub regions: Tensor,
    /// One-hot queried quadrant, `[N, REGIONS]`.
    pub queries: Tensor,
    /// The queried quadrant of each grid.
    pub queried: Vec<usize>,
    /// The digit in the queried quadrant, `[N]`.
    pub answers: Tensor,
}

/// `n` grids of four digits drawn from `digits`, each with a random queried quadrant.
pub fn grids(digits: &Digits, n: usize, rng: &mut Rng) -> Grids {
    let images = digits.images.values();
    let labels = digits.label_ids();
    let mut regions = vec![0.0; n * REGIONS * REGION_INPUT];
    let mut queries = vec![0.0; n * REGIONS];
    let mut queried = Vec::with_capacity(n);
    let mut answers = Vec::with_capacity(n);
    for grid in 0..n {
        let q = rng.below(REGIONS);
        for region in 0..REGIONS {
            let digit = rng.below(digits.len());
            let at = (grid * REGIONS + region) * REGION_INPUT;
            regions[at..at + PIXELS].copy_from_slice(&images[digit * PIXELS..(digit + 1) * PIXELS]);
            regions[at + PIXELS + region] = 1.0;
            if region == q {
                answers.push(labels[digit] as f32);
            }
        }
        queries[grid * REGIONS + q] = 1.0;
        queried.push(q);
    }
    Grids {
        regions: Tensor::from_vec(regions, &[n, REGIONS, REGION_INPUT]),
        queries: Tensor::from_vec(queries, &[n, REGIONS]),
        queried,
        answers: Tensor::from_vec(answers, &[n]),
    }
}

/// Trains the model on grids of training digits.
pub fn train(train: &Digits, seed: u64) -> Model {
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
    let mut optimizer = Adam::new(LEARNING_RATE);
    for _ in 0..STEPS {
        let batch = grids(train, BATCH, &mut rng);
        let (logits, _) = model.answer(&batch.regions, &batch.queries);
        let loss = cross_entropy(&logits, &batch.answers, 0.0, Reduction::Mean);
        step(&mut model, &mut optimizer, &loss);
    }
    model
}

/// Held-out accuracy and where the attention went.
#[derive(Debug, Clone, Copy)]
pub struct Metrics {
    /// Fraction of grids whose queried digit is named correctly.
    pub accuracy: f32,
    /// Mean attention weight on the queried quadrant.
    pub weight_on_queried: f32,
}

/// Seeded held-out grids of held-out digits.
pub fn test_grids(test: &Digits) -> Grids {
    grids(test, TEST_GRIDS, &mut Rng::new(TEST_SEED))
}

/// Answers and attention weights `[N, REGIONS]` for `grids`.
pub fn predict(model: &Model, grids: &Grids) -> (Tensor, Tensor) {
    let (logits, weights) = no_grad(|| model.answer(&grids.regions, &grids.queries));
    (logits.value().argmax(1, false), weights.value().clone())
}

/// Accuracy and attention on the held-out grids.
pub fn evaluate(model: &Model, grids: &Grids) -> Metrics {
    let (answers, weights) = predict(model, grids);
    let correct = answers.eq_mask(&grids.answers).sum().item();
    let weights = weights.values();
    let on_queried: f32 = grids
        .queried
        .iter()
        .enumerate()
        .map(|(row, &q)| weights[row * REGIONS + q])
        .sum();
    let n = grids.queried.len() as f32;
    Metrics {
        accuracy: correct / n,
        weight_on_queried: on_queried / n,
    }
}

/// Size of one pixel of the picture.
const CELL: usize = 16;
/// Margin around the image (room for the caption).
const MARGIN: usize = 30;

/// An SVG picture of grid `row` of `grids`: the 16×16 image in grey, each quadrant outlined
/// in red with an opacity equal to its attention weight (printed inside), and a caption with
/// the query and the answer.
pub fn attention_svg(grids: &Grids, row: usize, weights: &Tensor, answer: usize) -> String {
    let regions = grids.regions.values();
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
        r#"<text x="{MARGIN}" y="20">query: quadrant {} → answer {answer} (true {})</text>"#,
        grids.queried[row],
        grids.answers.values()[row]
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
pub fn write_attention_picture(model: &Model, grids: &Grids, path: &Path) -> std::io::Result<()> {
    let (answers, weights) = predict(model, grids);
    let answer = answers.values()[0] as usize;
    std::fs::write(path, attention_svg(grids, 0, &weights, answer))
}
