//! `cargo xtask bench [--quick] [--compare-pytorch] [--python PATH]`: runs the workspace's
//! criterion benchmarks behind the headline figures (`cargo bench` subprocesses), reads
//! criterion's estimates, optionally runs the PyTorch script in the same sitting, and writes
//! `target/bench-report.md` and `target/bench-report.json`.

mod criterion;
mod figures;
mod first_loss;
mod machine;
mod pytorch;
mod report;

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
}

/// Runs `bench`.
pub fn run(args: BenchArgs) -> Result<(), String> {
    if args.compare_pytorch {
        pytorch::check(&args.python)?;
    }
    let machine = Machine::detect();
    let started = SystemTime::now();
    let mut failed_suites = Vec::new();
    for suite in &SUITES {
        println!(
            "== cargo bench -p {} --bench {} -- {}",
            suite.package, suite.bench, suite.filter
        );
        if let Err(err) = run_suite(suite, args.quick) {
            eprintln!("{err}");
            failed_suites.push(format!("{}/{}", suite.package, suite.bench));
        }
    }
    let pytorch = if args.compare_pytorch {
        println!(
            "== {} {}",
            args.python.display(),
            pytorch::script().display()
        );
        Some(pytorch::run(&args.python, args.quick)?)
    } else {
        None
    };
    let results = criterion::read_results(&workspace::target_dir().join("criterion"), started)?;
    let report = Report {
        mode: if args.quick { "quick" } else { "full" },
        commit: commit(),
        peak_gflops_per_core: machine.peak_gflops(1),
        rows: Report::rows(&results, &machine, pytorch.as_ref()),
        machine,
        load_at_end: machine::load_average(),
        first_losses: first_loss::first_losses(),
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

/// `cargo bench -p PACKAGE --bench BENCH -- FILTER [quick options]` from the workspace root.
fn run_suite(suite: &figures::Suite, quick: bool) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace::root())
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
