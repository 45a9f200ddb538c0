//! `cargo xtask eval --checkpoint FILE`: rebuilds the network a `train-demo` checkpoint
//! describes, loads its weights and reports its accuracy on the same test split.

use crate::evaluation::confusion::ConfusionMatrix;
use crate::evaluation::percent;
use clap::Args;
use std::path::PathBuf;
use strata_modules::Checkpoint;
use strata_recipes::{data, RunSpec};

/// Options of `eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A checkpoint written by `cargo xtask train-demo` (e.g. target/train-demo/model.ckpt) or
    /// by `strata-mpi-train --checkpoint`.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Folder with the files of mnist, fashion-mnist or cifar10 [default: the folder
    /// `cargo xtask fetch NAME` downloads into].
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Runs `eval`. The metadata is checked against the weights, then against the data, before
/// the network is built, so an edited checkpoint is refused with the first disagreement.
pub fn run(args: EvalArgs) -> Result<(), String> {
    let in_file = |err: String| format!("{}: {err}", args.checkpoint.display());
    let checkpoint = Checkpoint::load(&args.checkpoint).map_err(|err| err.to_string())?;
    let mut spec = RunSpec::from_metadata(&checkpoint.metadata).map_err(in_file)?;
    spec.model
        .check_weights(&checkpoint.params)
        .map_err(in_file)?;
    if args.data_dir.is_some() {
        spec.data.data_dir = args.data_dir;
    }
    let splits = data::load(&spec.data, Some(spec.normalize.clone()))?;
    if splits.input_shape() != spec.model.input_shape.as_slice() {
        return Err(in_file(format!(
            "the network takes inputs of shape {:?}, the {} data has {:?}",
            spec.model.input_shape,
            spec.data.dataset.name(),
            splits.input_shape()
        )));
    }
    if splits.classes.len() != spec.model.classes {
        return Err(in_file(format!(
            "the network has {} outputs, the {} data has {} classes",
            spec.model.classes,
            spec.data.dataset.name(),
            splits.classes.len()
        )));
    }
    let mut model = spec.model.build(0)?;
    checkpoint
        .apply_to(&mut model)
        .map_err(|err| in_file(err.to_string()))?;
    let confusion = ConfusionMatrix::measure(&mut model, &splits.test, spec.model.classes);
    println!(
        "{}: {} on {} (seed {}), test accuracy: {} ({}/{})",
        args.checkpoint.display(),
        spec.model.describe(),
        spec.data.dataset.name(),
        spec.data.seed,
        percent(Some(confusion.accuracy())),
        confusion.correct(),
        confusion.total(),
    );
    println!("\n{}", confusion.render(&splits.classes));
    Ok(())
}
