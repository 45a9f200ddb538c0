//! Autoencoders on the digits: an encoder to a small latent code and a decoder back to 64
//! pixels, both MLPs or both convolutional (strided convolutions down, transposed
//! convolutions up), trained on mean squared error, optionally from corrupted inputs
//! (denoising: the data loader adds fresh noise to every digit in every epoch).

use super::data::EVAL_BATCH;
use super::data::PIXELS;
use super::{epochs, fit, Progress};
use strata_datasets::{DataLoader, Example, TensorDataset};
use strata_modules::{
    evaluate as evaluate_model, mean_squared_error, Adam, Conv2d, Conv2dConfig, ConvTranspose2d,
    Dense, Flatten, Identity, Module, Regression, Relu, Sequential, Sigmoid, Supervised, Unflatten,
};
use strata_patterns::EncoderDecoder;
use strata_tensor::{Rng, Tensor};

/// The autoencoders of this recipe.
pub type Autoencoder = EncoderDecoder<Sequential, Sequential>;

/// The layers on each side of the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// Dense layers on the 64 pixels.
    Dense,
    /// Convolutions on the 8x8 image: 1 → 16 → 32 channels by stride-2 3x3 convolutions
    /// (8x8 → 4x4 → 2x2), a dense map to the code, and back by stride-2 4x4 transposed
    /// convolutions.
    Convolutional,
}

/// Settings of one autoencoder training.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Dense or convolutional encoder and decoder.
    pub architecture: Architecture,
    /// Width of the latent code `z`.
    pub latent: usize,
    /// Width of the hidden layer on each side.
    pub hidden: usize,
    /// Passes over the training digits.
    pub epochs: usize,
    /// Standard deviation of the Gaussian noise added to inputs (0: a plain autoencoder).
    pub noise: f32,
    /// Seed of initialisation, batch order and noise.
    pub seed: u64,
}

/// The plain autoencoder: a 16-number code for 64 pixels.
pub const PLAIN: Config = Config {
    architecture: Architecture::Dense,
    latent: 16,
    hidden: 64,
    epochs: 30,
    noise: 0.0,
    seed: 1,
};

/// A 2-number code, to be drawn: how the digits arrange themselves in the latent plane.
pub const PLANE: Config = Config { latent: 2, ..PLAIN };

/// The denoising autoencoder: Gaussian noise of σ = 0.3 (about a third of the pixel range)
/// on the inputs, clean digits as targets.
pub const DENOISING: Config = Config {
    noise: 0.3,
    ..PLAIN
};

/// The plain autoencoder's code, reached by convolutions.
pub const CONVOLUTIONAL: Config = Config {
    architecture: Architecture::Convolutional,
    ..PLAIN
};

/// Mini-batch size.
const BATCH: usize = 32;
/// Adam's learning rate (the usual 1e-3 converges too slowly for a few-second budget).
const LEARNING_RATE: f32 = 3e-3;

/// The encoder and decoder of `config`; a sigmoid keeps the reconstruction in the pixels'
/// range [0, 1]. Both take and give flat `[N, 64]` digits.
pub fn build(config: &Config, rng: &mut Rng) -> Autoencoder {
    match config.architecture {
        Architecture::Dense => build_dense(config, rng),
        Architecture::Convolutional => build_convolutional(config, rng),
    }
}

/// Channels of the convolutional autoencoder's two feature maps.
const CHANNELS: [usize; 2] = [16, 32];

/// 8x8 → 16 × 4x4 → 32 × 2x2 → latent, and back through transposed convolutions.
fn build_convolutional(config: &Config, rng: &mut Rng) -> Autoencoder {
    let [c1, c2] = CHANNELS;
    let down = |from, to, rng: &mut Rng| {
        Conv2d::with_config(from, to, Conv2dConfig::new(3).stride(2).padding(1), rng)
    };
    let up = |from, to, rng: &mut Rng| {
        ConvTranspose2d::with_config(from, to, Conv2dConfig::new(4).stride(2).padding(1), rng)
    };
    let encoder = Sequential::new()
        .push(Unflatten::new(&[1, 8, 8]))
        .push(down(1, c1, rng))
        .push(Relu)
        .push(down(c1, c2, rng))
        .push(Relu)
        .push(Flatten)
        .push(Dense::new(c2 * 4, config.latent, rng));
    let decoder = Sequential::new()
        .push(Dense::new(config.latent, c2 * 4, rng))
        .push(Relu)
        .push(Unflatten::new(&[c2, 2, 2]))
        .push(up(c2, c1, rng))
        .push(Relu)
        .push(up(c1, 1, rng))
        .push(Sigmoid)
        .push(Flatten);
    EncoderDecoder::new(encoder, decoder)
}

/// A 64 → hidden → latent encoder and a latent → hidden → 64 decoder.
fn build_dense(config: &Config, rng: &mut Rng) -> Autoencoder {
    let encoder = Sequential::new()
        .push(Dense::new(PIXELS, config.hidden, rng))
        .push(Relu)
        .push(Dense::new(config.hidden, config.latent, rng));
    let decoder = Sequential::new()
        .push(Dense::new(config.latent, config.hidden, rng))
        .push(Relu)
        .push(Dense::new(config.hidden, PIXELS, rng))
        .push(Sigmoid);
    EncoderDecoder::new(encoder, decoder)
}

/// Batches of `digits` (images `[N, 64]`) as inputs and as targets, each input plus Gaussian
/// noise of standard deviation `noise` (none for 0), drawn anew for every example and epoch
/// from `seed`.
fn noisy_to_clean(digits: &TensorDataset, noise: f32, batch: usize, seed: u64) -> DataLoader {
    let images = digits.input().clone();
    let pairs = TensorDataset::new(images.clone(), images).expect("as many targets as inputs");
    let loader = DataLoader::new(pairs, batch);
    if noise == 0.0 {
        return loader;
    }
    let corrupt = move |example: Example, rng: &mut Rng| {
        let clean = example.input();
        let noisy = clean.add(&Tensor::rand_normal(clean.shape(), 0.0, noise, rng));
        Ok(example.with_input(noisy))
    };
    loader.transform(corrupt, seed)
}

/// Trains an autoencoder to map (corrupted) training digits to the clean ones.
pub fn train(config: &Config, digits: &TensorDataset, progress: Progress) -> Autoencoder {
    let mut model = build(config, &mut Rng::new(config.seed));
    let loader = noisy_to_clean(digits, config.noise, BATCH, config.seed).shuffle(config.seed);
    fit(
        &mut model.with_objective(Regression),
        &mut Adam::new(LEARNING_RATE),
        epochs(config.epochs),
        &loader,
        (),
        progress,
    );
    model
}

/// Held-out errors of an autoencoder, beside the baselines that give them meaning.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    /// MSE of the model's output against the clean held-out digits.
    pub model_mse: f32,
    /// MSE of predicting the mean training image for every held-out digit: the best a model
    /// without any information about the input can do.
    pub mean_image_mse: f32,
    /// MSE of the corrupted inputs themselves (equal to 0 without noise).
    pub input_mse: f32,
}

impl Report {
    /// The model's error as a fraction of the mean-image baseline.
    pub fn ratio(&self) -> f32 {
        self.model_mse / self.mean_image_mse
    }
}

/// Evaluates `model` on the held-out digits, corrupted as in training (with a fixed seed).
pub fn evaluate(
    model: &mut Autoencoder,
    config: &Config,
    train: &TensorDataset,
    test: &TensorDataset,
) -> Report {
    let held_out = noisy_to_clean(test, config.noise, EVAL_BATCH, config.seed ^ 0x7e57);
    // The regression objective's loss is the mean squared error per pixel.
    let mse = |model: &mut dyn Module| {
        let metrics = evaluate_model(&mut Supervised::new(model, Regression), &held_out);
        metrics.expect("the digits are in memory")["loss"]
    };
    let mean_image = train.input().mean_axes(&[0], true);
    let images = test.input();
    Report {
        model_mse: mse(model),
        mean_image_mse: mean_squared_error(&mean_image.broadcast_to(images.shape()), images)
            .value(),
        input_mse: mse(&mut Identity),
    }
}

/// Largest held-out reconstruction error accepted, as a fraction of the mean-image baseline.
///
/// Predicting the mean image scores the total pixel variance of the held-out digits; a
/// ratio `r` means the code explains `1 − r` of that variance for digits it never saw. A
/// linear 16-number code (PCA) keeps about 85% of the digits' variance, so a working
/// nonlinear autoencoder of that width lands near 0.15-0.25; 0.40 leaves room for a short
/// training budget while failing any model that merely learned blurry average shapes (a
/// code that only identifies the class, i.e. predicts each class's mean image, scores about
/// 0.5).
pub const MAX_MSE_RATIO: f32 = 0.40;

/// The latent codes of `digits` as points of the plane (for a [`PLANE`] autoencoder).
pub fn latent_points(model: &Autoencoder, digits: &TensorDataset) -> Vec<(f32, f32)> {
    let z = model.latent(digits.input()).to_vec();
    z.chunks(2).map(|p| (p[0], p[1])).collect()
}

/// Draws the latent `points` of `digits` coloured by digit into an SVG at `path`.
pub fn write_latent_plot(
    path: &std::path::Path,
    points: &[(f32, f32)],
    digits: &TensorDataset,
) -> std::io::Result<()> {
    let title = "Held-out digits in the 2-D latent space of an autoencoder";
    let labels: Vec<usize> = digits
        .target()
        .values()
        .iter()
        .map(|&d| d as usize)
        .collect();
    super::svg::write_scatter(path, points, &labels, title)
}
