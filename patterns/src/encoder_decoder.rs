//! Encoder-decoder: learn a latent representation `z = encoder(x)` from which the decoder
//! produces the output `decoder(z)`. With the input as its own target it is an autoencoder;
//! a narrow `z` forces the network to keep only what explains the data.

use strata_autograd::{no_grad, Var};
use strata_modules::{Module, Params};
use strata_tensor::Tensor;

/// An encoder `E` and a decoder `D` composed through a latent code `z`.
///
/// ```
/// use strata_modules::{Dense, Module, Var};
/// use strata_patterns::EncoderDecoder;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let autoencoder = EncoderDecoder::new(Dense::new(6, 2, &mut rng), Dense::new(2, 6, &mut rng));
/// let x = Var::constant(Tensor::ones(&[5, 6]));
/// let (z, reconstruction) = autoencoder.forward_with_latent(&x);
/// assert_eq!((z.shape(), reconstruction.shape()), (&[5, 2][..], &[5, 6][..]));
/// assert_eq!(autoencoder.forward(&x).value().to_vec(), reconstruction.value().to_vec());
/// ```
#[derive(Params)]
pub struct EncoderDecoder<E, D> {
    /// Maps an input to its latent code `z`.
    pub encoder: E,
    /// Maps a latent code back to an output.
    pub decoder: D,
}

impl<E: Module, D: Module> EncoderDecoder<E, D> {
    /// Composes `encoder` and `decoder`; the encoder's output width must be the decoder's
    /// input width.
    pub fn new(encoder: E, decoder: D) -> Self {
        Self { encoder, decoder }
    }

    /// The latent code `z` of a batch (recorded, so losses on `z` train the encoder).
    pub fn encode(&self, x: &Var) -> Var {
        self.encoder.forward(x)
    }

    /// The output for latent codes `z` (e.g. new points of the latent space).
    pub fn decode(&self, z: &Var) -> Var {
        self.decoder.forward(z)
    }

    /// Both the latent code and the output, for losses that look at `z` too.
    pub fn forward_with_latent(&self, x: &Var) -> (Var, Var) {
        let z = self.encode(x);
        let output = self.decode(&z);
        (z, output)
    }

    /// The latent codes of a batch for inspection (nothing recorded).
    pub fn latent(&self, x: &Tensor) -> Tensor {
        no_grad(|| self.encode(&Var::constant(x.clone())).value().clone())
    }
}

impl<E: Module, D: Module> Module for EncoderDecoder<E, D> {
    /// `decoder(encoder(x))`.
    fn forward(&self, x: &Var) -> Var {
        self.decode(&self.encode(x))
    }
}
