//! # strata-recipes
//!
//! Reference training recipes for Strata, shared by `cargo xtask train-demo` / `eval` and the
//! MPI runner `strata-mpi-train`, so both train the same thing the same way:
//!
//! - [`DatasetName`]: the datasets by name (embedded, synthetic, or read from disk), with a
//!   seeded held-out split and the training split's standardisation ([`data::load`]);
//! - [`ModelSpec`]: the networks (MLP, CNN, with or without batch normalisation and
//!   dropout) described by a few numbers, built and checked against a checkpoint's weights
//!   without allocating;
//! - [`Recipe`]: the default epochs, batch size, learning rate and widths per dataset and
//!   network; [`Plan`]: a run planned from a user's [`Choices`] (data loaded, defaults filled
//!   in, seeds of the initialisation, the shuffling and the augmentation, loaders, schedule);
//! - [`RunSpec`]: what a checkpoint records of its run, so `cargo xtask eval` rebuilds the
//!   network and its test split from the file alone.
//!
//! ```
//! use strata_recipes::{Choices, DatasetName, ModelKind, OptimizerKind, Plan};
//! let plan = Plan::new(&Choices {
//!     dataset: DatasetName::Iris,
//!     data_dir: None,
//!     model: ModelKind::Mlp,
//!     optimizer: OptimizerKind::Adam,
//!     epochs: None,
//!     batch_size: None,
//!     learning_rate: None,
//!     widths: None,
//!     batch_norm: None,
//!     dropout: None,
//!     shift: None,
//!     warmup: None,
//!     seed: 0,
//! })
//! .unwrap();
//! assert_eq!(plan.spec.model.describe(), "mlp 4-16-16-3");
//! assert_eq!((plan.splits.train.input().shape()[0], plan.splits.test.input().shape()[0]), (120, 30));
//! ```

pub mod data;
mod model;
mod plan;
mod recipe;
mod run;

pub use data::{DataSpec, DatasetName, Splits};
pub use model::{ModelKind, ModelSpec};
pub use plan::{
    dropout_probability, positive_count, positive_learning_rate, Choices, Plan, EVAL_BATCH,
};
pub use recipe::{OptimizerKind, Recipe};
pub use run::RunSpec;

/// The value of `all` whose `name` is `text`, or an error listing the names there are.
fn parse_name<T: Copy>(
    what: &str,
    text: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|&v| name(v) == text)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|&v| name(v)).collect();
            format!(
                "unknown {what} `{text}`: expected one of {}",
                names.join(", ")
            )
        })
}
