//! A run planned from a user's choices: the data loaded and standardised, the network
//! described, every setting left out filled from the [`Recipe`], and the seeds of its
//! independent random streams.

use crate::data::{self, DataSpec, DatasetName, Splits};
use crate::model::{ModelKind, ModelSpec};
use crate::recipe::{OptimizerKind, Recipe};
use crate::run::RunSpec;
use std::path::PathBuf;
use std::sync::Arc;
use strata_datasets::{DataLoader, RandomShift};
use strata_modules::{CosineAnnealingLr, LinearWarmup, LrSchedule, Optimizer, Sequential};
use strata_tensor::splitmix64;

/// The learning rate decays along a cosine from its initial value to this fraction of it at
/// the last epoch: the late, small steps settle the weights and add a few tenths of a
/// percent of test accuracy on MNIST.
const FINAL_LR_FRACTION: f32 = 0.01;
/// Batches a training loader prepares ahead on its worker thread while a step runs.
const PREFETCH_DEPTH: usize = 2;
/// Test examples per evaluation batch: large enough to keep the matrix products efficient,
/// small enough to keep the activations of a CNN on 10,000 images within a few hundred MB.
pub const EVAL_BATCH: usize = 1000;
/// Stream tags mixed into the run's seed for the initial weights, the shuffling and the
/// augmentation (the data split and generation use their own, in [`crate::data`]).
const INIT_STREAM: u64 = 3;
const SHUFFLE_STREAM: u64 = 4;
const AUGMENT_STREAM: u64 = 5;

/// What a user chose; every `None` takes the recipe's default for the dataset and network.
/// With the `clap` feature it is also the command-line options every recipe runner shares
/// (`#[command(flatten)]`).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Choices {
    /// Dataset (mnist, fashion-mnist and cifar10 are read from --data-dir).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = DatasetName::Digits))]
    pub dataset: DatasetName,
    /// Folder with the files of mnist, fashion-mnist or cifar10 [default: the folder
    /// `cargo xtask fetch NAME` downloads into].
    #[cfg_attr(feature = "clap", arg(long))]
    pub data_dir: Option<PathBuf>,
    /// Network to train.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = ModelKind::Mlp))]
    pub model: ModelKind,
    /// Optimizer.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = OptimizerKind::Adam))]
    pub optimizer: OptimizerKind,
    /// Epochs [default: per dataset and network, e.g. 30 for the digits, 15 for MNIST].
    #[cfg_attr(feature = "clap", arg(long, value_parser = positive_count))]
    pub epochs: Option<usize>,
    /// Examples per step, over all ranks in data-parallel training [default: per dataset,
    /// e.g. 32 for the digits, 128 for MNIST].
    #[cfg_attr(feature = "clap", arg(long, value_parser = positive_count))]
    pub batch_size: Option<usize>,
    /// Initial learning rate, decayed along a cosine [default: per dataset and optimizer].
    #[cfg_attr(
        feature = "clap",
        arg(long = "lr", value_name = "LR", value_parser = positive_learning_rate)
    )]
    pub learning_rate: Option<f32>,
    /// Widths of the hidden layers (MLP), or the channels of the two convolutions and the
    /// width of the dense layer (CNN), comma-separated [default: per dataset and network].
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',', value_parser = positive_count))]
    pub widths: Option<Vec<usize>>,
    /// Batch normalisation in the hidden layers, true or false [default: per dataset and
    /// network, e.g. true for the CNN on MNIST].
    #[cfg_attr(feature = "clap", arg(long, value_name = "BOOL"))]
    pub batch_norm: Option<bool>,
    /// Dropout probability after each hidden dense layer, in [0, 1) [default: per dataset
    /// and network, e.g. 0.25 for the CNN on MNIST].
    #[cfg_attr(feature = "clap", arg(long, value_name = "P", value_parser = dropout_probability))]
    pub dropout: Option<f32>,
    /// Largest random shift of the training images in pixels, 0 for none [default: per
    /// dataset, e.g. 1 for MNIST].
    #[cfg_attr(feature = "clap", arg(long, value_name = "PIXELS"))]
    pub shift: Option<usize>,
    /// Epochs of linear warm-up before the cosine decay [default: per dataset, e.g. 1
    /// for MNIST].
    #[cfg_attr(feature = "clap", arg(long, value_name = "EPOCHS"))]
    pub warmup: Option<usize>,
    /// Seed of the data split, the initial weights, the shuffling and the augmentation.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    pub seed: u64,
}

/// A run ready to start: its description (what checkpoints store), its data and settings.
pub struct Plan {
    /// The data and network, as stored in checkpoints.
    pub spec: RunSpec,
    /// The standardised training and test examples, and the class names.
    pub splits: Splits,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// Epochs.
    pub epochs: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// Initial learning rate.
    pub learning_rate: f32,
    /// Largest random shift of the training images, in pixels (0: no augmentation).
    pub shift: usize,
    /// Epochs of linear warm-up before the cosine decay.
    pub warmup: usize,
}

impl Plan {
    /// Loads the data and fills in the settings left out; an error when the data cannot be
    /// read, or when shifts are asked of data that are not images.
    pub fn new(choices: &Choices) -> Result<Self, String> {
        let recipe = Recipe::for_run(choices.dataset, choices.model);
        let data = DataSpec {
            dataset: choices.dataset,
            data_dir: choices.data_dir.clone(),
            seed: choices.seed,
        };
        let splits = data::load(&data, None)?;
        let shift = choices.shift.unwrap_or(recipe.shift);
        if shift > 0 && splits.input_shape().len() != 3 {
            return Err(format!(
                "random shifts move images [channels, height, width]; {} has inputs of shape \
                 {:?} (use --shift 0)",
                choices.dataset.name(),
                splits.input_shape()
            ));
        }
        let (kernel, padding) = match choices.model {
            ModelKind::Mlp => (0, 0),
            ModelKind::Cnn => ModelSpec::conv_geometry(splits.input_shape()),
        };
        let model = ModelSpec {
            kind: choices.model,
            input_shape: splits.input_shape().to_vec(),
            classes: splits.classes.len(),
            widths: choices.widths.clone().unwrap_or(recipe.widths.clone()),
            kernel,
            padding,
            batch_norm: choices.batch_norm.unwrap_or(recipe.batch_norm),
            dropout: choices.dropout.unwrap_or(recipe.dropout),
        };
        Ok(Self {
            spec: RunSpec {
                data,
                model,
                normalize: splits.normalize.clone(),
            },
            splits,
            optimizer: choices.optimizer,
            epochs: choices.epochs.unwrap_or(recipe.epochs),
            batch_size: choices.batch_size.unwrap_or(recipe.batch_size),
            learning_rate: choices
                .learning_rate
                .unwrap_or(recipe.learning_rate(choices.optimizer)),
            shift,
            warmup: choices.warmup.unwrap_or(recipe.warmup),
        })
    }

    /// The network with its initial weights (from the run's seed); an error when the network
    /// does not fit the data (e.g. a CNN on vectors).
    pub fn build_model(&self) -> Result<Sequential, String> {
        self.spec.model.build(self.stream(INIT_STREAM))
    }

    /// The optimizer at the initial learning rate.
    pub fn build_optimizer(&self) -> Box<dyn Optimizer> {
        self.optimizer.build(self.learning_rate)
    }

    /// The learning rate per epoch: the warm-up epochs rising linearly below the initial
    /// rate, then a cosine from the initial rate down to 1% of it at the
    /// last epoch.
    pub fn schedule(&self) -> Arc<dyn LrSchedule> {
        let cosine = CosineAnnealingLr {
            period: self.epochs.saturating_sub(self.warmup + 1).max(1),
            min_lr: self.learning_rate * FINAL_LR_FRACTION,
        };
        Arc::new(LinearWarmup {
            warmup: self.warmup,
            after: cosine,
        })
    }

    /// The training examples in batches of `batch_size`, shuffled by the run's seed and each
    /// epoch's number, shifted at random (when the plan has shifts) by a stream of the run's
    /// seed, each epoch's number and each example's index, and prepared ahead on a worker
    /// thread. With batch normalisation, the last batch of an epoch is left out when smaller
    /// than the others (other examples each epoch), as a batch of one has no variance to
    /// normalise with.
    pub fn train_loader(&self, batch_size: usize) -> DataLoader {
        let loader = DataLoader::new(self.splits.train.clone(), batch_size)
            .shuffle(self.stream(SHUFFLE_STREAM))
            .drop_last(self.spec.model.batch_norm)
            .prefetch(PREFETCH_DEPTH);
        if self.shift == 0 {
            return loader;
        }
        let shift = RandomShift {
            max_shift: self.shift,
        };
        loader.transform(shift, self.stream(AUGMENT_STREAM))
    }

    /// The test examples in batches of [`EVAL_BATCH`].
    pub fn test_loader(&self) -> DataLoader {
        DataLoader::new(self.splits.test.clone(), EVAL_BATCH)
    }

    /// An independent seed for one use (initialisation, shuffling) of the run's seed.
    fn stream(&self, stream: u64) -> u64 {
        splitmix64(self.spec.data.seed, stream)
    }
}

/// Parses a count that must be at least 1 (epochs, batch size, threads), for command-line
/// parsers.
pub fn positive_count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(count) => Ok(count),
        Err(err) => Err(format!("not a whole number ({err})")),
    }
}

/// Parses a dropout probability, which must be in `[0, 1)` (1 would drop everything), for
/// command-line parsers.
pub fn dropout_probability(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(p) if (0.0..1.0).contains(&p) => Ok(p),
        Ok(p) => Err(format!("must be at least 0 and below 1, found {p}")),
        Err(err) => Err(format!("not a number ({err})")),
    }
}

/// Parses a learning rate, which must be a finite number above 0 (a negative one climbs the
/// loss), for command-line parsers.
pub fn positive_learning_rate(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(lr) if lr.is_finite() && lr > 0.0 => Ok(lr),
        Ok(lr) => Err(format!("must be a finite number above 0, found {lr}")),
        Err(err) => Err(format!("not a number ({err})")),
    }
}
