//! # strata
//!
//! Deep learning on the CPU in Rust, behind one dependency. This crate only re-exports the
//! layered crates, each of which is usable on its own:
//!
//! | path | crate | what |
//! |---|---|---|
//! | [`tensor`] | `strata-tensor` | N-d `f32` tensors, matrix products on faer, seeded RNG, threads |
//! | [`autograd`] | `strata-autograd` | `Var`, reverse-mode gradients, `no_grad`, `gradcheck` |
//! | [`modules`] | `strata-modules` | layers, losses, optimizers, checkpoints, the `Trainer` |
//! | [`datasets`] | `strata-datasets` | datasets, `DataLoader`, transforms, embedded data, `fetch` |
//! | [`patterns`] | `strata-patterns` | architecture patterns (feature `patterns`, on by default) |
//!
//! [`prelude`] brings the names a training program uses into scope with one line:
//!
//! ```
//! use strata::prelude::*;
//!
//! let mut rng = Rng::new(7);
//! // XOR of the signs of two coordinates.
//! let x = Tensor::rand_uniform(&[256, 2], -1.0, 1.0, &mut rng);
//! let y = x.narrow(1, 0, 1).mul(&x.narrow(1, 1, 1)).gt(&Tensor::scalar(0.0)).squeeze(1);
//! let data = DataLoader::new(TensorDataset::new(x, y)?, 32).shuffle(0);
//! let mut mlp = Sequential::new()
//!     .push(Dense::new(2, 16, &mut rng))
//!     .push(Relu)
//!     .push(Dense::new(16, 2, &mut rng));
//! let mut trainer = Trainer::new(TrainConfig { epochs: 60, ..Default::default() });
//! let classifier = &mut mlp.with_objective(Classification::default());
//! let history = trainer.fit(classifier, &mut Adam::new(0.02), &data, &data)?;
//! assert!(history.last().unwrap().val_accuracy().unwrap() > 0.9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Features: `progress` (default: the terminal [`ProgressBar`](modules::ProgressBar) of the
//! training loop), `patterns` (default), `fetch` (checksum-verified downloads of MNIST,
//! Fashion-MNIST and CIFAR-10 over HTTPS; off by default to keep the dependency graph small).

pub use strata_autograd as autograd;
pub use strata_datasets as datasets;
pub use strata_modules as modules;
#[cfg(feature = "patterns")]
pub use strata_patterns as patterns;
pub use strata_tensor as tensor;

/// The names most training programs use: `use strata::prelude::*;`.
///
/// Tensors and variables, the module trait and common layers, the losses' shared options,
/// optimizers, the training loop with its objectives, checkpoints, and the data types that feed
/// it. Everything else is one path away (`strata::modules::…`, `strata::datasets::…`).
pub mod prelude {
    pub use strata_autograd::{no_grad, Var};
    pub use strata_datasets::{
        Batch, DataError, DataLoader, Dataset, Example, Fields, TensorDataset,
    };
    #[cfg(feature = "progress")]
    pub use strata_modules::ProgressBar;
    pub use strata_modules::{
        load_model, save_model, Adam, AdamW, BatchNorm1d, BatchNorm2d, BinaryClassification,
        Classification, Conv2d, Dense, Dropout, Embedding, Flatten, LayerNorm, MaxPool2d, Module,
        Optimizer, Params, Reduction, Regression, Relu, Sequential, Sgd, Sigmoid, Tanh,
        TrainConfig, TrainError, TrainStep, Trainer,
    };
    pub use strata_tensor::{Rng, Tensor};
}
