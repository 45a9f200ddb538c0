//! `cargo xtask train-demo`: trains a network with a live progress bar, then reports the
//! test accuracy with a confusion matrix and writes the checkpoint, a metrics log, the
//! training curves and a picture of the first layer's patterns.

mod outputs;
mod progress;
mod recipe;

use crate::demo::confusion::{ConfusionMatrix, EVAL_BATCH};
use crate::demo::data::{self, DataSpec, DatasetName};
use crate::demo::model::{ModelKind, ModelSpec};
use crate::demo::{percent, DemoSpec};
use crate::workspace;
use clap::Args;
use outputs::Outputs;
use progress::EpochSummary;
use recipe::{OptimizerKind, Recipe};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use strata_datasets::{DataLoader, Dataset};
use strata_modules::{
    Checkpoint, Classification, CosineAnnealingLr, Module, Params, ProgressBar, TrainConfig,
    Trainer,
};
use strata_tensor::{num_threads, set_num_threads, splitmix64};

/// The learning rate decays along a cosine from its initial value to this fraction of it at
/// the last epoch: the late, small steps settle the weights and add a few tenths of a
/// percent of test accuracy on MNIST.
const FINAL_LR_FRACTION: f32 = 0.01;
/// Batches the loader prepares ahead on its worker thread while a step runs.
const PREFETCH_DEPTH: usize = 2;
/// Stream tags mixed into the seed for the initial weights and the shuffling.
const INIT_STREAM: u64 = 3;
const SHUFFLE_STREAM: u64 = 4;

/// Options of `train-demo`; each one left out takes the default of the dataset and model.
#[derive(Args, Debug)]
pub struct TrainDemoArgs {
    /// Dataset to train on (mnist, fashion-mnist and cifar10 are read from --data-dir).
    #[arg(long, value_enum, default_value_t = DatasetName::Digits)]
    dataset: DatasetName,
    /// Folder with the files of mnist, fashion-mnist or cifar10 [default: the folder
    /// `cargo xtask fetch NAME` downloads into].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Network to train.
    #[arg(long, value_enum, default_value_t = ModelKind::Mlp)]
    model: ModelKind,
    /// Epochs [default: per dataset, e.g. 30 for digits, 15 for mnist].
    #[arg(long, value_parser = positive_count)]
    epochs: Option<usize>,
    /// Examples per batch [default: per dataset, e.g. 32 for digits, 128 for mnist].
    #[arg(long, value_parser = positive_count)]
    batch_size: Option<usize>,
    /// Initial learning rate, decayed along a cosine [default: per dataset and optimizer].
    #[arg(long, value_parser = positive_learning_rate)]
    lr: Option<f32>,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Adam)]
    optimizer: OptimizerKind,
    /// Seed of the data split, initial weights and shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads for tensor kernels [default: one per core].
    #[arg(long, value_parser = positive_count)]
    threads: Option<usize>,
    /// Folder for the checkpoint, metrics, curves and patterns [default: target/train-demo
    /// in the workspace].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Parses a count that must be at least 1 (epochs, batch size, threads): clap reports the
/// message and exits with code 2.
fn positive_count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(count) => Ok(count),
        Err(err) => Err(format!("not a whole number ({err})")),
    }
}

/// Parses a learning rate, which must be a finite number above 0 (a negative one climbs the
/// loss).
fn positive_learning_rate(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(lr) if lr.is_finite() && lr > 0.0 => Ok(lr),
        Ok(lr) => Err(format!("must be a finite number above 0, found {lr}")),
        Err(err) => Err(format!("not a number ({err})")),
    }
}

/// Runs `train-demo`.
pub fn run(args: TrainDemoArgs) -> Result<(), String> {
    if let Some(threads) = args.threads {
        set_num_threads(threads);
    }
    let recipe = Recipe::for_run(args.dataset, args.model);
    let epochs = args.epochs.unwrap_or(recipe.epochs);
    let batch_size = args.batch_size.unwrap_or(recipe.batch_size).max(1);
    let lr = args.lr.unwrap_or(recipe.learning_rate(args.optimizer));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| workspace::root().join("target").join("train-demo"));

    let data_spec = DataSpec {
        dataset: args.dataset,
        data_dir: args.data_dir.clone(),
        seed: args.seed,
    };
    let splits = data::load(&data_spec, None)?;
    let (kernel, padding) = match args.model {
        ModelKind::Mlp => (0, 0),
        ModelKind::Cnn => ModelSpec::conv_geometry(splits.input_shape()),
    };
    let spec = DemoSpec {
        data: data_spec,
        model: ModelSpec {
            kind: args.model,
            input_shape: splits.input_shape().to_vec(),
            classes: splits.classes.len(),
            widths: recipe.widths.clone(),
            kernel,
            padding,
        },
        normalize: splits.normalize.clone(),
    };
    let mut model = spec.model.build(stream_seed(args.seed, INIT_STREAM))?;
    let mut optimizer = args.optimizer.build(lr);
    let threads = num_threads();
    println!(
        "train-demo: {} ({} train / {} test examples, {} classes), {} ({} parameters), {} lr {lr} \
         with cosine decay, {epochs} epochs of batch {batch_size}, {threads} thread{}",
        args.dataset.name(),
        splits.train.len(),
        splits.test.len(),
        splits.classes.len(),
        spec.model.describe(),
        model.num_parameters(),
        args.optimizer.name(),
        if threads == 1 { "" } else { "s" },
    );

    let loader = DataLoader::new(splits.train.clone(), batch_size)
        .shuffle(stream_seed(args.seed, SHUFFLE_STREAM))
        .prefetch(PREFETCH_DEPTH);
    let test_loader = DataLoader::new(splits.test.clone(), EVAL_BATCH);
    let mut trainer = Trainer::new(TrainConfig {
        epochs,
        schedule: Some(Arc::new(CosineAnnealingLr {
            period: epochs.saturating_sub(1).max(1),
            min_lr: lr * FINAL_LR_FRACTION,
        })),
        ..TrainConfig::default()
    })
    .with_callback(ProgressBar::new());
    if !std::io::stderr().is_terminal() {
        trainer = trainer.with_callback(EpochSummary);
    }
    let started = Instant::now();
    trainer
        .fit(
            &mut model.with_objective(Classification::default()),
            optimizer.as_mut(),
            &loader,
            &test_loader,
        )
        .map_err(|err| err.to_string())?;
    let seconds = started.elapsed().as_secs_f64();

    let confusion = ConfusionMatrix::measure(&mut model, &splits.test, splits.classes.len());
    println!(
        "\ntest accuracy: {} ({}/{}) after {epochs} epochs in {seconds:.1} s",
        percent(Some(confusion.accuracy())),
        confusion.correct(),
        confusion.total(),
    );
    println!("\n{}", confusion.render(&splits.classes));

    let mut checkpoint = Checkpoint::of_model(&model).with_optimizer(optimizer.as_ref());
    checkpoint.training = Some(trainer.state().clone());
    checkpoint.metadata = spec.to_metadata();
    let outputs = Outputs::write(
        &out,
        &outputs::Run {
            spec: &spec,
            optimizer: args.optimizer.name(),
            learning_rate: lr,
            batch_size,
            threads,
            seconds,
            history: &trainer.state().history,
            confusion: &confusion,
            classes: &splits.classes,
        },
        &checkpoint,
        &model,
    )?;
    println!("{outputs}");
    Ok(())
}

/// An independent seed for one use (initialisation, shuffling) of the demo seed.
fn stream_seed(seed: u64, stream: u64) -> u64 {
    splitmix64(seed, stream)
}
