//! `strata-mpi-train`: trains an MLP data-parallel over MPI on the 8×8 digits (embedded, the
//! default) or MNIST, and reports accuracy and throughput from rank 0:
//!
//! ```text
//! mpirun -np 2 --bind-to none target/release/strata-mpi-train
//! mpirun -np 2 --bind-to none target/release/strata-mpi-train --dataset mnist --data-dir DIR
//! ```
//!
//! Every rank trains on its share of each epoch (`DataLoader::shard`, same seed everywhere);
//! the [`DataParallel`] hook broadcasts rank 0's weights at the start and averages gradients
//! after each backward. Only rank 0 prints and writes the checkpoint and the metrics log
//! (both atomically: a temporary file renamed into place). A rank that fails ends the whole
//! job (a panic or a data error aborts it, and a rank stuck in a collective call longer than
//! `--collective-timeout` ends itself), so no rank waits forever.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_datasets::{digits, mnist, DataLoader, Dataset, Split, TensorDataset};
use strata_distributed::{Collective, DataParallel, MpiWorld, DEFAULT_BUCKET_BYTES};
use strata_modules::{
    write_atomically, Adam, Callback, Classification, Event, Module, Relu, Sequential, TrainConfig,
    Trainer,
};
use strata_tensor::{num_threads, set_num_threads, Rng};

/// Share of the digits held out for testing (they have no fixed test split): 360 of 1,797.
const DIGITS_TEST_FRACTION: f64 = 0.2;
/// Largest MNIST pixel value.
const MNIST_MAX_VALUE: f32 = 255.0;
/// Batches the loader prepares ahead on its worker thread.
const PREFETCH_DEPTH: usize = 2;
/// Examples per evaluation batch (no gradients kept, so larger than training batches).
const EVAL_BATCH: usize = 1000;
/// Exit status when a rank cannot go on (data missing or unreadable, bad arguments).
const FAILURE_EXIT_CODE: i32 = 1;
/// Default of `--collective-timeout`: a step of the MNIST MLP takes milliseconds and rank 0's
/// evaluation plus checkpoint at an epoch end about a second, so five minutes of waiting in
/// one collective call can only mean a stalled rank.
const DEFAULT_COLLECTIVE_TIMEOUT_SECS: u64 = 300;
/// Stream tags mixed into the seed so that weights, split and shuffling are independent.
const INIT_STREAM: u64 = 1;
const SPLIT_STREAM: u64 = 2;
const SHUFFLE_STREAM: u64 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DatasetName {
    /// The 8×8 digits embedded in strata-datasets (1,437 train / 360 test).
    Digits,
    /// MNIST from --data-dir (60,000 train / 10,000 test).
    Mnist,
}

/// Data-parallel training of an MLP over MPI: launch with `mpirun -np N --bind-to none`.
#[derive(Parser, Debug)]
#[command(name = "strata-mpi-train", version, about)]
struct Args {
    /// Dataset.
    #[arg(long, value_enum, default_value_t = DatasetName::Digits)]
    dataset: DatasetName,
    /// Folder with the four MNIST IDX files [default: `mnist` in strata-datasets' fetch cache].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Epochs.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Examples per rank and step: the global batch is this times the number of ranks.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 2e-3)]
    lr: f32,
    /// Widths of the hidden layers, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "128")]
    hidden: Vec<usize>,
    /// Gradient bucket size in KiB (one allreduce per bucket).
    #[arg(long, default_value_t = DEFAULT_BUCKET_BYTES / 1024)]
    bucket_kib: usize,
    /// Threads per rank [default: the cores this rank may use divided by the ranks on its
    /// machine, at least 1].
    #[arg(long)]
    threads: Option<usize>,
    /// Seed of the weights, the digits split and the shuffling (the same on every rank).
    #[arg(long, default_value_t = 0)]
    seed: u64,
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
    let (train_set, test_set) = load(args)?;
    let features = train_set.get(0).map_err(|e| e.to_string())?.input().numel();

    let mut model = mlp(features, &args.hidden, stream(args.seed, INIT_STREAM));
    let loader = DataLoader::new(train_set, args.batch_size.max(1))
        .shuffle(stream(args.seed, SHUFFLE_STREAM))
        .shard(rank, ranks)
        .prefetch(PREFETCH_DEPTH);
    let test_loader = DataLoader::new(test_set, EVAL_BATCH).shard(rank, ranks);
    let samples_per_epoch = loader.examples_per_epoch() * ranks;
    let hook = DataParallel::new(Rc::clone(world)).with_bucket_bytes(args.bucket_kib * 1024);
    if rank == 0 {
        println!(
            "strata-mpi-train: {:?}, MLP {features}-{}-10, {} epochs, {ranks} rank(s) × {} \
             thread(s) ({on_this_node} on this node), batch {} per rank ({} in all), Adam lr {}, \
             buckets of {} KiB",
            args.dataset,
            args.hidden
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("-"),
            args.epochs,
            num_threads(),
            args.batch_size,
            args.batch_size * ranks,
            args.lr,
            args.bucket_kib,
        );
    }
    let mut trainer = Trainer::new(TrainConfig {
        epochs: args.epochs,
        checkpoint_every: args.checkpoint.as_ref().map(|_| 1),
        checkpoint_path: args.checkpoint.clone(),
        ..TrainConfig::default()
    })
    .with_hook(hook);
    let throughput = Rc::new(std::cell::RefCell::new(Vec::new()));
    if rank == 0 {
        trainer = trainer.with_callback(Progress {
            epochs: args.epochs,
            samples_per_epoch,
            started: None,
            last_batch: None,
            throughput: Rc::clone(&throughput),
            metrics_csv: args.metrics_csv.clone(),
            csv: String::from(CSV_HEADER),
            world: Rc::clone(world),
        });
    }
    let history = trainer
        .fit(
            &mut model.with_objective(Classification::default()),
            &mut Adam::new(args.lr),
            &loader,
            &test_loader,
        )
        .map_err(|e| e.to_string())?;
    if rank == 0 {
        let last = history.last().ok_or("no epoch was run")?;
        let rates = throughput.borrow();
        // The first epoch includes warm-up (allocation, page faults): left out when possible.
        let steady = if rates.len() > 1 {
            &rates[1..]
        } else {
            &rates[..]
        };
        let mean_rate = steady.iter().sum::<f64>() / steady.len().max(1) as f64;
        println!(
            "final: test accuracy {:.2}% (loss {:.4}), {mean_rate:.0} samples/s on {ranks} \
             rank(s) × {} thread(s)",
            100.0 * last.val_accuracy().unwrap_or(0.0),
            last.val_loss().unwrap_or(f32::NAN),
            num_threads(),
        );
        if let Some(path) = &args.checkpoint {
            println!("checkpoint: {}", path.display());
        }
    }
    Ok(())
}

/// Training and test examples.
type Splits = (Arc<dyn Dataset>, Arc<dyn Dataset>);

/// `(train, test)`, inputs flattened and scaled to [0, 1].
fn load(args: &Args) -> Result<Splits, String> {
    match args.dataset {
        DatasetName::Digits => {
            let all = digits();
            let scaled = flat_scaled(&all, strata_datasets::DIGITS_MAX_VALUE)?;
            let (train, test) = scaled
                .split(DIGITS_TEST_FRACTION, stream(args.seed, SPLIT_STREAM))
                .map_err(|e| e.to_string())?;
            Ok((Arc::new(train), Arc::new(test)))
        }
        DatasetName::Mnist => {
            let dir = match &args.data_dir {
                Some(dir) => dir.clone(),
                None => strata_datasets::default_cache_dir()
                    .map_err(|e| e.to_string())?
                    .join("mnist"),
            };
            let read = |split| {
                let data = mnist(&dir, split).map_err(|e| e.to_string())?;
                flat_scaled(&data, MNIST_MAX_VALUE)
            };
            Ok((Arc::new(read(Split::Train)?), Arc::new(read(Split::Test)?)))
        }
    }
}

/// The same examples with inputs `[N, features]` divided by `max`.
fn flat_scaled(data: &TensorDataset, max: f32) -> Result<TensorDataset, String> {
    let inputs = data.input();
    let n = inputs.shape()[0];
    let flat = inputs.reshape(&[n as isize, -1]).mul_scalar(1.0 / max);
    TensorDataset::new(flat, data.target().clone()).map_err(|e| e.to_string())
}

/// `features → hidden… → 10` with ReLU between layers.
fn mlp(features: usize, hidden: &[usize], seed: u64) -> Sequential {
    let widths = [&[features], hidden, &[10]].concat();
    Sequential::mlp(&widths, Relu, &mut Rng::new(seed))
}

fn stream(seed: u64, tag: u64) -> u64 {
    strata_tensor::splitmix64(seed, tag)
}

/// First line of the `--metrics-csv` file.
const CSV_HEADER: &str =
    "epoch,train_loss,train_accuracy,test_loss,test_accuracy,samples_per_second\n";

/// Rank 0's per-epoch report: metrics (already summed over ranks) and the training
/// throughput, from the epoch's start to its last step; printed, and kept in the CSV log.
struct Progress {
    epochs: usize,
    samples_per_epoch: usize,
    started: Option<Instant>,
    last_batch: Option<Instant>,
    throughput: Rc<std::cell::RefCell<Vec<f64>>>,
    metrics_csv: Option<PathBuf>,
    csv: String,
    world: Rc<MpiWorld>,
}

impl Callback for Progress {
    fn on_event(&mut self, event: &Event<'_>) {
        match event {
            Event::EpochStart { .. } => self.started = Some(Instant::now()),
            Event::Batch { .. } => self.last_batch = Some(Instant::now()),
            Event::EpochEnd(metrics) => {
                let seconds = match (self.started, self.last_batch) {
                    (Some(start), Some(end)) => (end - start).as_secs_f64(),
                    _ => f64::NAN,
                };
                let rate = self.samples_per_epoch as f64 / seconds;
                self.throughput.borrow_mut().push(rate);
                println!(
                    "epoch {}/{}: train loss {:.4} acc {:.2}% | test loss {:.4} acc {:.2}% | \
                     {rate:.0} samples/s",
                    metrics.epoch + 1,
                    self.epochs,
                    metrics.train_loss().unwrap_or(f32::NAN),
                    100.0 * metrics.train_accuracy().unwrap_or(0.0),
                    metrics.val_loss().unwrap_or(f32::NAN),
                    100.0 * metrics.val_accuracy().unwrap_or(0.0),
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
