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
mod phase_times;
mod plot;
mod train_demo;
mod weight_pictures;
mod workspace;

use clap::{Parser, Subcommand};
use phase_times::PhaseTimes;
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

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
    let cli = Cli::parse();
    // `train-demo --trace` adds up the trainer's spans into a per-phase summary.
    let phase_times =
        matches!(&cli.command, Command::TrainDemo(args) if args.trace).then(PhaseTimes::default);
    // Logs only when asked for: `RUST_LOG=info cargo xtask train-demo` (colours on a terminal).
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(EnvFilter::from_default_env());
    tracing_subscriber::registry()
        .with(logs)
        .with(
            phase_times
                .clone()
                .map(|t| t.with_filter(LevelFilter::INFO)),
        )
        .init();
    let result = match cli.command {
        Command::TrainDemo(args) => train_demo::run(args, phase_times.as_ref()),
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
