//! The worker threads every parallel kernel runs on: products, element-wise passes,
//! reductions, convolution, pooling, and the callers' own loops ([`crate::for_each_block`]).
//!
//! One pool, kept warm: after a task a worker spins for [`SPIN`] before it sleeps, so the
//! back-to-back parallel regions of a training step find it awake and a region costs about a
//! microsecond to start instead of a wake-up through the scheduler. The calling thread always
//! takes part and takes jobs from the same counter as the workers, so a worker that wakes late
//! only means the caller does more of the jobs: a region is never much slower than running
//! its jobs in a loop. One caller at a time uses the pool; a second caller, or a job that
//! itself asks for parallel work, runs its jobs on its own thread.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long a worker keeps spinning for the next task before it sleeps. A training step's
/// parallel regions are separated by serial stretches of a few to a few hundred µs (small
/// ops, graph bookkeeping); a worker asleep costs the next region a wake-up (measured
/// 30–60 µs on this 2-core KVM machine), while spinning costs only an otherwise idle core.
/// Chosen as the smallest budget that kept the MLP step's workers awake from one region to
/// the next (`scratch` measurements in the commit that introduced it).
const SPIN: Duration = Duration::from_micros(500);

/// A worker's state: who may touch its assignment.
const IDLE: u32 = 0;
/// The caller has written an assignment; the worker may claim it.
const ASSIGNED: u32 = 1;
/// The worker claimed the assignment and is running jobs; the caller waits for `IDLE`.
const RUNNING: u32 = 2;

/// Where the jobs of one region are: read by a worker only between claiming an assignment
/// and going back to `IDLE`, while the caller waits in [`run`], so the references stay valid.
#[derive(Clone, Copy)]
struct Assignment {
    task: *const (dyn Fn(usize) + Sync),
    next: *const AtomicUsize,
    jobs: usize,
    panic: *const Mutex<Option<Box<dyn Any + Send>>>,
}

/// One worker thread, as the caller sees it.
#[repr(align(128))] // its own cache lines: the caller and the worker both write `state`
struct Worker {
    state: AtomicU32,
    /// Set by the worker before it sleeps, so the caller knows a wake-up call is needed.
    sleeping: AtomicBool,
    assignment: UnsafeCell<Option<Assignment>>,
    thread: Thread,
}

// SAFETY: `assignment` is written by the caller only while `state` is IDLE (after it holds
// the pool's lock), and read by the worker only after it moved `state` from ASSIGNED to
// RUNNING, with release/acquire ordering on `state` in both directions.
unsafe impl Sync for Worker {}
// SAFETY: the raw pointers in `assignment` are only dereferenced under the protocol above.
unsafe impl Send for Worker {}

thread_local! {
    /// Whether this thread is one of the pool's workers (whose jobs then run nested work
    /// themselves).
    static IS_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// The workers spawned so far; the lock is held by the one caller using them.
static WORKERS: Mutex<Vec<Arc<Worker>>> = Mutex::new(Vec::new());

/// Calls `task(job)` once for every `job` in `0..jobs`, on the calling thread and up to
/// `threads − 1` workers; returns when all have finished. A panic in any job is resumed on
/// the calling thread once every job has stopped.
pub(crate) fn run(threads: usize, jobs: usize, task: &(dyn Fn(usize) + Sync)) {
    if threads <= 1 || jobs <= 1 || IS_WORKER.with(Cell::get) {
        return (0..jobs).for_each(task);
    }
    let mut workers = match WORKERS.try_lock() {
        Ok(workers) => workers,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        // Another thread is using the pool (or this one, from inside a job): run here.
        Err(TryLockError::WouldBlock) => return (0..jobs).for_each(task),
    };
    let helpers = (threads - 1).min(jobs - 1);
    while workers.len() < helpers {
        let worker = spawn(workers.len());
        workers.push(worker);
    }
    let next = AtomicUsize::new(0);
    let panic = Mutex::new(None);
    // SAFETY (lifetime): the workers use `task`, `next` and `panic` only until they are back
    // to IDLE, and `Region::drop` waits for that before this frame's borrows end.
    let task: *const (dyn Fn(usize) + Sync + '_) = task;
    let assignment = Assignment {
        task: unsafe {
            std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const (dyn Fn(usize) + Sync)>(
                task,
            )
        },
        next: &next,
        jobs,
        panic: &panic,
    };
    let region = Region {
        workers: &workers[..helpers],
    };
    for worker in region.workers {
        // SAFETY: the worker is IDLE (every region ends with all its workers IDLE), so it
        // does not read its assignment until the store below.
        unsafe { *worker.assignment.get() = Some(assignment) };
        // Sequentially consistent with the worker's `sleeping` store and `state` load: either
        // the worker sees the assignment before it sleeps, or this sees it asleep.
        worker.state.store(ASSIGNED, Ordering::SeqCst);
        if worker.sleeping.load(Ordering::SeqCst) {
            worker.thread.unpark();
        }
    }
    // SAFETY: `assignment` points at live locals of this frame.
    unsafe { run_jobs(&assignment) };
    drop(region);
    let payload = panic.lock().unwrap_or_else(|p| p.into_inner()).take();
    drop(workers);
    if let Some(payload) = payload {
        resume_unwind(payload);
    }
}

/// The workers of one region; dropping it (also while unwinding) takes back the assignments
/// not yet claimed and waits for the claimed ones to finish.
struct Region<'a> {
    workers: &'a [Arc<Worker>],
}

impl Drop for Region<'_> {
    fn drop(&mut self) {
        for worker in self.workers {
            if worker
                .state
                .compare_exchange(ASSIGNED, IDLE, Ordering::Acquire, Ordering::Acquire)
                .is_ok()
            {
                continue;
            }
            let started = Instant::now();
            while worker.state.load(Ordering::Acquire) != IDLE {
                if started.elapsed() < SPIN {
                    spin();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}

/// Takes jobs from the shared counter until none is left; a panicking job stops the others
/// from starting new ones and leaves its payload for the caller.
///
/// # Safety
/// The assignment's pointers must be valid for the duration of the call.
unsafe fn run_jobs(assignment: &Assignment) {
    // SAFETY: guaranteed by the caller.
    let (task, next, panic) = unsafe { (&*assignment.task, &*assignment.next, &*assignment.panic) };
    loop {
        let job = next.fetch_add(1, Ordering::Relaxed);
        if job >= assignment.jobs {
            return;
        }
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| task(job))) {
            next.store(assignment.jobs, Ordering::Relaxed);
            panic
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(payload);
            return;
        }
    }
}

/// A short busy wait between two looks at a shared flag (and at the clock).
fn spin() {
    for _ in 0..SPINS_PER_LOOK {
        std::hint::spin_loop();
    }
}

/// Pause instructions between two looks: a few hundred nanoseconds (a pause is ~10–140
/// cycles depending on the core), short against a job and long against a clock read.
const SPINS_PER_LOOK: usize = 32;

/// Starts worker number `index`.
fn spawn(index: usize) -> Arc<Worker> {
    let (sender, receiver) = std::sync::mpsc::channel::<Arc<Worker>>();
    let handle = std::thread::Builder::new()
        .name(format!("strata-worker-{index}"))
        .spawn(move || {
            IS_WORKER.with(|w| w.set(true));
            if let Ok(worker) = receiver.recv() {
                work(&worker);
            }
        })
        .expect("spawning a worker thread");
    let worker = Arc::new(Worker {
        state: AtomicU32::new(IDLE),
        sleeping: AtomicBool::new(false),
        assignment: UnsafeCell::new(None),
        thread: handle.thread().clone(),
    });
    sender
        .send(Arc::clone(&worker))
        .expect("the new worker waits for its handle");
    worker
}

/// A worker's life: wait for an assignment (spinning, then sleeping), run its jobs, repeat.
fn work(worker: &Worker) {
    loop {
        let mut idle_since = Instant::now();
        loop {
            if worker.state.load(Ordering::Relaxed) == ASSIGNED
                && worker
                    .state
                    .compare_exchange(ASSIGNED, RUNNING, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                break;
            }
            if idle_since.elapsed() < SPIN {
                spin();
            } else {
                worker.sleeping.store(true, Ordering::SeqCst);
                if worker.state.load(Ordering::SeqCst) != ASSIGNED {
                    std::thread::park();
                }
                worker.sleeping.store(false, Ordering::Relaxed);
                idle_since = Instant::now();
            }
        }
        // SAFETY: RUNNING gives this thread the assignment, and the caller keeps what it
        // points to alive until the state is IDLE again.
        unsafe {
            let assignment = (*worker.assignment.get()).expect("an assignment was written");
            run_jobs(&assignment);
        }
        worker.state.store(IDLE, Ordering::Release);
    }
}
