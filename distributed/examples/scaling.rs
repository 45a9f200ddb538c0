//! The scaling benchmark of the crate README, in one command: the MNIST MLP (784-512-256-10,
//! Adam, global batch 128) trained by `strata-mpi-train` as 1 process × 1 thread, 1 × 2
//! threads, 2 ranks × 1 thread without and with overlap, then 2 ranks on two simulated hosts
//! joined by a link throttled to a cluster's rate, without and with overlap. Every
//! configuration runs `--rounds` times (interleaved, so a change of load hits them all);
//! the best and the median are printed as markdown tables, with the load average before
//! and after.
//!
//! ```text
//! distributed/bench/scaling.sh [--rounds 3] [--epochs 3] [--data-dir DIR] [--link-rate 1gbit] [--no-link]
//! ```
//!
//! Needs the `mpi` feature, `mpirun`, the MNIST files, and for the throttled link root,
//! iproute2 (`ip`, `tc`) and util-linux (`unshare`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[allow(dead_code)] // The multi-rank tests use the rest.
#[path = "../tests/mpi_ranks/netns.rs"]
mod netns;

use netns::TwoHosts;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// What one run of the runner reported on its `final:` line (means over epochs 2 and on).
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    samples_per_second: f64,
    step_ms: f64,
    compute_ms: f64,
    waiting_ms: f64,
    all_reduce_ms: f64,
    hidden_percent: f64,
}

impl Run {
    /// Reads the runner's `final:` line.
    fn parse(output: &str) -> Option<Run> {
        let line = output.lines().find(|l| l.starts_with("final:"))?;
        let number_before = |unit: &str| -> Option<f64> {
            let head = &line[..line.find(unit)?];
            head.split_whitespace().last()?.parse().ok()
        };
        let number_after = |label: &str| -> Option<f64> {
            let tail = &line[line.find(label)? + label.len()..];
            tail.split_whitespace().next()?.parse().ok()
        };
        Some(Run {
            samples_per_second: number_before(" samples/s")?,
            step_ms: number_after("per step: ")?,
            compute_ms: number_after("compute ")?,
            waiting_ms: number_after("waiting ")?,
            all_reduce_ms: number_after("allreduce ")?,
            hidden_percent: number_before("% hidden")?,
        })
    }
}

/// A configuration: a name, the number of ranks, the runner's extra options, and whether it
/// runs on the two throttled hosts.
struct Config {
    name: &'static str,
    ranks: usize,
    options: &'static [&'static str],
    throttled: bool,
    runs: Vec<Run>,
}

struct Settings {
    rounds: usize,
    epochs: usize,
    data_dir: PathBuf,
    link_rate: String,
    link: bool,
}

fn settings() -> Result<Settings, String> {
    let mut settings = Settings {
        rounds: 3,
        epochs: 3,
        data_dir: PathBuf::from("/work/shared/data/mnist"),
        link_rate: "1gbit".to_string(),
        link: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--rounds" => settings.rounds = value()?.parse().map_err(|e| format!("{e}"))?,
            "--epochs" => settings.epochs = value()?.parse().map_err(|e| format!("{e}"))?,
            "--data-dir" => settings.data_dir = PathBuf::from(value()?),
            "--link-rate" => settings.link_rate = value()?,
            "--no-link" => settings.link = false,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(settings)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("scaling: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let settings = settings()?;
    let runner = runner_path()?;
    let mut configs = vec![
        config("1 process × 1 thread", 1, &["--threads", "1"], false),
        config("1 process × 2 threads", 1, &["--threads", "2"], false),
        config(
            "2 ranks × 1 thread, no overlap",
            2,
            &["--threads", "1", "--no-overlap"],
            false,
        ),
        config("2 ranks × 1 thread, overlap", 2, &["--threads", "1"], false),
    ];
    let scratch = std::env::temp_dir().join(format!("strata-scaling-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let hosts = if settings.link {
        TwoHosts::available()?;
        let hosts = TwoHosts::create(&scratch)?;
        hosts.throttle(&settings.link_rate)?;
        configs.push(config(
            "2 hosts, no overlap",
            2,
            &["--threads", "1", "--no-overlap"],
            true,
        ));
        configs.push(config("2 hosts, overlap", 2, &["--threads", "1"], true));
        Some(hosts)
    } else {
        None
    };
    let load_before = load_average();
    for round in 1..=settings.rounds {
        for config in &mut configs {
            eprintln!("round {round}/{}: {}", settings.rounds, config.name);
            let mut args = vec![runner.display().to_string()];
            args.extend(common_options(&settings));
            args.extend(config.options.iter().map(|o| o.to_string()));
            let mut command = match (&hosts, config.throttled) {
                (Some(hosts), true) => hosts.mpirun(config.ranks, &args),
                _ => local_mpirun(config.ranks, &args),
            };
            let output = command
                .output()
                .map_err(|e| format!("cannot start mpirun: {e}"))?;
            let text = String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr);
            let run = Run::parse(&text)
                .filter(|_| output.status.success())
                .ok_or_else(|| format!("{} failed ({}):\n{text}", config.name, output.status))?;
            eprintln!("  {run:?}");
            config.runs.push(run);
        }
    }
    let load_after = load_average();
    drop(hosts);
    let _ = std::fs::remove_dir_all(&scratch);
    print_tables(&settings, &configs, &load_before, &load_after);
    Ok(())
}

fn config(
    name: &'static str,
    ranks: usize,
    options: &'static [&'static str],
    throttled: bool,
) -> Config {
    Config {
        name,
        ranks,
        options,
        throttled,
        runs: Vec::new(),
    }
}

/// The MNIST MLP of the README, without the recipe's regularisation (dropout, shifts,
/// warm-up), which would only add work outside the step being measured.
fn common_options(settings: &Settings) -> Vec<String> {
    let data_dir = settings.data_dir.display().to_string();
    let epochs = settings.epochs.to_string();
    [
        "--dataset",
        "mnist",
        "--data-dir",
        &data_dir,
        "--widths",
        "512,256",
        "--epochs",
        &epochs,
        "--lr",
        "1e-3",
        "--batch-size",
        "128",
        "--dropout",
        "0",
        "--shift",
        "0",
        "--warmup",
        "0",
    ]
    .map(String::from)
    .to_vec()
}

/// `strata-mpi-train`, built next to this example (`target/<profile>/`).
fn runner_path() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = me
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target folder")?;
    let runner = dir.join("strata-mpi-train");
    if runner.exists() {
        Ok(runner)
    } else {
        Err(format!(
            "{} not found: build it with the example (distributed/bench/scaling.sh does)",
            runner.display()
        ))
    }
}

/// `mpirun` on this machine, as root if need be, ranks unbound (they pick their cores).
fn local_mpirun(ranks: usize, program: &[String]) -> Command {
    let mut command = Command::new("mpirun");
    command
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .args(["-np", &ranks.to_string(), "--bind-to", "none"])
        .args(program);
    command
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The median over the runs of one figure.
fn median_of(config: &Config, figure: fn(&Run) -> f64) -> f64 {
    median(&mut config.runs.iter().map(figure).collect::<Vec<_>>())
}

fn print_tables(settings: &Settings, configs: &[Config], before: &str, after: &str) {
    println!(
        "MNIST MLP 784-512-256-10, Adam, global batch 128, {} epochs (figures: epochs 2-{}), \
         {} rounds; \"2 hosts\": two network namespaces joined by a veth pair limited to {} \
         (tc tbf); load average (1, 5, 15 min) before: {before}, after: {after}\n",
        settings.epochs, settings.epochs, settings.rounds, settings.link_rate
    );
    let base = configs
        .first()
        .map_or(f64::NAN, |c| median_of(c, |r| r.samples_per_second));
    println!(
        "| run | samples/s, best | median | × 1 × 1 (median) | step ms | compute ms | \
         waiting ms | allreduce ms | hidden |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for config in configs {
        let best = config
            .runs
            .iter()
            .map(|r| r.samples_per_second)
            .fold(0.0, f64::max);
        let rate = median_of(config, |r| r.samples_per_second);
        println!(
            "| {} | {best:.0} | {rate:.0} | {:.2} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0}% |",
            config.name,
            rate / base,
            median_of(config, |r| r.step_ms),
            median_of(config, |r| r.compute_ms),
            median_of(config, |r| r.waiting_ms),
            median_of(config, |r| r.all_reduce_ms),
            median_of(config, |r| r.hidden_percent),
        );
    }
    let pair = |no_overlap: &str, overlap: &str| {
        let find = |name: &str| configs.iter().find(|c| c.name == name);
        let (Some(off), Some(on)) = (find(no_overlap), find(overlap)) else {
            return;
        };
        let exposed_off = median_of(off, |r| r.waiting_ms);
        let exposed_on = median_of(on, |r| r.waiting_ms);
        println!(
            "- {}: exposed communication (waiting) per step {exposed_off:.3} ms without \
             overlap, {exposed_on:.3} ms with: overlap removes {:.0}% of it; step {:.3} → \
             {:.3} ms",
            if off.throttled {
                format!("link throttled to {}", settings.link_rate)
            } else {
                "shared memory".to_string()
            },
            100.0 * (1.0 - exposed_on / exposed_off),
            median_of(off, |r| r.step_ms),
            median_of(on, |r| r.step_ms),
        );
    };
    println!();
    pair(
        "2 ranks × 1 thread, no overlap",
        "2 ranks × 1 thread, overlap",
    );
    pair("2 hosts, no overlap", "2 hosts, overlap");
}
