//! `cargo xtask train-demo`: trains a network with a live progress bar, then reports the
//! test accuracy with a confusion matrix and writes the checkpoint, a metrics log, the
//! training curves and a picture of the first layer's patterns.

mod outputs;
mod progress;

use crate::evaluation::confusion::ConfusionMatrix;
use crate::evaluation::percent;
use crate::phase_times::PhaseTimes;
use crate::workspace;
use clap::Args;
use outputs::Outputs;
use progress::EpochSummary;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;
use strata_datasets::Dataset;
use strata_modules::{
    Checkpoint, Classification, Module, Params, ProgressBar, TrainConfig, Trainer,
};
use strata_recipes::{positive_count, Choices, Plan};
use strata_tensor::{num_threads, set_num_threads};

/// Options of `train-demo`; each one left out takes the default of the dataset and model.
#[derive(Args, Debug)]
pub struct TrainDemoArgs {
    /// What to train, and how (shared with `strata-mpi-train`).
    #[command(flatten)]
    recipe: Choices,
    /// Threads for tensor kernels [default: one per core].
    #[arg(long, value_parser = positive_count)]
    threads: Option<usize>,
    /// Folder for the checkpoint, metrics, curves and patterns [default: target/train-demo
    /// in the workspace].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print where the training time went: data loading, forward, backward, optimizer,
    /// validation (from the trainer's tracing spans).
    #[arg(long)]
    pub trace: bool,
}

/// Runs `train-demo`; with `phase_times` (`--trace`), prints where the training time went.
pub fn run(args: TrainDemoArgs, phase_times: Option<&PhaseTimes>) -> Result<(), String> {
    if let Some(threads) = args.threads {
        set_num_threads(threads);
    }
    let plan = Plan::new(&args.recipe)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| workspace::root().join("target").join("train-demo"));
    let (spec, splits) = (&plan.spec, &plan.splits);
    let mut model = plan.build_model()?;
    let mut optimizer = plan.build_optimizer();
    let (epochs, batch_size, lr) = (plan.epochs, plan.batch_size, plan.learning_rate);
    let threads = num_threads();
    let warmup = match plan.warmup {
        0 => String::new(),
        1 => "1 warm-up epoch and ".into(),
        n => format!("{n} warm-up epochs and "),
    };
    let shift = match plan.shift {
        0 => String::new(),
        1 => ", training images shifted at random by up to 1 pixel".into(),
        n => format!(", training images shifted at random by up to {n} pixels"),
    };
    println!(
        "train-demo: {} ({} train / {} test examples, {} classes), {} ({} parameters), {} lr {lr} \
         with {warmup}cosine decay, {epochs} epochs of batch {batch_size}{shift}, {threads} thread{}",
        plan.spec.data.dataset.name(),
        splits.train.len(),
        splits.test.len(),
        splits.classes.len(),
        spec.model.describe(),
        model.num_parameters(),
        plan.optimizer.name(),
        if threads == 1 { "" } else { "s" },
    );

    let mut trainer = Trainer::new(TrainConfig {
        epochs,
        schedule: Some(plan.schedule()),
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
            &plan.train_loader(batch_size),
            &plan.test_loader(),
        )
        .map_err(|err| err.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(phase_times) = phase_times {
        println!(
            "\ntime per phase of training (tracing spans):\n{}",
            phase_times.summary()
        );
    }

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
            spec,
            optimizer: plan.optimizer.name(),
            learning_rate: lr,
            warmup: plan.warmup,
            shift: plan.shift,
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
