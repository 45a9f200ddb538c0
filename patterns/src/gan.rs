//! Generative adversarial networks (Goodfellow et al. 2014): a generator maps noise to
//! samples, a discriminator tells them from real data, and the two are trained in turn
//! against each other until the generated samples are hard to tell apart from the data.

use strata_autograd::{no_grad, Var};
use strata_modules::{bce_with_logits, Module, Optimizer, Params, Reduction};
use strata_tensor::{Rng, Tensor};

/// A generator `G` (noise `[N, Z]` → samples) and a discriminator `D` (samples → one logit
/// of "real" per sample), trained by alternating steps with separate optimizers:
///
/// - discriminator step: `BCE(D(x), 1) + BCE(D(G(z)), 0)`, with `G(z)` detached so that
///   no gradient reaches the generator;
/// - generator step, non-saturating: `BCE(D(G(z)), 1)`, i.e. maximise `log D(G(z))`,
///   whose gradient stays strong while the discriminator still wins easily.
///
/// Parameters are named `generator.…` and `discriminator.…`.
///
/// ```
/// use strata_modules::{Adam, Dense};
/// use strata_patterns::Gan;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let mut gan = Gan::new(Dense::new(2, 2, &mut rng), Dense::new(2, 1, &mut rng), 2);
/// let (mut d_opt, mut g_opt) = (Adam::new(1e-3), Adam::new(1e-3));
/// let real = Tensor::rand_normal(&[8, 2], 3.0, 1.0, &mut rng);
/// let losses = gan.train_step(&real, &mut d_opt, &mut g_opt, &mut rng);
/// assert!(losses.discriminator > 0.0 && losses.generator > 0.0);
/// assert_eq!(gan.generate(5, &mut rng).shape(), &[5, 2]);
/// ```
#[derive(Params)]
pub struct Gan<G, D> {
    /// Noise → samples.
    pub generator: G,
    /// Sample → logit of "real".
    pub discriminator: D,
    /// `Z`, the width of the noise.
    #[module(skip)]
    noise_width: usize,
}

/// The two losses of one [`Gan::train_step`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GanLosses {
    /// The discriminator's loss on the real and the generated batch.
    pub discriminator: f32,
    /// The generator's non-saturating loss.
    pub generator: f32,
}

impl<G: Module, D: Module> Gan<G, D> {
    /// A pair whose generator reads standard normal noise of width `noise_width`.
    pub fn new(generator: G, discriminator: D, noise_width: usize) -> Self {
        Self {
            generator,
            discriminator,
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
        let fake = self
            .generator
            .forward(&Var::constant(noise.clone()))
            .detach();
        let real_logits = self.discriminator.forward(&Var::constant(real.clone()));
        let fake_logits = self.discriminator.forward(&fake);
        let ones = Var::constant(Tensor::ones(real_logits.shape()));
        let zeros = Var::constant(Tensor::zeros(fake_logits.shape()));
        bce_with_logits(&real_logits, &ones, Reduction::Mean).add(&bce_with_logits(
            &fake_logits,
            &zeros,
            Reduction::Mean,
        ))
    }

    /// The non-saturating generator loss `BCE(D(G(noise)), 1)`.
    pub fn generator_loss(&self, noise: &Tensor) -> Var {
        let fake = self.generator.forward(&Var::constant(noise.clone()));
        let logits = self.discriminator.forward(&fake);
        let ones = Var::constant(Tensor::ones(logits.shape()));
        bce_with_logits(&logits, &ones, Reduction::Mean)
    }

    /// One discriminator step on `real` and as many generated samples, then one generator
    /// step on a fresh noise batch of the same size; each optimizer moves only its network.
    pub fn train_step(
        &mut self,
        real: &Tensor,
        discriminator_optimizer: &mut dyn Optimizer,
        generator_optimizer: &mut dyn Optimizer,
        rng: &mut Rng,
    ) -> GanLosses {
        let n = real.shape().first().copied().unwrap_or(0);
        let d_loss = self.discriminator_loss(real, &self.noise(n, rng));
        let grads = d_loss
            .backward()
            .expect("the discriminator loss depends on the discriminator");
        discriminator_optimizer.step(&mut self.discriminator, &grads);

        let g_loss = self.generator_loss(&self.noise(n, rng));
        let grads = g_loss
            .backward()
            .expect("the generator loss depends on the generator");
        generator_optimizer.step(&mut self.generator, &grads);
        GanLosses {
            discriminator: d_loss.item(),
            generator: g_loss.item(),
        }
    }
}
