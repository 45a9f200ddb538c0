//! Generative adversarial networks (Goodfellow et al. 2014): a generator maps noise to
//! samples, a discriminator tells them from real data, and the two are trained in turn
//! against each other until the generated samples are hard to tell apart from the data.

use strata_autograd::{no_grad, Var};
use strata_datasets::Batch;
use strata_modules::{
    bce_with_logits, binary_accuracy, Mean, Metrics, Module, Optimization, Params, RngCell, Step,
    TrainError, TrainStep,
};
use strata_tensor::{splitmix64, Rng, Tensor};

/// The parameter group (and metric prefix) of the generator.
const GENERATOR: &str = "generator";
/// The parameter group (and metric prefix) of the discriminator.
const DISCRIMINATOR: &str = "discriminator";
/// Start of the seed that a validation batch's noise is derived from (with its indices).
const VALIDATION_NOISE: u64 = 0x7661_6c69_6461_7465; // "validate" in ASCII

/// A generator `G` (noise `[N, Z]` → samples) and a discriminator `D` (samples → one logit
/// of "real" per sample), trained by [`Trainer::fit`](strata_modules::Trainer::fit) in
/// alternating steps with one optimizer each:
///
/// - discriminator step: `BCE(D(x), 1) + BCE(D(G(z)), 0)`, with `G(z)` detached so that
///   no gradient reaches the generator;
/// - generator step, non-saturating: `BCE(D(G(z)), 1)`, i.e. maximise `log D(G(z))`,
///   whose gradient stays strong while the discriminator still wins easily.
///
/// Parameters are named `generator.…` and `discriminator.…`: give `fit` an
/// [`OptimizerGroups`](strata_modules::OptimizerGroups) with a group of each name. The real
/// samples are a batch's first input (its targets are not read). The noise of training
/// steps comes from a seeded stream kept in the model (`noise_rng`), which checkpoints save,
/// so a resumed run draws the same noise as an uninterrupted one.
///
/// ```
/// use strata_datasets::{DataLoader, Fields, TensorDataset};
/// use strata_modules::{
///     Adam, Dense, LeakyRelu, OptimizerGroups, Sequential, TrainConfig, Trainer,
/// };
/// use strata_patterns::Gan;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// // Real data: one number per sample, around 3.
/// let real = Tensor::rand_normal(&[512, 1], 3.0, 0.5, &mut rng);
/// let data = TensorDataset::from_fields(Fields::new().with("real", real), Fields::new()).unwrap();
/// let loader = DataLoader::new(data, 64).shuffle(1);
/// let discriminator = Sequential::new()
///     .push(Dense::new(1, 16, &mut rng))
///     .push(LeakyRelu { slope: 0.2 })
///     .push(Dense::new(16, 1, &mut rng));
/// let mut gan = Gan::new(Dense::new(1, 1, &mut rng), discriminator, 1, 7);
/// let mut optimizers = OptimizerGroups::new()
///     .group("generator", Adam::new(0.02).betas(0.5, 0.999))
///     .group("discriminator", Adam::new(0.02).betas(0.5, 0.999));
/// let mut trainer = Trainer::new(TrainConfig { epochs: 40, ..Default::default() });
/// let history = trainer.fit(&mut gan, &mut optimizers, &loader, ()).unwrap();
/// assert!(history[0].train.contains_key("generator.loss"));
/// // The linear generator now draws around 3, with the data's spread.
/// let samples = gan.generate(1000, &mut rng);
/// let mean = samples.mean().item();
/// let spread = samples.add_scalar(-mean).square().mean().item().sqrt();
/// assert!((mean - 3.0).abs() < 0.25 && (spread - 0.5).abs() < 0.2, "{mean} ± {spread}");
/// ```
#[derive(Params)]
pub struct Gan<G, D> {
    /// Noise → samples.
    pub generator: G,
    /// Sample → logit of "real".
    pub discriminator: D,
    /// The stream the training steps draw their noise from.
    noise_rng: RngCell,
    /// `Z`, the width of the noise.
    #[module(skip)]
    noise_width: usize,
}

impl<G: Module, D: Module> Gan<G, D> {
    /// A pair whose generator reads standard normal noise of width `noise_width`, drawn
    /// during training from a stream seeded by `noise_seed`.
    pub fn new(generator: G, discriminator: D, noise_width: usize, noise_seed: u64) -> Self {
        Self {
            generator,
            discriminator,
            noise_rng: RngCell::new(noise_seed),
            noise_width,
        }
    }

    /// `Z`, the width of the noise.
    pub fn noise_width(&self) -> usize {
        self.noise_width
    }

    /// Standard normal noise `[n, Z]`.
    pub fn noise(&self, n: usize, rng: &mut Rng) -> Tensor {
        Tensor::rand_normal(&[n, self.noise_width], 0.0, 1.0, rng)
    }

    /// `n` generated samples (nothing recorded).
    pub fn generate(&self, n: usize, rng: &mut Rng) -> Tensor {
        let noise = Var::constant(self.noise(n, rng));
        no_grad(|| self.generator.forward(&noise)).value().clone()
    }

    /// `BCE(D(real), 1) + BCE(D(G(noise)), 0)`; the generated batch is detached.
    pub fn discriminator_loss(&self, real: &Tensor, noise: &Tensor) -> Var {
        self.judge(real, noise).0
    }

    /// The non-saturating generator loss `BCE(D(G(noise)), 1)`.
    pub fn generator_loss(&self, noise: &Tensor) -> Var {
        let fake = self.generator.forward(&Var::constant(noise.clone()));
        let logits = self.discriminator.forward(&fake);
        let ones = Var::constant(Tensor::ones(logits.shape()));
        bce_with_logits(&logits, &ones)
    }

    /// The discriminator's loss on `real` and on the samples generated from `noise` (detached:
    /// generated without recording, so no gradient can reach the generator), and the share of
    /// both it classifies correctly.
    fn judge(&self, real: &Tensor, noise: &Tensor) -> (Var, Mean) {
        let fake = no_grad(|| self.generator.forward(&Var::constant(noise.clone())));
        let real_logits = self.discriminator.forward(&Var::constant(real.clone()));
        let fake_logits = self.discriminator.forward(&fake);
        let ones = Tensor::ones(real_logits.shape());
        let zeros = Tensor::zeros(fake_logits.shape());
        let mut accuracy = binary_accuracy(real_logits.value(), &ones);
        accuracy += binary_accuracy(fake_logits.value(), &zeros);
        let loss = bce_with_logits(&real_logits, &Var::constant(ones))
            .add(&bce_with_logits(&fake_logits, &Var::constant(zeros)));
        (loss, accuracy)
    }

    /// Noise `[n, Z]` from the model's own stream.
    fn draw_noise(&self, n: usize) -> Tensor {
        self.noise_rng.with(|rng| self.noise(n, rng))
    }
}

/// A metric of one of the two players, e.g. `discriminator.loss`.
fn metric(player: &str, name: &str) -> String {
    format!("{player}.{name}")
}

impl<G: Module, D: Module> TrainStep for Gan<G, D> {
    /// Both players' losses on a batch of real samples and as many generated ones, with noise
    /// derived from the batch's indices (a held-out batch is always judged against the same
    /// fakes, and the training stream is left alone): metrics `discriminator.loss`,
    /// `discriminator.accuracy` (real called real and fake called fake) and `generator.loss`.
    /// The step's loss is their sum, which nothing minimises: training alternates in
    /// [`TrainStep::optimize`].
    fn step(&self, batch: &Batch) -> Step {
        let n = batch.len();
        let seed = batch
            .indices
            .iter()
            .fold(VALIDATION_NOISE, |s, &i| splitmix64(s, i as u64));
        let noise = self.noise(n, &mut Rng::new(seed));
        let (d_loss, d_accuracy) = self.judge(batch.input(), &noise);
        let g_loss = self.generator_loss(&noise);
        let metrics = Metrics::new()
            .with(&metric(DISCRIMINATOR, "loss"), Mean::of(d_loss.item(), n))
            .with(&metric(DISCRIMINATOR, "accuracy"), d_accuracy)
            .with(&metric(GENERATOR, "loss"), Mean::of(g_loss.item(), n));
        Step {
            loss: d_loss.add(&g_loss),
            metrics,
        }
    }

    /// One discriminator step on the batch's real samples and as many generated ones, then
    /// one generator step on fresh noise of the same size, each updating only its own
    /// parameter group; reports the metrics of [`TrainStep::step`] as they were before each
    /// update.
    fn optimize(
        &mut self,
        batch: &Batch,
        optimization: &mut Optimization<'_>,
    ) -> Result<Metrics, TrainError> {
        let n = batch.len();
        let (d_loss, d_accuracy) = self.judge(batch.input(), &self.draw_noise(n));
        let mut metrics = Metrics::new()
            .with(&metric(DISCRIMINATOR, "loss"), Mean::of(d_loss.item(), n))
            .with(&metric(DISCRIMINATOR, "accuracy"), d_accuracy);
        optimization.minimize_group(self, d_loss, DISCRIMINATOR)?;
        let g_loss = self.generator_loss(&self.draw_noise(n));
        metrics.add(&metric(GENERATOR, "loss"), Mean::of(g_loss.item(), n));
        optimization.minimize_group(self, g_loss, GENERATOR)?;
        Ok(metrics)
    }
}
