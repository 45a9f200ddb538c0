//! A GAN on the embedded 8×8 digits: a generator from 16 noise numbers to 64 pixels against a
//! discriminator, dense or convolutional (a DCGAN: transposed convolutions up, strided
//! convolutions down), trained inside `Trainer::fit` (one Adam per network) and validated on
//! the held-out digits. The trainer saves a checkpoint every few epochs, and a callback draws a
//! grid of generated digits from each one (a PNG). The samples are judged by a digits
//! classifier trained on real digits: how many it recognises confidently, and how many
//! different digits among them.

use super::data::{digit_datasets, evaluation_loader, CLASSES, PIXELS, SIDE};
use super::{epochs, fit, Progress, SPLIT_SEED};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use strata_autograd::{no_grad, Var};
use strata_datasets::DataLoader;
use strata_modules::{
    Adam, BatchNorm2d, Callback, Checkpoint, Classification, Conv2d, Conv2dConfig, ConvTranspose2d,
    Dense, Event, Flatten, LeakyRelu, Module, OptimizerGroups, Relu, Sequential, Sigmoid,
    TrainConfig, TrainError, Unflatten,
};
use strata_patterns::Gan;
use strata_tensor::Rng;

/// Seed of initialisation, noise and batch order.
pub const SEED: u64 = 41;
/// Width of the generator's noise.
const NOISE: usize = 16;
/// Width of the dense networks' hidden layers.
const HIDDEN: usize = 128;
/// Channels of the convolutional networks' first and second feature maps (4×4, then 2×2 in
/// the discriminator; the other way round in the generator).
const CHANNELS: [usize; 2] = [16, 32];
/// A checkpoint, and a grid of samples drawn from it, every this many epochs.
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
/// Batch size of the judging classifier.
const CLASSIFIER_BATCH: usize = 32;
/// Adam's learning rate for the judging classifier.
const CLASSIFIER_LEARNING_RATE: f32 = 3e-3;
/// The model of this recipe.
pub type DigitsGan = Gan<Sequential, Sequential>;

/// The networks of the two GANs of this recipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// `16 → 128 → 64` (sigmoid pixels) against `64 → 128 → 1`.
    Dense,
    /// A DCGAN (Radford, Metz & Chintala 2016): the noise becomes `32 × 2 × 2` features,
    /// doubled twice in size by 4×4 transposed convolutions of stride 2 (batch-normalised,
    /// ReLU) to `1 × 8 × 8`; the discriminator halves twice with 4×4 convolutions of
    /// stride 2 (leaky ReLU) to `32 × 2 × 2`, then one dense logit.
    Convolutional,
}

impl Architecture {
    /// The name of the example, and the prefix of its files (`gan.ckpt`, `dcgan_epoch_050.png`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Dense => "gan",
            Self::Convolutional => "dcgan",
        }
    }

    /// Passes over the training digits.
    pub fn epochs(self) -> usize {
        match self {
            Self::Dense => 300,
            Self::Convolutional => 100,
        }
    }

    /// The checkpoint file of a run writing to `folder`.
    pub fn checkpoint(self, folder: &Path) -> PathBuf {
        folder.join(format!("{}.ckpt", self.name()))
    }

    /// The untrained GAN: its weights and the seed of its noise drawn from `rng`.
    pub fn build(self, rng: &mut Rng) -> DigitsGan {
        let (generator, discriminator) = match self {
            Self::Dense => (
                Sequential::new()
                    .push(Dense::new(NOISE, HIDDEN, rng))
                    .push(Relu)
                    .push(Dense::new(HIDDEN, PIXELS, rng))
                    .push(Sigmoid),
                Sequential::new()
                    .push(Dense::new(PIXELS, HIDDEN, rng))
                    .push(LeakyRelu { slope: 0.2 })
                    .push(Dense::new(HIDDEN, 1, rng)),
            ),
            Self::Convolutional => {
                let [narrow, wide] = CHANNELS;
                let halving = Conv2dConfig::new(4).stride(2).padding(1);
                let quarter = SIDE / 4;
                (
                    Sequential::new()
                        .push(Dense::new(NOISE, wide * quarter * quarter, rng))
                        .push(Relu)
                        .push(Unflatten::new(&[wide, quarter, quarter]))
                        .push(ConvTranspose2d::with_config(wide, narrow, halving, rng))
                        .push(BatchNorm2d::new(narrow))
                        .push(Relu)
                        .push(ConvTranspose2d::with_config(narrow, 1, halving, rng))
                        .push(Sigmoid)
                        .push(Flatten),
                    Sequential::new()
                        .push(Unflatten::new(&[1, SIDE, SIDE]))
                        .push(Conv2d::with_config(1, narrow, halving, rng))
                        .push(LeakyRelu { slope: 0.2 })
                        .push(Conv2d::with_config(narrow, wide, halving, rng))
                        .push(LeakyRelu { slope: 0.2 })
                        .push(Flatten)
                        .push(Dense::new(wide * quarter * quarter, 1, rng)),
                )
            }
        };
        Gan::new(generator, discriminator, NOISE, rng.next_u64())
    }
}

/// Trains the GAN of `architecture` on the training digits, validating on the held-out ones
/// after every epoch and saving a checkpoint to `folder` every [`SNAPSHOT_EVERY`] epochs,
/// from which a grid of samples is drawn ([`Snapshots`]). An error if a checkpoint cannot be
/// written.
pub fn train(
    architecture: Architecture,
    seed: u64,
    folder: &Path,
    progress: Progress,
) -> Result<DigitsGan, TrainError> {
    let (train, test) = digit_datasets(SPLIT_SEED);
    let (train, test) = (
        DataLoader::new(train, BATCH).shuffle(seed),
        evaluation_loader(test),
    );
    let mut rng = Rng::new(seed);
    let mut gan = architecture.build(&mut rng);
    let adam = || Adam::new(LEARNING_RATE).betas(0.5, 0.999);
    let mut optimizers = OptimizerGroups::new()
        .group("generator", adam())
        .group("discriminator", adam());
    let snapshots = Snapshots {
        // Any weights: each checkpoint replaces them.
        gan: architecture.build(&mut Rng::new(seed)),
        architecture,
        folder: folder.to_path_buf(),
        epochs_done: 0,
        seed,
    };
    let mut trainer = progress
        .trainer(TrainConfig {
            epochs: architecture.epochs(),
            checkpoint_every: Some(SNAPSHOT_EVERY),
            checkpoint_path: Some(architecture.checkpoint(folder)),
            ..Default::default()
        })
        .with_callback(snapshots);
    trainer.fit(&mut gan, &mut optimizers, &train, &test)?;
    Ok(gan)
}

/// A callback that, after each checkpoint the trainer saves, loads it into a GAN of the
/// recipe's shape and writes a grid of its samples next to it (`gan_epoch_050.png`,
/// `dcgan_epoch_050.png`, …), printing where (or why not).
pub struct Snapshots {
    /// Where the checkpoints are loaded into.
    gan: DigitsGan,
    /// Its networks, which name the files.
    architecture: Architecture,
    /// Where the grids go.
    folder: PathBuf,
    /// Epochs finished so far.
    epochs_done: usize,
    /// Seed of the samples drawn.
    seed: u64,
}

impl Snapshots {
    /// Loads the checkpoint at `path` and writes the grid of epoch `epochs_done`.
    fn draw(&mut self, checkpoint: &Path) -> Result<PathBuf, String> {
        let loaded = Checkpoint::load(checkpoint).and_then(|c| c.apply_to(&mut self.gan));
        loaded.map_err(|err| format!("{}: {err}", checkpoint.display()))?;
        let path = self.folder.join(format!(
            "{}_epoch_{:03}.png",
            self.architecture.name(),
            self.epochs_done
        ));
        write_grid(&self.gan, &path, self.seed)?;
        Ok(path)
    }
}

impl Callback for Snapshots {
    fn on_event(&mut self, event: &Event<'_>) {
        match event {
            Event::EpochEnd(metrics) => self.epochs_done = metrics.epoch + 1,
            Event::CheckpointSaved(checkpoint) => match self.draw(checkpoint) {
                Ok(path) => println!(
                    "epoch {}: samples written to {}",
                    self.epochs_done,
                    path.display()
                ),
                Err(err) => println!("epoch {}: no samples written: {err}", self.epochs_done),
            },
            _ => {}
        }
    }
}

/// What the `gan` and `dcgan` examples do: trains the GAN of `architecture`, writing its
/// checkpoints and sample grids to the folder given as the first argument (by default the
/// example binary's), and prints how the judge sees its final samples.
pub fn run_example(architecture: Architecture) -> Result<(), String> {
    let folder = super::output_dir(architecture.name()).map_err(|err| err.to_string())?;
    let gan = train(architecture, SEED, &folder, Progress::Bar).map_err(|err| err.to_string())?;
    let judgement = judge(&gan, &train_judge(SEED, Progress::Bar), SEED);
    println!(
        "generated digits: {:.1}% recognised by a digits classifier with probability ≥ \
         {CONFIDENT}, {} of 10 digits among them",
        100.0 * judgement.confident,
        judgement.classes
    );
    Ok(())
}

/// A `64 → 64 → 10` classifier of real digits, the judge of generated ones (validated on the
/// held-out digits).
pub fn train_judge(seed: u64, progress: Progress) -> Sequential {
    let (train, test) = digit_datasets(SPLIT_SEED);
    let (train, test) = (
        DataLoader::new(train, CLASSIFIER_BATCH).shuffle(seed),
        evaluation_loader(test),
    );
    let mut rng = Rng::new(seed);
    let mut judge = Sequential::new()
        .push(Dense::new(PIXELS, 64, &mut rng))
        .push(Relu)
        .push(Dense::new(64, CLASSES, &mut rng));
    fit(
        &mut judge.with_objective(Classification::default()),
        &mut Adam::new(CLASSIFIER_LEARNING_RATE),
        epochs(CLASSIFIER_EPOCHS),
        &train,
        &test,
        progress,
    );
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
