//! Autoencoders on the digits: an MLP encoder to a small latent code, an MLP decoder back to
//! 64 pixels, trained on mean squared error, optionally from corrupted inputs (denoising: the
//! data loader adds fresh noise to every digit in every epoch).

use super::data::EVAL_BATCH;
use super::data::PIXELS;
use super::{epochs, fit, Progress};
use strata_datasets::{DataLoader, Example, TensorDataset};
use strata_modules::{
    evaluate as evaluate_model, mean_squared_error, Adam, Dense, Identity, Module, Regression,
    Relu, Sequential, Sigmoid, Supervised,
};
use strata_patterns::EncoderDecoder;
use strata_tensor::{Rng, Tensor};

/// The autoencoders of this recipe.
pub type Autoencoder = EncoderDecoder<Sequential, Sequential>;

/// Settings of one autoencoder training.
#[derive(Clone, Copy, Debug)]
pub struct Config {
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

/// Mini-batch size.
const BATCH: usize = 32;
/// Adam's learning rate (the usual 1e-3 converges too slowly for a few-second budget).
const LEARNING_RATE: f32 = 3e-3;

/// A 64 → hidden → latent encoder and a latent → hidden → 64 decoder; a sigmoid keeps the
/// reconstruction in the pixels' range [0, 1].
pub fn build(config: &Config, rng: &mut Rng) -> Autoencoder {
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
