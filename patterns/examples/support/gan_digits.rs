//! A GAN on the embedded 8×8 digits: a generator from 16 noise numbers to 64 pixels against a
//! discriminator, with a grid of generated digits written as a PNG every few epochs. The
//! samples are judged by a digits classifier trained on real digits: how many it recognises
//! confidently, and how many different digits among them.

use super::data::{shuffled_batches, Digits, CLASSES, PIXELS, SIDE};
use super::step;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use strata_autograd::{no_grad, Var};
use strata_modules::{
    cross_entropy, Adam, Dense, LeakyRelu, Module, Reduction, Relu, Sequential, Sigmoid,
};
use strata_patterns::Gan;
use strata_tensor::Rng;

/// Seed of initialisation, noise and batch order.
pub const SEED: u64 = 41;
/// Width of the generator's noise.
const NOISE: usize = 16;
/// Width of the hidden layers.
const HIDDEN: usize = 128;
/// Passes over the training digits.
pub const EPOCHS: usize = 300;
/// A grid of samples is written every this many epochs.
pub const SNAPSHOT_EVERY: usize = 50;
/// Real digits per step.
const BATCH: usize = 64;
/// Adam's learning rate for both networks (`β₁ = 0.5`, as DCGAN).
const LEARNING_RATE: f32 = 2e-3;
/// Samples drawn to judge the generator.
const JUDGED: usize = 1000;
/// A sample counts as a recognisable digit when the classifier gives one class at least
/// this probability.
pub const CONFIDENT: f32 = 0.9;
/// Epochs of the judging classifier.
const CLASSIFIER_EPOCHS: usize = 20;

/// The model of this recipe.
pub type DigitsGan = Gan<Sequential, Sequential>;

/// Trains the GAN on `train`; after every [`SNAPSHOT_EVERY`] epochs calls `snapshot(epoch,
/// gan)`.
pub fn train(train: &Digits, seed: u64, mut snapshot: impl FnMut(usize, &DigitsGan)) -> DigitsGan {
    let mut rng = Rng::new(seed);
    let generator = Sequential::new()
        .push(Dense::new(NOISE, HIDDEN, &mut rng))
        .push(Relu)
        .push(Dense::new(HIDDEN, PIXELS, &mut rng))
        .push(Sigmoid);
    let discriminator = Sequential::new()
        .push(Dense::new(PIXELS, HIDDEN, &mut rng))
        .push(LeakyRelu { slope: 0.2 })
        .push(Dense::new(HIDDEN, 1, &mut rng));
    let mut gan = Gan::new(generator, discriminator, NOISE);
    let mut d_optimizer = Adam::new(LEARNING_RATE).betas(0.5, 0.999);
    let mut g_optimizer = Adam::new(LEARNING_RATE).betas(0.5, 0.999);
    for epoch in 1..=EPOCHS {
        for rows in shuffled_batches(train.len(), BATCH, &mut rng) {
            let real = train.images.index_select(0, &rows);
            gan.train_step(&real, &mut d_optimizer, &mut g_optimizer, &mut rng);
        }
        if epoch % SNAPSHOT_EVERY == 0 {
            snapshot(epoch, &gan);
        }
    }
    gan
}

/// A `64 → 64 → 10` classifier of real digits, the judge of generated ones.
pub fn train_judge(train: &Digits, seed: u64) -> Sequential {
    let mut rng = Rng::new(seed);
    let mut judge = Sequential::new()
        .push(Dense::new(PIXELS, 64, &mut rng))
        .push(Relu)
        .push(Dense::new(64, CLASSES, &mut rng));
    let mut optimizer = Adam::new(3e-3);
    for _ in 0..CLASSIFIER_EPOCHS {
        for rows in shuffled_batches(train.len(), 32, &mut rng) {
            let batch = train.rows(&rows);
            let logits = judge.forward(&Var::constant(batch.images));
            let loss = cross_entropy(&logits, &batch.labels, 0.0, Reduction::Mean);
            step(&mut judge, &mut optimizer, &loss);
        }
    }
    judge
}

/// How the judge sees generated digits.
#[derive(Debug, Clone, Copy)]
pub struct Judgement {
    /// Fraction of samples given one class with probability ≥ [`CONFIDENT`].
    pub confident: f32,
    /// Distinct classes among the confidently recognised samples.
    pub classes: usize,
}

/// Judges [`JUDGED`] seeded samples of `gan`.
pub fn judge(gan: &DigitsGan, judge: &Sequential, seed: u64) -> Judgement {
    let samples = gan.generate(JUDGED, &mut Rng::new(seed));
    let probabilities = no_grad(|| judge.forward(&Var::constant(samples)).softmax(1));
    let best = probabilities.value().max_axes(&[1], false).to_vec();
    let class = probabilities.value().argmax(1, false).to_vec();
    let mut seen = [false; CLASSES];
    let mut confident = 0;
    for (&p, &c) in best.iter().zip(&class) {
        if p >= CONFIDENT {
            confident += 1;
            seen[c as usize] = true;
        }
    }
    Judgement {
        confident: confident as f32 / JUDGED as f32,
        classes: seen.iter().filter(|&&s| s).count(),
    }
}

/// Samples per row and column of a snapshot grid.
const GRID: usize = 10;
/// Pixels of the PNG per pixel of a digit.
const SCALE: usize = 4;
/// Gap between digits, in PNG pixels.
const GAP: usize = 2;

/// Writes a `GRID × GRID` grid of seeded samples of `gan` to `path` as a greyscale PNG
/// (white ink on black, each digit pixel a `SCALE × SCALE` square).
pub fn write_grid(gan: &DigitsGan, path: &Path, seed: u64) -> Result<(), String> {
    let samples = gan.generate(GRID * GRID, &mut Rng::new(seed));
    let values = samples.values();
    let cell = SIDE * SCALE + GAP;
    let side = GRID * cell + GAP;
    let mut pixels = vec![0u8; side * side];
    for (k, digit) in values.chunks(PIXELS).enumerate() {
        let (x0, y0) = (GAP + (k % GRID) * cell, GAP + (k / GRID) * cell);
        for y in 0..SIDE * SCALE {
            for x in 0..SIDE * SCALE {
                let value = digit[(y / SCALE) * SIDE + x / SCALE];
                pixels[(y0 + y) * side + x0 + x] = (255.0 * value.clamp(0.0, 1.0)) as u8;
            }
        }
    }
    let file = File::create(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&pixels))
        .map_err(|err| format!("{}: {err}", path.display()))
}
