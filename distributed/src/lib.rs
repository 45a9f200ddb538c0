//! # strata-distributed
//!
//! Data-parallel training for Strata: each process (rank) holds a replica of the model, trains
//! on its own share of every epoch, and [`DataParallel`] — a [`strata_modules::StepHook`]
//! plugged into the [`strata_modules::Trainer`] — keeps the replicas identical: parameters and
//! buffers broadcast from rank 0 at the start, gradients (and buffers) averaged through
//! allreduce over flat [buckets](BucketPlan) — each summed on a communication thread as soon
//! as the backward pass has finished its gradients (overlap, as in PyTorch's DDP), or after
//! the pass, with the same result — epoch metrics summed, and checkpoints written by rank 0
//! only. Time spent communicating is measured ([`CommMeter`]). Each rank loads its share with
//! `strata_datasets::DataLoader::shard(rank, world_size)` and the same shuffling seed.
//!
//! The ranks talk through a [`Collective`]:
//!
//! - `MpiWorld` (cargo feature `mpi`, off by default): Open MPI or MPICH through the `mpi`
//!   crate. Building it needs the MPI development files and libclang; running it needs
//!   `mpirun`. The crate README explains how to run on one machine and on a cluster.
//! - [`LocalRank`]: ranks as threads of one process, for tests and for trying the logic on a
//!   machine without MPI.
//!
//! Without the `mpi` feature the crate has no system dependency, so the workspace builds and
//! tests everywhere.
//!
//! ```
//! use strata_distributed::{Collective, DataParallel, LocalRank};
//! use strata_modules::StepHook;
//! // One rank of one: the hook does nothing and this process is primary.
//! let hook = DataParallel::new(LocalRank::group(1).remove(0));
//! assert!(hook.is_primary());
//! assert_eq!(hook.collective().world_size(), 1);
//! ```

mod bucket;
mod collective;
mod comm_thread;
mod data_parallel;
mod exchange;
mod local;
mod meter;
#[cfg(feature = "mpi")]
mod mpi_world;

pub use bucket::{BucketPlan, BucketScratch, Segment, DEFAULT_BUCKET_BYTES, FIRST_BUCKET_BYTES};
pub use collective::{Collective, DetachedAllReduce};
pub use data_parallel::DataParallel;
pub use local::{LocalRank, LOCAL_TIMEOUT};
pub use meter::{CommMeter, CommTimes};
#[cfg(feature = "mpi")]
pub use mpi_world::{MpiError, MpiWorld, PANIC_EXIT_CODE, TIMEOUT_EXIT_CODE};
