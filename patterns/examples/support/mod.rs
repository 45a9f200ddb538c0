//! The training recipes behind the examples, shared with the tests so that a test trains
//! exactly what its example shows: the data each pattern sees, its model, its training
//! settings (every recipe trains through `Trainer::fit`) and its headline metric. Each
//! example uses one recipe; the tests use all of them.

pub mod autoencoder;
pub mod bottom_up;
pub mod char_lm;
pub mod char_transformer;
pub mod data;
pub mod deep_spirals;
pub mod distillation;
pub mod film;
pub mod gan_digits;
pub mod gan_mixture;
pub mod gating;
pub mod max_of_set;
pub mod multimodal;
pub mod multitask;
pub mod pairs;
pub mod relation;
pub mod seq2seq;
pub mod siamese;
pub mod sine;
pub mod svg;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use strata_datasets::DataLoader;
use strata_modules::{
    BatchSource, CosineAnnealingLr, EpochMetrics, Optimizer, ProgressBar, TrainConfig, TrainStep,
    Trainer,
};

/// Where the example `name` writes its files: the folder given as its first argument, or
/// `target/examples/<name>/` in the workspace; created if missing.
pub fn output_dir(name: &str) -> std::io::Result<PathBuf> {
    let dir = match std::env::args().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/examples")).join(name)
        }
    };
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Seed of the data split shared by every digits recipe (20% held out).
pub const SPLIT_SEED: u64 = 0;

/// How a recipe reports while it trains: the examples show the library's progress bar; the
/// tests train quietly (their output is captured, and the bars of tests running in parallel
/// would overwrite each other).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A terminal progress bar per epoch (drawn only when stderr is a terminal).
    Bar,
    /// Nothing.
    Quiet,
}

impl Progress {
    /// A trainer with `config` that reports this way.
    pub fn trainer(self, config: TrainConfig) -> Trainer {
        let trainer = Trainer::new(config);
        match self {
            Self::Bar => trainer.with_callback(ProgressBar::new()),
            Self::Quiet => trainer,
        }
    }
}

/// Training settings for `epochs` epochs at the optimizer's own learning rate.
pub fn epochs(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        ..Default::default()
    }
}

/// Training settings for as many epochs as fit in `time` (the last one cut short), at the
/// optimizer's own learning rate.
pub fn for_time(time: Duration) -> TrainConfig {
    TrainConfig {
        epochs: usize::MAX,
        time_limit: Some(time),
        ..Default::default()
    }
}

/// Training settings for `epochs` epochs with the learning rate annealed from the optimizer's
/// to zero along a cosine: the last epochs take ever smaller steps, so the result does not
/// depend on where the last few updates happened to land.
pub fn annealed(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        schedule: Some(Arc::new(CosineAnnealingLr {
            period: epochs,
            min_lr: 0.0,
        })),
        ..Default::default()
    }
}

/// Trains `model` with `optimizer` under `config` on `train`'s batches, validating on
/// `validation` after each epoch (`()` for none), reporting as `progress` says; returns the
/// metrics of every epoch. Panics on a training error: the recipes' data is in memory and
/// their settings do not diverge, so an error is a bug.
pub fn fit<M: TrainStep>(
    model: &mut M,
    optimizer: &mut dyn Optimizer,
    config: TrainConfig,
    train: &DataLoader,
    validation: impl BatchSource,
    progress: Progress,
) -> Vec<EpochMetrics> {
    let mut trainer = progress.trainer(config);
    match trainer.fit(model, optimizer, train, validation) {
        Ok(history) => history.to_vec(),
        Err(err) => panic!("training a recipe failed: {err}"),
    }
}
