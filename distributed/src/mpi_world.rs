//! The MPI world as a [`Collective`] (feature `mpi`): initialisation once per process, the
//! world-size check, an abort of the whole job when any rank panics, and an optional
//! watchdog that ends a rank stuck in a collective call.

use crate::collective::{Collective, DetachedAllReduce};
use mpi::collective::{CommunicatorCollectives, Root, SystemOperation};
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::Threading;
use std::fmt;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

/// Exit status of a job aborted because a rank panicked (what `mpirun` returns).
pub const PANIC_EXIT_CODE: i32 = 101;
/// Exit status of a rank the watchdog ends (see [`MpiWorld::with_collective_timeout`]).
pub const TIMEOUT_EXIT_CODE: i32 = 124;

/// Whether MPI is initialised and not yet finalised, i.e. whether a panic may call
/// `MPI_Abort`.
static MPI_ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// The processes of an MPI job (`MPI_COMM_WORLD`). Create it once, at the start of `main`;
/// dropping it finalises MPI, so keep it alive until the last collective call.
///
/// While it lives, a panic on any thread of any rank prints the panic message and then aborts
/// the whole job (`MPI_Abort`, exit status [`PANIC_EXIT_CODE`]): the other ranks would
/// otherwise wait forever in their next collective call.
pub struct MpiWorld {
    world: SimpleCommunicator,
    watchdog: Option<Arc<Watchdog>>,
    threading: Threading,
    _universe: Universe,
}

/// Why the MPI world could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MpiError {
    /// MPI was already initialised in this process (it can be initialised only once).
    AlreadyInitialized,
    /// The job has another number of ranks than the caller expects.
    WorldSize {
        /// Ranks the caller expects.
        expected: usize,
        /// Ranks found.
        found: usize,
    },
}

impl fmt::Display for MpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyInitialized => write!(
                f,
                "MPI: expected to initialise MPI once per process, found it already initialised"
            ),
            Self::WorldSize { expected, found } => write!(
                f,
                "MPI: expected {expected} ranks, found {found}. Launch with `mpirun -np \
                 {expected}`; if every process reports 1 rank, the binary was linked against \
                 another MPI implementation than the `mpirun` used (Open MPI vs MPICH: build \
                 with MPI_PKG_CONFIG=ompi or install only one)"
            ),
        }
    }
}

impl std::error::Error for MpiError {}

impl MpiWorld {
    /// Initialises MPI and installs the abort-on-panic hook. A binary started without
    /// `mpirun` is a world of one rank.
    ///
    /// It asks for `MPI_THREAD_MULTIPLE`: the data-parallel hook's communication thread sums
    /// gradients (on a communicator of its own) while the main thread may make other calls.
    /// Debian's Open MPI 4.1 and MPICH 4.0 provide it; with less, the hook exchanges
    /// gradients on the main thread after the backward pass (no overlap).
    pub fn init() -> Result<Self, MpiError> {
        let (universe, threading) = mpi::initialize_with_threading(Threading::Multiple)
            .ok_or(MpiError::AlreadyInitialized)?;
        if threading < Threading::Multiple {
            tracing::warn!(
                ?threading,
                "MPI offers less thread support than requested (multiple): no overlap"
            );
        }
        MPI_ACTIVE.store(true, Ordering::SeqCst);
        PANIC_HOOK.call_once(install_abort_on_panic);
        Ok(Self {
            world: universe.world(),
            watchdog: None,
            threading,
            _universe: universe,
        })
    }

    /// The thread support MPI provides (see [`MpiWorld::init`]).
    pub fn threading(&self) -> Threading {
        self.threading
    }

    /// Ends this rank (exit status [`TIMEOUT_EXIT_CODE`], after a message naming the rank
    /// and the call) when one collective call waits longer than `timeout` for the others:
    /// MPI's blocking calls have no timeout of their own, so a rank that stalls (stopped,
    /// stuck in I/O, cut off by the network) would otherwise hold every other rank forever.
    /// `mpirun` then ends the whole job. Choose `timeout` far above the longest legitimate
    /// wait (a step, plus rank 0's evaluation and checkpoint writing at epoch ends).
    pub fn with_collective_timeout(mut self, timeout: Duration) -> Self {
        let watchdog = Arc::new(Watchdog {
            origin: Instant::now(),
            timeout,
            deadline_ms: AtomicU64::new(NO_DEADLINE),
            call: AtomicUsize::new(0),
            rank: self.rank(),
        });
        let watching = Arc::clone(&watchdog);
        std::thread::Builder::new()
            .name("strata-mpi-watchdog".into())
            .spawn(move || watching.watch())
            .expect("the watchdog thread starts");
        self.watchdog = Some(watchdog);
        self
    }

    /// Errs unless the job has exactly `expected` ranks (guards against a binary and an
    /// `mpirun` of different MPI implementations, where every process is rank 0 of 1).
    pub fn expect_world_size(&self, expected: usize) -> Result<(), MpiError> {
        let found = self.world_size();
        if found == expected {
            Ok(())
        } else {
            Err(MpiError::WorldSize { expected, found })
        }
    }

    /// How many ranks of the job run on this machine (a collective call: every rank must
    /// make it). Divide the cores by it to size each rank's thread pool.
    pub fn ranks_on_this_node(&self) -> usize {
        self.world.split_shared(self.world.rank()).size() as usize
    }

    /// The host name MPI reports for this process.
    pub fn processor_name(&self) -> String {
        mpi::environment::processor_name().unwrap_or_else(|_| "unknown".to_string())
    }

    /// Ends the whole job with exit status `code` (every rank is killed): what a rank that
    /// cannot go on must do instead of returning, since the others would wait for it forever.
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}

impl Drop for MpiWorld {
    fn drop(&mut self) {
        // The universe (dropped next) finalises MPI: aborting is no longer possible.
        MPI_ACTIVE.store(false, Ordering::SeqCst);
        if let Some(watchdog) = &self.watchdog {
            watchdog.deadline_ms.store(RETIRED, Ordering::SeqCst);
        }
    }
}

/// Names of the guarded calls, indexed by `Watchdog::call`.
const CALL_NAMES: [&str; 3] = ["broadcast", "all_reduce_sum", "all_reduce_sum_f64"];
/// `Watchdog::deadline_ms` outside collective calls.
const NO_DEADLINE: u64 = u64::MAX;
/// `Watchdog::deadline_ms` once the world is dropped: the thread ends.
const RETIRED: u64 = u64::MAX - 1;
/// Longest sleep of the watchdog between two looks: a stuck rank is ended at most this long
/// after its deadline (or a tenth of the timeout, if shorter).
const WATCHDOG_POLL: Duration = Duration::from_secs(1);

/// The deadline of the collective call in progress, checked by a thread of its own.
struct Watchdog {
    origin: Instant,
    timeout: Duration,
    /// Milliseconds after `origin` at which the current call times out, or a marker.
    deadline_ms: AtomicU64,
    /// Index in [`CALL_NAMES`] of the current call.
    call: AtomicUsize,
    rank: usize,
}

impl Watchdog {
    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    fn watch(&self) {
        let poll = WATCHDOG_POLL.min(self.timeout / 10);
        loop {
            std::thread::sleep(poll);
            match self.deadline_ms.load(Ordering::SeqCst) {
                RETIRED => return,
                NO_DEADLINE => {}
                deadline if self.now_ms() > deadline => {
                    let call = CALL_NAMES[self.call.load(Ordering::SeqCst)];
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!(
                            "strata-distributed: rank {} waited more than {:?} in {call} for \
                             the other ranks (did one stall or die?); ending this rank",
                            self.rank, self.timeout
                        );
                    }
                    // Not MPI_Abort: MPI is called from the main thread only. mpirun sees
                    // this rank exit with an error and ends the others.
                    std::process::exit(TIMEOUT_EXIT_CODE);
                }
                _ => {}
            }
        }
    }
}

/// Runs the collective call `f` (index `call` in [`CALL_NAMES`]) under `watchdog`, if any.
/// One call at a time per process: the data-parallel hook's main thread waits for its
/// communication thread before it makes calls of its own.
fn guarded<T>(watchdog: Option<&Watchdog>, call: usize, f: impl FnOnce() -> T) -> T {
    let Some(watchdog) = watchdog else {
        return f();
    };
    let deadline = watchdog.now_ms() + watchdog.timeout.as_millis() as u64;
    watchdog.call.store(call, Ordering::SeqCst);
    watchdog.deadline_ms.store(deadline, Ordering::SeqCst);
    let result = f();
    watchdog.deadline_ms.store(NO_DEADLINE, Ordering::SeqCst);
    result
}

impl MpiWorld {
    fn guarded<T>(&self, call: usize, f: impl FnOnce() -> T) -> T {
        guarded(self.watchdog.as_deref(), call, f)
    }
}

/// A duplicate of the world communicator, owned by a communication thread: its collective
/// calls never interleave with the main thread's on the world.
struct DetachedComm {
    comm: ManuallyDrop<SimpleCommunicator>,
    watchdog: Option<Arc<Watchdog>>,
}

// SAFETY: the handle is an `MPI_Comm`, a plain value MPI lets any thread use once it
// provides `MPI_THREAD_MULTIPLE` (checked before a `DetachedComm` is made); only the thread
// that owns this value calls MPI with it.
unsafe impl Send for DetachedComm {}

impl DetachedComm {
    fn all_reduce_sum(&self, send: &[f32], sum: &mut [f32]) {
        guarded(self.watchdog.as_deref(), 1, || {
            self.comm.all_reduce_into(send, sum, SystemOperation::sum())
        });
    }
}

impl Drop for DetachedComm {
    /// Frees the communicator, unless MPI is already finalised (freeing it then is an
    /// error; the process is ending anyway).
    fn drop(&mut self) {
        if MPI_ACTIVE.load(Ordering::SeqCst) {
            // SAFETY: dropped once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.comm) };
        }
    }
}

impl Collective for MpiWorld {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn world_size(&self) -> usize {
        self.world.size() as usize
    }

    fn broadcast(&self, root: usize, data: &mut [f32]) {
        self.guarded(0, || {
            self.world.process_at_rank(root as i32).broadcast_into(data)
        });
    }

    fn all_reduce_sum(&self, send: &[f32], sum: &mut [f32]) {
        self.guarded(1, || {
            self.world
                .all_reduce_into(send, sum, SystemOperation::sum())
        });
    }

    fn all_reduce_sum_f64(&self, send: &[f64], sum: &mut [f64]) {
        self.guarded(2, || {
            self.world
                .all_reduce_into(send, sum, SystemOperation::sum())
        });
    }

    /// Sums on a duplicate of the world communicator (made here: every rank must call this
    /// at the same point), under the same watchdog; `None` without `MPI_THREAD_MULTIPLE`.
    fn detached_all_reduce(&self) -> Option<DetachedAllReduce> {
        if self.threading < Threading::Multiple {
            return None;
        }
        let detached = DetachedComm {
            comm: ManuallyDrop::new(self.world.duplicate()),
            watchdog: self.watchdog.clone(),
        };
        Some(Box::new(move |send, sum| {
            detached.all_reduce_sum(send, sum)
        }))
    }
}

/// After the default panic report, aborts the MPI job while MPI is active.
fn install_abort_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        if MPI_ACTIVE.load(Ordering::SeqCst) {
            let world = SimpleCommunicator::world();
            // The report above goes to stderr; this line names the rank for mpirun's log.
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "strata-distributed: rank {} of {} panicked; aborting the MPI job",
                    world.rank(),
                    world.size()
                );
            }
            world.abort(PANIC_EXIT_CODE);
        }
    }));
}
