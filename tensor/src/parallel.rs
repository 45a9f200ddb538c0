//! Thread count, the thresholds below which work stays on one thread, and the block loop
//! that kernels (here and in other crates) use to spread work over the workers.

use crate::workers;
use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Element-wise ops and reductions on fewer elements than this run on the calling thread.
/// A broadcasting add is memory-bound, so a second thread gains little until the operands
/// outgrow the caller's cache. Measured on the 2-core AMD EPYC (Zen 2) VM with the worker
/// pool (median µs at 1 and 2 threads, under `chrt -f 10`, load 3–8 from other builds):
/// 32 K elements 4.3 vs 6.5, 64 K 10.5 vs 12.2, 128 K 19.3 vs 18.8, 256 K 40.6 vs 32.7,
/// 1 M 374 vs 117. The split breaks even at 128 K.
pub const PAR_MIN_ELEMENTS: usize = 1 << 17;

/// Matrix products with fewer multiply-adds (`m·k·n`) than this run single-threaded, and a
/// parallel product is never cut into tiles of less than half of it. Measured on the same
/// machine (median µs, 1 thread vs 2 threads in tiles): 112³ (1.4 M) 31 vs 31, 128³ (2.1 M)
/// 47 vs 27–42, 32×128×512 (2.1 M) 49 vs 31–45, 32×784×512 (12.8 M) 338 vs 226; below
/// 2 M the two halves run no faster than the whole.
pub const MATMUL_PAR_MIN_FLOPS: usize = 1 << 21;

/// Environment variable read for the default thread count.
pub const THREADS_ENV: &str = "STRATA_NUM_THREADS";

/// 0 means "not set in code": use [`default_threads`].
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Number of threads tensor kernels may use (the calling thread included): the value given
/// to [`set_num_threads`], else `STRATA_NUM_THREADS`, else one per core.
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// Sets the number of threads tensor kernels may use (1 = everything on the calling thread;
/// more than the cores is allowed). `0` returns to the default (`STRATA_NUM_THREADS`, else
/// one per core). Worker threads are started when first needed and kept.
pub fn set_num_threads(n: usize) {
    THREADS.store(n, Ordering::Relaxed);
}

/// `STRATA_NUM_THREADS` when set to a positive number, else the cores available (read once:
/// asking the system for the cores is a system call, and kernels ask on every op).
fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        std::env::var(THREADS_ENV)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// Whether an element-wise pass over `len` elements should be split across threads.
pub(crate) fn parallel_elements(len: usize) -> bool {
    len >= PAR_MIN_ELEMENTS && num_threads() > 1
}

/// Tiles a product of `m × k` by `k × n` is split into: two per thread, so that the caller
/// can take a late worker's share, but none smaller than half of [`MATMUL_PAR_MIN_FLOPS`]
/// (so one tile below it, or on one thread); one per thread from [`MATMUL_ONE_TILE_FLOPS`].
pub(crate) fn matmul_tiles(m: usize, n: usize, k: usize) -> usize {
    let threads = num_threads();
    if threads <= 1 {
        return 1;
    }
    let flops = m.saturating_mul(n).saturating_mul(k);
    let per_thread = if flops >= MATMUL_ONE_TILE_FLOPS { 1 } else { 2 };
    (flops / (MATMUL_PAR_MIN_FLOPS / 2)).clamp(1, per_thread * threads)
}

/// Products of at least this many multiply-adds get one tile per thread: each tile packs
/// its own copy of the shared operand, which costs more than a late worker does at this
/// size. 1024³ at 2 threads (chrt -f 10, load ~5, 2000 runs each): median 13.7–14.1 ms in
/// two tiles, 14.7–15.3 ms in four; the MLP's products (≤ 103 M) ran 10–25% faster in four.
const MATMUL_ONE_TILE_FLOPS: usize = 1 << 28;

/// Environment variable listing the thread counts the workspace's benchmarks sweep.
pub const BENCH_THREADS_ENV: &str = "STRATA_BENCH_THREADS";

/// The thread counts a benchmark should run at: `STRATA_BENCH_THREADS` as a comma-separated
/// list (`1,2,4`; entries that are not positive numbers are skipped), else 1 and 2.
pub fn bench_thread_counts() -> Vec<usize> {
    let listed: Vec<usize> = std::env::var(BENCH_THREADS_ENV)
        .unwrap_or_default()
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .filter(|&n| n > 0)
        .collect();
    if listed.is_empty() {
        vec![1, 2]
    } else {
        listed
    }
}

thread_local! {
    /// Time this thread has spent in regions of two or more jobs, and whether it is in one.
    static REGION_TIME: Cell<(Duration, bool)> = const { Cell::new((Duration::ZERO, false)) };
}

/// Wall time the calling thread has spent, since it started, in work split into jobs for
/// several threads (products above the threshold, large element-wise passes, blocks of
/// [`for_each_block`]); at one thread such work runs as a loop and still counts. The rest of
/// a training step is serial: `1 − region time / step time` at one thread is the serial
/// share that bounds the speed-up on more threads (Amdahl's law).
pub fn time_in_parallel_regions() -> Duration {
    REGION_TIME.with(|t| t.get().0)
}

/// Calls `task(job)` for every job in `0..jobs`, spread over the threads.
pub(crate) fn for_each_job(jobs: usize, task: impl Fn(usize) + Sync) {
    let (spent, inside) = REGION_TIME.with(Cell::get);
    if jobs < 2 || inside {
        return workers::run(num_threads(), jobs, &task);
    }
    REGION_TIME.with(|t| t.set((spent, true)));
    let _clock = RegionClock {
        spent,
        started: Instant::now(),
    };
    workers::run(num_threads(), jobs, &task);
}

/// Adds a region's time to the thread's total when the region ends (also by a panic).
struct RegionClock {
    spent: Duration,
    started: Instant,
}

impl Drop for RegionClock {
    fn drop(&mut self) {
        let total = self.spent + self.started.elapsed();
        REGION_TIME.with(|t| t.set((total, false)));
    }
}

/// A mutable slice shared by jobs that each write their own disjoint part of it.
#[derive(Clone, Copy)]
pub(crate) struct SharedMut {
    ptr: *mut f32,
    len: usize,
}

// SAFETY: the jobs given a `SharedMut` write disjoint parts of it (see `part`).
unsafe impl Sync for SharedMut {}
unsafe impl Send for SharedMut {}

impl SharedMut {
    pub(crate) fn new(slice: &mut [f32]) -> Self {
        Self {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
        }
    }

    /// Elements `range` of the slice.
    ///
    /// # Safety
    /// No two live results of `part` may overlap, and the slice must outlive them.
    pub(crate) unsafe fn part<'a>(self, range: Range<usize>) -> &'a mut [f32] {
        assert!(range.start <= range.end && range.end <= self.len);
        // SAFETY: in bounds (checked above); exclusive by the caller's promise.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) }
    }

    /// The start of the slice, for strided views that the caller keeps disjoint.
    pub(crate) fn as_ptr(self) -> *mut f32 {
        self.ptr
    }
}

/// Calls `f(rows, parts)` for consecutive blocks of `block_rows` rows out of `rows` (the
/// last block may be shorter), spreading the blocks over the threads. Each slice in
/// `slices` holds `rows` rows of equal length, and `parts[k]` is the block's rows of
/// `slices[k]`. The blocks depend only on `rows` and `block_rows`, never on the thread
/// count, so a caller whose blocks each compute their own outputs gets the same results on
/// any number of threads. Pass `block_rows ≥ rows` for work too small to split.
///
/// Panics if `block_rows` is 0 or a slice's length is not a multiple of `rows`.
///
/// ```
/// use strata_tensor::for_each_block;
/// let (mut a, mut b) = (vec![1.0f32; 6], vec![0.0f32; 3]);
/// // 3 rows: two values per row of `a`, one per row of `b`; blocks of 2 rows.
/// for_each_block(3, 2, [&mut a, &mut b], |rows, [a, b]| {
///     for (i, row) in rows.enumerate() {
///         b[i] = a[2 * i] + a[2 * i + 1] + row as f32;
///     }
/// });
/// assert_eq!(b, vec![2.0, 3.0, 4.0]);
/// ```
#[track_caller]
pub fn for_each_block<const N: usize>(
    rows: usize,
    block_rows: usize,
    slices: [&mut [f32]; N],
    f: impl Fn(Range<usize>, [&mut [f32]; N]) + Sync,
) {
    assert!(
        block_rows > 0,
        "for_each_block: block_rows must be positive"
    );
    let widths: [usize; N] = std::array::from_fn(|k| {
        let len = slices[k].len();
        assert!(
            (rows == 0 && len == 0) || (rows > 0 && len % rows == 0),
            "for_each_block: slice {k} has {len} elements, not a whole number of {rows} rows"
        );
        len.checked_div(rows).unwrap_or(0)
    });
    let shared = slices.map(SharedMut::new);
    for_each_job(rows.div_ceil(block_rows), |block| {
        let range = block * block_rows..((block + 1) * block_rows).min(rows);
        // SAFETY: blocks are disjoint row ranges, so their parts of each slice are disjoint;
        // the slices are borrowed for the whole call.
        let parts = std::array::from_fn(|k| unsafe {
            shared[k].part(range.start * widths[k]..range.end * widths[k])
        });
        f(range, parts);
    });
}

/// Chunk length that splits `len` items into about four chunks per thread (at least `min`).
pub(crate) fn chunk_len(len: usize, min: usize) -> usize {
    len.div_ceil(num_threads().max(1) * 4).max(min)
}
