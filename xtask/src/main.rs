//! `cargo xtask`: Strata's developer front door (the `cargo xtask` convention: an alias in
//! `.cargo/config.toml` runs this binary).
//!
//! - `train-demo`: trains a network on a dataset with a progress bar, reports the test
//!   accuracy and writes a checkpoint, metrics, curves and the first layer's patterns;
//! - `eval`: reloads such a checkpoint and reports its test accuracy;
//! - `fetch`: downloads a dataset (checksum-verified);
//! - `bench`: runs the criterion benchmarks and writes a report.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod eval;
mod evaluation;
mod fetch;
mod plot;
mod train_demo;
mod weight_pictures;
mod workspace;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// Strata's developer tasks.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a network (8x8 digits by default, offline), show progress, report test accuracy
    /// and write checkpoint, metrics, curves and first-layer patterns.
    TrainDemo(train_demo::TrainDemoArgs),
    /// Reload a train-demo checkpoint and report its accuracy on the test split.
    Eval(eval::EvalArgs),
    /// Download a dataset (MNIST, Fashion-MNIST, CIFAR-10) into the cache, checksum-verified.
    Fetch(fetch::FetchArgs),
    /// Run the criterion benchmarks behind the headline figures and write
    /// target/bench-report.md and .json (optionally beside PyTorch in the same sitting).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    // Logs only when asked for: `RUST_LOG=info cargo xtask train-demo`.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::TrainDemo(args) => train_demo::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Fetch(args) => fetch::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
