//! `cargo xtask bench [--quick] [--threads 1,2,4] [--compare-pytorch] [--python PATH]
//! [--rounds N]`: runs the workspace's criterion benchmarks behind the headline figures at
//! each thread count the machine allows (`cargo bench` subprocesses with
//! `STRATA_BENCH_THREADS`), reads criterion's estimates, measures the machine's peak and each
//! training step's serial share, optionally runs the PyTorch script at the same thread counts
//! in the same sitting (in rounds of alternating order, see `rounds`), and writes
//! `target/bench-report.md` and `target/bench-report.json`.

mod criterion;
mod figures;
mod first_loss;
mod machine;
mod pytorch;
mod report;
mod rounds;
mod scaling;

use crate::workspace;
use clap::Args;
use figures::SUITES;
use machine::Machine;
use report::Report;
use std::path::PathBuf;
use std::process::Command;
use std::time::SystemTime;

/// Criterion options of `--quick`: a second of warm-up and two of measurement per benchmark
/// instead of criterion's 3 and 5, enough for a median within a few percent on a quiet
/// machine.
const QUICK_CRITERION_ARGS: [&str; 4] = ["--warm-up-time", "1", "--measurement-time", "2"];

/// Options of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Short warm-up and measurement times (a few minutes in all instead of about ten).
    #[arg(long)]
    quick: bool,
    /// Also run xtask/pytorch/compare.py (same models, data and initial weights) in the same
    /// sitting and add PyTorch's figures and the speed ratios.
    #[arg(long)]
    compare_pytorch: bool,
    /// Python with torch and numpy, for --compare-pytorch.
    #[arg(long, default_value = "python3")]
    python: PathBuf,
    /// Thread counts to measure, comma-separated; those above this machine's cores are
    /// skipped (the report says which ran).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Rounds of the whole measurement; with --compare-pytorch every other round runs
    /// PyTorch first. Each figure is the median over the rounds, and the report gives the
    /// Strata / PyTorch ratio's range across them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
}

/// Runs `bench`.
pub fn run(args: BenchArgs) -> Result<(), String> {
    if args.compare_pytorch {
        pytorch::check(&args.python)?;
    }
    let threads = runnable_threads(&args.threads)?;
    let machine = Machine::detect(&threads);
    let mut failed_suites = Vec::new();
    let mut strata_rounds = Vec::new();
    let mut pytorch_rounds = Vec::new();
    for round in 0..args.rounds as usize {
        if args.rounds > 1 {
            println!("== round {} of {}", round + 1, args.rounds);
        }
        if args.compare_pytorch && rounds::pytorch_first(round) {
            pytorch_rounds.push(run_pytorch(&args, &threads)?);
        }
        let started = SystemTime::now();
        for suite in &SUITES {
            println!(
                "== STRATA_BENCH_THREADS={} cargo bench -p {} --bench {} -- {}",
                list(&threads),
                suite.package,
                suite.bench,
                suite.filter
            );
            if let Err(err) = run_suite(suite, args.quick, &threads) {
                eprintln!("{err}");
                failed_suites.push(format!("{}/{}", suite.package, suite.bench));
            }
        }
        strata_rounds.push(criterion::read_results(
            &workspace::target_dir().join("criterion"),
            started,
        )?);
        if args.compare_pytorch && !rounds::pytorch_first(round) {
            pytorch_rounds.push(run_pytorch(&args, &threads)?);
        }
    }
    failed_suites.sort();
    failed_suites.dedup();
    let pytorch = rounds::median_pytorch(&pytorch_rounds);
    let scaling = match threads.iter().copied().find(|&t| t > 1) {
        Some(parallel) => {
            println!("== serial share of each training step at 1 and {parallel} threads");
            scaling::measure(parallel)
        }
        None => Vec::new(),
    };
    let results = rounds::median_measurements(&strata_rounds);
    let mut rows = Report::rows(&results, &machine, pytorch.as_ref(), &threads);
    if args.rounds > 1 {
        let per_round: Vec<_> = strata_rounds
            .iter()
            .zip(&pytorch_rounds)
            .map(|(strata, pytorch)| Report::rows(strata, &machine, Some(pytorch), &threads))
            .collect();
        rounds::attach_ratio_ranges(&mut rows, &per_round);
    }
    let report = Report {
        mode: if args.quick { "quick" } else { "full" },
        rounds: args.rounds as usize,
        commit: commit(),
        rows,
        threads_requested: args.threads.clone(),
        threads_run: threads,
        machine,
        load_at_end: machine::load_average(),
        first_losses: first_loss::first_losses(),
        scaling,
        pytorch,
        failed_suites,
    };
    let markdown = report.markdown();
    let target = workspace::target_dir();
    let write = |name: &str, text: String| {
        let path = target.join(name);
        std::fs::write(&path, text).map_err(|err| format!("writing {}: {err}", path.display()))?;
        Ok::<_, String>(path)
    };
    let json = serde_json::to_string_pretty(&report).map_err(|err| err.to_string())?;
    let md_path = write("bench-report.md", markdown.clone())?;
    let json_path = write("bench-report.json", json + "\n")?;
    println!(
        "\n{markdown}\nwrote {} and {}",
        md_path.display(),
        json_path.display()
    );
    let missing = report.missing();
    if report.failed_suites.is_empty() && missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "some benchmarks did not run: {}",
            report
                .failed_suites
                .iter()
                .map(String::as_str)
                .chain(missing)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// One run of the PyTorch script at `threads`, announced.
fn run_pytorch(args: &BenchArgs, threads: &[usize]) -> Result<pytorch::PytorchResults, String> {
    println!(
        "== {} {} --threads {}",
        args.python.display(),
        pytorch::script().display(),
        list(threads)
    );
    pytorch::run(&args.python, args.quick, threads)
}

/// The requested thread counts this machine can run (one thread per core at most), sorted,
/// without repeats; an error when none is left.
fn runnable_threads(requested: &[usize]) -> Result<Vec<usize>, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads: Vec<usize> = requested
        .iter()
        .copied()
        .filter(|&t| t >= 1 && t <= cores)
        .collect();
    threads.sort_unstable();
    threads.dedup();
    if threads.is_empty() {
        return Err(format!(
            "--threads {}: expected counts between 1 and this machine's {cores} cores",
            list(requested)
        ));
    }
    Ok(threads)
}

/// `1,2,4`.
fn list(counts: &[usize]) -> String {
    counts
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// `STRATA_BENCH_THREADS=… cargo bench -p PACKAGE --bench BENCH -- FILTER [quick options]`
/// from the workspace root.
fn run_suite(suite: &figures::Suite, quick: bool, threads: &[usize]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace::root())
        .env(strata_tensor::BENCH_THREADS_ENV, list(threads))
        .args(["bench", "-p", suite.package, "--bench", suite.bench, "--"])
        .arg(suite.filter);
    if quick {
        command.args(QUICK_CRITERION_ARGS);
    }
    let status = command
        .status()
        .map_err(|err| format!("starting cargo bench: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo bench -p {} --bench {} failed ({status})",
            suite.package, suite.bench
        ))
    }
}

/// The commit measured, `git describe --always --dirty`, or `unknown`.
fn commit() -> String {
    Command::new("git")
        .current_dir(workspace::root())
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
