//! # strata-patterns
//!
//! With deep learning we define hypothesis classes as computational graphs of modules, and
//! design patterns for those graphs keep reappearing. Each pattern here is a small generic
//! combinator over [`Module`](strata_modules::Module)s that carries the one piece of logic the
//! pattern implies:
//!
//! - encoder-decoder: [`EncoderDecoder`] (access to the latent code `z`), and [`Seq2Seq`]
//!   (recurrent encoder and decoder, teacher forcing, greedy decoding);
//! - multi-input encoder: [`MultiInput`] (one encoder per flow and a [`Fusion`]),
//!   [`Siamese`] (one shared encoder, metric-learning losses), [`Relation`] (a learned
//!   relation head over pairs);
//! - multi-output decoder: [`MultiOutput`] (a shared trunk and named heads, each with its own
//!   loss and weight);
//! - teacher-student: [`TeacherStudent`] (a frozen teacher and the [`distillation_loss`]);
//! - modulation: [`Glu`] (gating), [`Residual`] (skip connections), [`Film`] (per-feature
//!   `γ ⊙ h + β` from a condition), [`AttentionPool`] (content-weighted pooling of a set);
//! - bottom-up, top-down attention: [`BottomUpTopDown`] (region features weighted by a query);
//! - adversarial: [`Gan`] (alternating discriminator and generator steps);
//! - auto-regressive: [`AutoRegressive`] (teacher forcing, and a sampling loop with
//!   [`Sampling`]'s temperature and top-k, or a forecast loop).
//!
//! `patterns/README.md` sketches each pattern; every one has an example in
//! `patterns/examples/` and a test that trains it and asserts that it learned.
//!
//! ```
//! use strata_modules::{Dense, Module, Relu, Sequential, Var};
//! use strata_patterns::EncoderDecoder;
//! use strata_tensor::{Rng, Tensor};
//! let mut rng = Rng::new(0);
//! let encoder = Sequential::new().push(Dense::new(64, 16, &mut rng)).push(Relu);
//! let autoencoder = EncoderDecoder::new(encoder, Dense::new(16, 64, &mut rng));
//! let images = Tensor::rand_uniform(&[10, 64], 0.0, 1.0, &mut rng);
//! assert_eq!(autoencoder.latent(&images).shape(), &[10, 16]);
//! ```

mod attention_pool;
mod autoregressive;
mod bottom_up;
mod encoder_decoder;
mod film;
mod gan;
mod gating;
mod language_model;
mod multi_input;
mod multi_output;
mod relation;
mod residual;
mod seq2seq;
mod siamese;
mod teacher_student;
mod transformer_lm;

pub use attention_pool::AttentionPool;
pub use autoregressive::{sample_token, AutoRegressive, Sampling};
pub use bottom_up::BottomUpTopDown;
pub use encoder_decoder::EncoderDecoder;
pub use film::Film;
pub use gan::Gan;
pub use gating::Glu;
pub use language_model::CountBaselines;
pub use multi_input::{Fusion, MultiInput};
pub use multi_output::{MultiLoss, MultiOutput, Outputs, TaskHead};
pub use relation::Relation;
pub use residual::Residual;
pub use seq2seq::{Recurrent, Seq2Seq};
pub use siamese::{nearest_neighbour_accuracy, MetricLoss, Siamese};
pub use teacher_student::{distillation_loss, TeacherStudent};
pub use transformer_lm::TransformerLm;

/// Unwraps the result of a `try_` method, panicking at the caller's line with its message.
#[track_caller]
pub(crate) fn expect_ok<T>(result: strata_tensor::Result<T>) -> T {
    result.unwrap_or_else(|err| panic!("{err}"))
}
