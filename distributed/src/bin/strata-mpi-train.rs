//! `strata-mpi-train`: trains a network data-parallel over MPI with the recipes of
//! `cargo xtask train-demo` (strata-recipes: the same datasets, networks, defaults and
//! seeds), and reports accuracy and throughput from rank 0:
//!
//! ```text
//! mpirun -np 2 --bind-to none target/release/strata-mpi-train
//! mpirun -np 2 --bind-to none target/release/strata-mpi-train --dataset mnist --data-dir DIR
//! ```
//!
//! Every rank trains on its share of each epoch (`DataLoader::shard`, same seed everywhere);
//! the [`DataParallel`] hook broadcasts rank 0's weights at the start and averages gradients
//! after each backward. Only rank 0 prints and writes the checkpoint (with the run's
//! description, so `cargo xtask eval --checkpoint` rebuilds and evaluates it) and the metrics
//! log, both atomically. A rank that fails ends the whole job (a panic or a data error aborts
//! it, and a rank stuck in a collective call longer than `--collective-timeout` ends itself),
//! so no rank waits forever.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};
use strata_distributed::{
    Collective, CommMeter, CommTimes, DataParallel, MpiWorld, DEFAULT_BUCKET_BYTES,
};
use strata_modules::{
    write_atomically, Callback, Classification, Event, Module, TrainConfig, Trainer,
};
use strata_recipes::{positive_count, Choices, Plan};
use strata_tensor::{num_threads, set_num_threads};

/// Exit status when a rank cannot go on (data missing or unreadable, bad arguments).
const FAILURE_EXIT_CODE: i32 = 1;
/// Default of `--collective-timeout`: a step of the MNIST MLP takes milliseconds and rank 0's
/// evaluation plus checkpoint at an epoch end about a second, so five minutes of waiting in
/// one collective call can only mean a stalled rank.
const DEFAULT_COLLECTIVE_TIMEOUT_SECS: u64 = 300;

/// Data-parallel training over MPI: launch with `mpirun -np N --bind-to none`. Every option
/// left out takes the recipe's default for the dataset and network (as `cargo xtask
/// train-demo` does); `--batch-size` is the global batch, divided among the ranks.
#[derive(Parser, Debug)]
#[command(name = "strata-mpi-train", version, about)]
struct Args {
    /// What to train, and how (shared with `cargo xtask train-demo`).
    #[command(flatten)]
    recipe: Choices,
    /// Gradient bucket size in KiB (one allreduce per bucket).
    #[arg(long, default_value_t = DEFAULT_BUCKET_BYTES / 1024)]
    bucket_kib: usize,
    /// Exchange gradients after the backward pass instead of overlapping each bucket's
    /// allreduce with the rest of the pass (same results, bit for bit).
    #[arg(long)]
    no_overlap: bool,
    /// Threads per rank [default: the cores this rank may use divided by the ranks on its
    /// machine, at least 1].
    #[arg(long, value_parser = positive_count)]
    threads: Option<usize>,
    /// Rank 0 saves a checkpoint here after every epoch (atomically).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Rank 0 rewrites this CSV of per-epoch metrics after every epoch (atomically).
    #[arg(long)]
    metrics_csv: Option<PathBuf>,
    /// A rank waiting longer than this many seconds in one collective call ends the job
    /// (0: wait forever).
    #[arg(long, default_value_t = DEFAULT_COLLECTIVE_TIMEOUT_SECS)]
    collective_timeout: u64,
    /// Fail unless the job has exactly this many ranks.
    #[arg(long)]
    expect_ranks: Option<usize>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let world = match MpiWorld::init() {
        Ok(world) if args.collective_timeout == 0 => Rc::new(world),
        Ok(world) => {
            Rc::new(world.with_collective_timeout(Duration::from_secs(args.collective_timeout)))
        }
        Err(err) => {
            eprintln!("strata-mpi-train: {err}");
            return ExitCode::FAILURE;
        }
    };
    match train(&args, &world) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&world, &message),
    }
}

/// Reports the error and ends the job: the other ranks would wait for this one forever.
fn fail(world: &MpiWorld, message: &str) -> ! {
    eprintln!("strata-mpi-train: rank {}: {message}", world.rank());
    world.abort(FAILURE_EXIT_CODE)
}

fn train(args: &Args, world: &Rc<MpiWorld>) -> Result<(), String> {
    let (rank, ranks) = (world.rank(), world.world_size());
    if let Some(expected) = args.expect_ranks {
        world
            .expect_world_size(expected)
            .map_err(|e| e.to_string())?;
    }
    let on_this_node = world.ranks_on_this_node();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    set_num_threads(args.threads.unwrap_or(cores / on_this_node).max(1));
    let plan = Plan::new(&args.recipe)?;
    // The recipe's batch is global: each rank takes its share of every step.
    let per_rank = (plan.batch_size / ranks).max(1);
    let mut model = plan.build_model()?;
    let loader = plan.train_loader(per_rank).shard(rank, ranks);
    let test_loader = plan.test_loader().shard(rank, ranks);
    let samples_per_epoch = loader.examples_per_epoch() * ranks;
    let hook = DataParallel::new(Rc::clone(world))
        .with_bucket_bytes(args.bucket_kib * 1024)
        .with_overlap(!args.no_overlap);
    let meter = hook.meter();
    if rank == 0 {
        println!(
            "strata-mpi-train: {}, {}, {} epochs, {ranks} rank(s) × {} thread(s) \
             ({on_this_node} on this node), batch {per_rank} per rank ({} in all), {} lr {} \
             with cosine decay, buckets of {} KiB, {} (MPI thread support: {:?})",
            plan.spec.data.dataset.name(),
            plan.spec.model.describe(),
            plan.epochs,
            num_threads(),
            per_rank * ranks,
            plan.optimizer.name(),
            plan.learning_rate,
            args.bucket_kib,
            if args.no_overlap || ranks == 1 {
                "no overlap"
            } else {
                "allreduce overlapped with backward"
            },
            world.threading(),
        );
    }
    let mut trainer = Trainer::new(TrainConfig {
        epochs: plan.epochs,
        schedule: Some(plan.schedule()),
        checkpoint_every: args.checkpoint.as_ref().map(|_| 1),
        checkpoint_path: args.checkpoint.clone(),
        checkpoint_metadata: plan.spec.to_metadata(),
        ..TrainConfig::default()
    })
    .with_hook(hook);
    let epochs = Rc::new(std::cell::RefCell::new(Vec::new()));
    if rank == 0 {
        trainer = trainer.with_callback(Progress {
            epochs: plan.epochs,
            samples_per_epoch,
            started: None,
            last_batch: None,
            steps: 0,
            meter,
            records: Rc::clone(&epochs),
            metrics_csv: args.metrics_csv.clone(),
            csv: String::from(CSV_HEADER),
            world: Rc::clone(world),
        });
    }
    let history = trainer
        .fit(
            &mut model.with_objective(Classification::default()),
            plan.build_optimizer().as_mut(),
            &loader,
            &test_loader,
        )
        .map_err(|e| e.to_string())?;
    if rank == 0 {
        let last = history.last().ok_or("no epoch was run")?;
        let records = epochs.borrow();
        // The first epoch includes warm-up (allocation, page faults): left out when possible.
        let steady = if records.len() > 1 {
            &records[1..]
        } else {
            &records[..]
        };
        let steady = EpochRecord::sum(steady);
        println!(
            "final: test accuracy {:.2}% (loss {:.4}), {:.0} samples/s on {ranks} rank(s) × {} \
             thread(s); per step: {}",
            100.0 * last.val_accuracy().unwrap_or(0.0),
            last.val_loss().unwrap_or(f32::NAN),
            steady.samples_per_second(),
            num_threads(),
            steady.per_step(),
        );
        if let Some(path) = &args.checkpoint {
            println!("checkpoint: {}", path.display());
        }
    }
    Ok(())
}

/// First line of the `--metrics-csv` file.
const CSV_HEADER: &str =
    "epoch,train_loss,train_accuracy,test_loss,test_accuracy,samples_per_second\n";

/// One epoch's training time, steps and communication, as rank 0 saw them.
#[derive(Clone, Copy, Default)]
struct EpochRecord {
    samples: usize,
    steps: usize,
    seconds: f64,
    comm: CommTimes,
}

impl EpochRecord {
    /// The records added up (per-step figures of the sum are means over the epochs).
    fn sum(records: &[EpochRecord]) -> EpochRecord {
        records
            .iter()
            .fold(EpochRecord::default(), |a, r| EpochRecord {
                samples: a.samples + r.samples,
                steps: a.steps + r.steps,
                seconds: a.seconds + r.seconds,
                comm: CommTimes {
                    all_reduce: a.comm.all_reduce + r.comm.all_reduce,
                    waiting: a.comm.waiting + r.comm.waiting,
                    calls: a.comm.calls + r.comm.calls,
                    started_in_backward: a.comm.started_in_backward + r.comm.started_in_backward,
                },
            })
    }

    fn samples_per_second(&self) -> f64 {
        self.samples as f64 / self.seconds
    }

    /// Per step: the wall time, compute (everything but waiting for the exchange), the
    /// allreduce calls' time, the waiting, and the share of the allreduce time hidden.
    fn per_step(&self) -> String {
        let steps = self.steps.max(1) as f64;
        let ms = |seconds: f64| 1e3 * seconds / steps;
        let waiting = self.comm.waiting.as_secs_f64();
        format!(
            "{:.3} ms = compute {:.3} ms + waiting {:.3} ms; allreduce {:.3} ms in {:.1} \
             call(s), {:.1} started during backward, {:.0}% hidden by overlap",
            ms(self.seconds),
            ms(self.seconds - waiting),
            ms(waiting),
            ms(self.comm.all_reduce.as_secs_f64()),
            self.comm.calls as f64 / steps,
            self.comm.started_in_backward as f64 / steps,
            100.0 * self.comm.hidden_share(),
        )
    }
}

/// Rank 0's per-epoch report: metrics (already summed over ranks), the training
/// throughput from the epoch's start to its last step, and where a step's time went;
/// printed, and kept in the CSV log.
struct Progress {
    epochs: usize,
    samples_per_epoch: usize,
    started: Option<Instant>,
    last_batch: Option<Instant>,
    steps: usize,
    meter: CommMeter,
    records: Rc<std::cell::RefCell<Vec<EpochRecord>>>,
    metrics_csv: Option<PathBuf>,
    csv: String,
    world: Rc<MpiWorld>,
}

impl Callback for Progress {
    fn on_event(&mut self, event: &Event<'_>) {
        match event {
            Event::EpochStart { .. } => {
                self.started = Some(Instant::now());
                self.steps = 0;
                self.meter.take();
            }
            Event::Batch { .. } => {
                self.last_batch = Some(Instant::now());
                self.steps += 1;
            }
            Event::EpochEnd(metrics) => {
                let seconds = match (self.started, self.last_batch) {
                    (Some(start), Some(end)) => (end - start).as_secs_f64(),
                    _ => f64::NAN,
                };
                let record = EpochRecord {
                    samples: self.samples_per_epoch,
                    steps: self.steps,
                    seconds,
                    comm: self.meter.take(),
                };
                self.records.borrow_mut().push(record);
                let rate = record.samples_per_second();
                println!(
                    "epoch {}/{}: train loss {:.4} acc {:.2}% | test loss {:.4} acc {:.2}% | \
                     {rate:.0} samples/s | per step: {}",
                    metrics.epoch + 1,
                    self.epochs,
                    metrics.train_loss().unwrap_or(f32::NAN),
                    100.0 * metrics.train_accuracy().unwrap_or(0.0),
                    metrics.val_loss().unwrap_or(f32::NAN),
                    100.0 * metrics.val_accuracy().unwrap_or(0.0),
                    record.per_step(),
                );
                let Some(path) = &self.metrics_csv else {
                    return;
                };
                self.csv.push_str(&format!(
                    "{},{},{},{},{},{rate:.1}\n",
                    metrics.epoch,
                    metrics.train_loss().unwrap_or(f32::NAN),
                    metrics.train_accuracy().unwrap_or(f32::NAN),
                    metrics.val_loss().unwrap_or(f32::NAN),
                    metrics.val_accuracy().unwrap_or(f32::NAN),
                ));
                if let Err(err) = write_atomically(path, self.csv.as_bytes()) {
                    fail(
                        &self.world,
                        &format!("cannot write the metrics log {}: {err}", path.display()),
                    );
                }
            }
            Event::CheckpointSaved(_) | Event::EarlyStopped { .. } => {}
        }
    }
}
