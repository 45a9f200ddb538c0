//! The launcher side: starts `mpirun` jobs of this program (and of the training runner)
//! under a timeout, and checks their exit status, output and files.

use crate::netns::TwoHosts;
use crate::worker::{
    DATA_ERROR_EXIT_CODE, EQUIVALENCE, EQUIVALENCE_CHECKS, FAULT_DATA, FAULT_KILLED, FAULT_PANIC,
    FAULT_STALL, FLAG, INJECTED_PANIC, STALL_TIMEOUT,
};
use std::fs::File;
use std::path::Path;
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use strata_modules::{Checkpoint, TrainingState};
use strata_recipes::RunSpec;

/// Ranks of every job but the larger equivalence checks.
const RANKS: usize = 2;
/// Rate of the link between the two simulated hosts: a cluster's gigabit Ethernet (the
/// kernel here has no `netem`, so no added latency; see the README's benchmark).
pub const CLUSTER_LINK_RATE: &str = "1gbit";
/// A job that runs longer than this is killed and the test fails as hung. The jobs take a
/// few seconds on an idle 2-core machine; ranks spin while waiting, so a machine shared with
/// other builds can slow them tenfold, and this is well above that.
const JOB_TIMEOUT: Duration = Duration::from_secs(300);
/// Least test accuracy of the runner's short digits training: 8 epochs reach ~96 % (the
/// single-process demo reaches 97 %); the bound leaves room for another seed or rank count.
const RUNNER_MIN_ACCURACY: f64 = 0.90;
/// Epochs of the runner's training in the test.
const RUNNER_EPOCHS: &str = "8";
/// Least bytes the two simulated hosts must exchange over their veth pair: the three
/// equivalence runs allreduce ~10 kB of gradients per step over 22 steps each (~1.1 MB).
const MIN_VETH_BYTES: u64 = 100_000;

/// Argument that prints the output of passing jobs too (`cargo test … -- --show-output`).
const SHOW_OUTPUT: &str = "--show-output";

type Check = fn(&Path) -> Result<Verdict, String>;

enum Verdict {
    /// Passed, with the output of the job(s).
    Passed(String),
    Skipped(String),
}

/// Runs every check whose name contains the first free argument (all without one).
pub fn run_all(args: &[String]) -> ExitCode {
    let filter = args.iter().find(|a| !a.starts_with('-'));
    let show_output = args.iter().any(|a| a == SHOW_OUTPUT);
    let checks: [(&str, Check); 9] = [
        ("replicas_match_one_process_on_two_ranks", |dir| {
            equivalence(dir, 2)
        }),
        ("replicas_match_one_process_on_three_ranks", |dir| {
            equivalence(dir, 3)
        }),
        ("replicas_match_one_process_on_four_ranks", |dir| {
            equivalence(dir, 4)
        }),
        ("a_panicking_rank_aborts_the_job", panicking_rank),
        ("a_rank_without_data_aborts_the_job", rank_without_data),
        ("a_killed_rank_ends_the_job", killed_rank),
        (
            "a_stalled_rank_ends_the_job_after_the_timeout",
            stalled_rank,
        ),
        ("runner_trains_the_digits_on_two_ranks", runner),
        ("two_simulated_hosts_over_tcp_match_one_process", two_hosts),
    ];
    let scratch = std::env::temp_dir().join(format!("strata-mpi-tests-{}", std::process::id()));
    let mut failed = 0;
    for (name, check) in checks {
        if filter.is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let dir = scratch.join(name);
        let verdict = std::fs::create_dir_all(&dir)
            .map_err(|err| format!("cannot create {}: {err}", dir.display()))
            .and_then(|()| check(&dir));
        match verdict {
            Ok(Verdict::Passed(output)) => {
                println!("test {name} ... ok");
                if show_output {
                    println!("---- {name} output ----\n{output}");
                }
            }
            Ok(Verdict::Skipped(why)) => {
                println!("test {name} ... skipped");
                eprintln!("SKIPPED: {name}: {why}");
            }
            Err(why) => {
                println!("test {name} ... FAILED");
                eprintln!("---- {name} ----\n{why}\n");
                failed += 1;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{failed} multi-rank test(s) failed");
        ExitCode::FAILURE
    }
}

/// What a finished (or killed) job left.
struct Job {
    status: Option<ExitStatus>,
    output: String,
}

impl Job {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// The job as text for failure messages.
    fn describe(&self) -> String {
        let status = match self.status {
            Some(status) => format!("{status}"),
            None => format!("killed after the {JOB_TIMEOUT:?} timeout (hung)"),
        };
        format!("status: {status}\noutput:\n{}", self.output)
    }

    fn require_success(&self) -> Result<(), String> {
        if self.succeeded() {
            Ok(())
        } else {
            Err(self.describe())
        }
    }

    /// The job ended by itself (no timeout) with a failure status.
    fn require_failure(&self) -> Result<(), String> {
        match self.status {
            Some(status) if !status.success() => Ok(()),
            _ => Err(format!(
                "expected the job to fail on its own\n{}",
                self.describe()
            )),
        }
    }

    fn require_output(&self, needle: &str) -> Result<(), String> {
        if self.output.contains(needle) {
            Ok(())
        } else {
            Err(format!(
                "expected {needle:?} in the output\n{}",
                self.describe()
            ))
        }
    }
}

/// `mpirun` for `ranks` ranks on this machine, as root if need be, with unbound ranks.
fn mpirun(ranks: usize) -> Command {
    let mut command = Command::new("mpirun");
    command
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        // A 1-core CI machine has fewer slots than ranks.
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .args(["-np", &ranks.to_string(), "--bind-to", "none"]);
    command
}

/// This program as a rank of `scenario` in a job of `ranks`.
fn worker_args(scenario: &str, ranks: usize, checkpoint: Option<&Path>) -> Vec<String> {
    let program = std::env::current_exe().expect("the test knows its own path");
    let mut args = vec![
        program.display().to_string(),
        FLAG.to_string(),
        scenario.to_string(),
        ranks.to_string(),
    ];
    args.extend(checkpoint.map(|p| p.display().to_string()));
    args
}

/// Runs `command` with stdout and stderr into one file, killing it (and its ranks) after
/// [`JOB_TIMEOUT`].
fn run_job(mut command: Command, dir: &Path) -> Result<Job, String> {
    use std::os::unix::process::CommandExt;
    let log = dir.join("job.log");
    let file = File::create(&log).map_err(|err| format!("cannot create the job log: {err}"))?;
    let file_err = file.try_clone().map_err(|err| err.to_string())?;
    command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(file_err)
        .process_group(0);
    let mut child = command
        .spawn()
        .map_err(|err| format!("cannot start {command:?}: {err} (is MPI installed?)"))?;
    let deadline = Instant::now() + JOB_TIMEOUT;
    let status = loop {
        match child.try_wait().map_err(|err| err.to_string())? {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                // mpirun forwards SIGTERM to its ranks; SIGKILL the group if that is not enough.
                signal_group(child.id(), "TERM");
                std::thread::sleep(Duration::from_secs(5));
                signal_group(child.id(), "KILL");
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    Ok(Job { status, output })
}

fn signal_group(leader: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([format!("-{signal}"), "--".to_string(), format!("-{leader}")])
        .status();
}

fn equivalence(dir: &Path, ranks: usize) -> Result<Verdict, String> {
    let mut command = mpirun(ranks);
    command.args(worker_args(EQUIVALENCE, ranks, None));
    let job = run_job(command, dir)?;
    job.require_success()?;
    require_ok_lines(&job, ranks)?;
    Ok(Verdict::Passed(job.output))
}

/// Each rank reports its passed comparisons.
fn require_ok_lines(job: &Job, ranks: usize) -> Result<(), String> {
    let ok_lines = job.output.lines().filter(|l| l.ends_with(": ok")).count();
    if ok_lines == EQUIVALENCE_CHECKS * ranks {
        Ok(())
    } else {
        Err(format!(
            "expected {} passed comparisons, found {ok_lines}\n{}",
            EQUIVALENCE_CHECKS * ranks,
            job.describe()
        ))
    }
}

/// Runs a fault scenario: the job must end by itself with a failure status, leaving rank 0's
/// complete checkpoint of epoch 0.
fn fault_job(dir: &Path, scenario: &str) -> Result<Job, String> {
    let checkpoint = dir.join("fault.ckpt");
    let mut command = mpirun(RANKS);
    command.args(worker_args(scenario, RANKS, Some(&checkpoint)));
    let job = run_job(command, dir)?;
    job.require_failure()?;
    require_checkpoint_of_epoch_zero(&checkpoint)
        .map_err(|e| format!("{e}\n{}", job.describe()))?;
    Ok(job)
}

fn panicking_rank(dir: &Path) -> Result<Verdict, String> {
    let job = fault_job(dir, FAULT_PANIC)?;
    job.require_output(INJECTED_PANIC)?;
    job.require_output("rank 1 of 2 panicked; aborting the MPI job")?;
    Ok(Verdict::Passed(job.output))
}

fn rank_without_data(dir: &Path) -> Result<Verdict, String> {
    let job = fault_job(dir, FAULT_DATA)?;
    job.require_output("rank 1: cannot load the data of epoch 1")?;
    if job.status.and_then(|s| s.code()) != Some(DATA_ERROR_EXIT_CODE) {
        return Err(format!(
            "expected exit status {DATA_ERROR_EXIT_CODE}\n{}",
            job.describe()
        ));
    }
    Ok(Verdict::Passed(job.output))
}

/// No message from the rank itself: mpirun must notice the death and say which rank died.
fn killed_rank(dir: &Path) -> Result<Verdict, String> {
    let job = fault_job(dir, FAULT_KILLED)?;
    job.require_output("rank 1")?;
    job.require_output("signal 9")?;
    Ok(Verdict::Passed(job.output))
}

/// Rank 1 hangs; rank 0's watchdog ends it once a collective call waited too long.
fn stalled_rank(dir: &Path) -> Result<Verdict, String> {
    let job = fault_job(dir, FAULT_STALL)?;
    job.require_output(&format!(
        "rank 0 waited more than {STALL_TIMEOUT:?} in all_reduce_sum"
    ))?;
    Ok(Verdict::Passed(job.output))
}

/// Rank 0 saved after epoch 0 and could not finish epoch 1 without rank 1: the checkpoint on
/// disk is complete (its checksum verifies) and says training resumes at epoch 1.
fn require_checkpoint_of_epoch_zero(path: &Path) -> Result<(), String> {
    let checkpoint =
        Checkpoint::load(path).map_err(|err| format!("checkpoint after the failure: {err}"))?;
    let state = TrainingState::from_checkpoint(&checkpoint)
        .map_err(|err| format!("training state in the checkpoint: {err}"))?;
    let next_epoch = state.map(|t| t.next_epoch);
    if next_epoch == Some(1) {
        Ok(())
    } else {
        Err(format!(
            "expected a checkpoint resuming at epoch 1, found {next_epoch:?}"
        ))
    }
}

fn runner(dir: &Path) -> Result<Verdict, String> {
    let checkpoint = dir.join("digits.ckpt");
    let metrics = dir.join("metrics.csv");
    let mut command = mpirun(RANKS);
    command.args([
        env!("CARGO_BIN_EXE_strata-mpi-train"),
        "--epochs",
        RUNNER_EPOCHS,
        "--expect-ranks",
        &RANKS.to_string(),
        "--checkpoint",
        &checkpoint.display().to_string(),
        "--metrics-csv",
        &metrics.display().to_string(),
    ]);
    let job = run_job(command, dir)?;
    job.require_success()?;
    let finals: Vec<&str> = job
        .output
        .lines()
        .filter(|l| l.starts_with("final:"))
        .collect();
    let [line] = finals.as_slice() else {
        return Err(format!(
            "expected one `final:` line (rank 0 only)\n{}",
            job.describe()
        ));
    };
    let accuracy = line
        .split("test accuracy ")
        .nth(1)
        .and_then(|rest| rest.split('%').next())
        .and_then(|pct| pct.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("no accuracy in {line:?}"))?
        / 100.0;
    if accuracy < RUNNER_MIN_ACCURACY {
        return Err(format!(
            "test accuracy {accuracy} below {RUNNER_MIN_ACCURACY}\n{}",
            job.describe()
        ));
    }
    let saved = Checkpoint::load(&checkpoint).map_err(|err| format!("runner checkpoint: {err}"))?;
    // The checkpoint describes its run as train-demo's do, so `cargo xtask eval` rebuilds it.
    let run = RunSpec::from_metadata(&saved.metadata)
        .map_err(|err| format!("runner checkpoint metadata: {err}"))?;
    run.model
        .check_weights(&saved.params)
        .map_err(|err| format!("runner checkpoint weights: {err}"))?;
    require_metrics_log(&metrics, accuracy)?;
    Ok(Verdict::Passed(job.output))
}

/// The log has a header and one row per epoch, the last with the reported accuracy.
fn require_metrics_log(path: &Path, final_accuracy: f64) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("metrics log {}: {err}", path.display()))?;
    let rows: Vec<&str> = text.lines().skip(1).collect();
    let epochs: usize = RUNNER_EPOCHS.parse().expect("a number");
    let last_accuracy = rows
        .last()
        .and_then(|row| row.split(',').nth(4))
        .and_then(|field| field.parse::<f64>().ok());
    // The final line prints the accuracy as a percentage with two decimals.
    let agrees = last_accuracy.is_some_and(|a| (a - final_accuracy).abs() < 1e-4);
    if rows.len() == epochs && agrees {
        Ok(())
    } else {
        Err(format!(
            "expected {epochs} rows ending at accuracy {final_accuracy}, found:\n{text}"
        ))
    }
}

fn two_hosts(dir: &Path) -> Result<Verdict, String> {
    if let Err(why) = TwoHosts::available() {
        return Ok(Verdict::Skipped(why));
    }
    let hosts = TwoHosts::create(dir)?;
    hosts.throttle(CLUSTER_LINK_RATE)?;
    let sent_before = hosts.veth_bytes()?;
    let command = hosts.mpirun(RANKS, &worker_args(EQUIVALENCE, RANKS, None));
    let job = run_job(command, dir)?;
    job.require_success()?;
    require_ok_lines(&job, RANKS)?;
    for host in TwoHosts::HOST_NAMES {
        job.require_output(&format!("on host {host}"))?;
    }
    let sent = hosts.veth_bytes()? - sent_before;
    if sent < MIN_VETH_BYTES {
        return Err(format!(
            "only {sent} bytes crossed the veth pair\n{}",
            job.describe()
        ));
    }
    drop(hosts);
    Ok(Verdict::Passed(format!(
        "{}{sent} bytes sent over the veth pair",
        job.output
    )))
}
