//! Thread count and the thresholds below which work stays on one thread.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Element-wise ops and reductions on fewer elements than this run on the calling thread:
/// below it, handing work to rayon costs more than it saves (measured with the
/// `kernels` bench: a 64 K-element add takes ~10 µs on one core, rayon's fork-join ~5 µs).
pub const PAR_MIN_ELEMENTS: usize = 1 << 17;

/// Matrix products with fewer multiply-adds than this run single-threaded: faer's own cut-off
/// (16 K) is too eager on two cores, where splitting a thin product (the 10-wide output
/// layer of an MLP) across threads runs slower than one thread.
pub const MATMUL_PAR_MIN_FLOPS: usize = 1 << 22;

/// 0 means "not set in code": follow the rayon pool (and so `RAYON_NUM_THREADS`).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Number of threads tensor kernels may use: the value given to [`set_num_threads`], else the
/// size of the current rayon pool (which follows `RAYON_NUM_THREADS`).
pub fn num_threads() -> usize {
    let pool = rayon::current_num_threads();
    match THREADS.load(Ordering::Relaxed) {
        0 => pool,
        n => n.min(pool),
    }
}

/// Sets the number of threads tensor kernels may use (1 = everything on the calling thread).
///
/// When called before anything has used rayon, this also builds rayon's global pool, with
/// `n` threads or its default size (`RAYON_NUM_THREADS`, else one per core), whichever is
/// larger: so more threads than cores can be requested, and a count lowered to 1 can be
/// raised again later. Once the pool exists, the count is capped by its size.
/// `0` returns to the default (the pool's size).
pub fn set_num_threads(n: usize) {
    if n > 0 {
        // Fails harmlessly when the global pool already exists.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(default_pool_size()))
            .build_global();
    }
    THREADS.store(n, Ordering::Relaxed);
}

/// The size rayon gives its global pool by default.
fn default_pool_size() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Whether an element-wise pass over `len` elements should be split across threads.
pub(crate) fn parallel_elements(len: usize) -> bool {
    len >= PAR_MIN_ELEMENTS && num_threads() > 1
}

/// The faer parallelism for a product of `m × k` by `k × n`.
pub(crate) fn matmul_par(m: usize, n: usize, k: usize) -> faer::Par {
    let threads = num_threads();
    if threads > 1 && m.saturating_mul(n).saturating_mul(k) >= MATMUL_PAR_MIN_FLOPS {
        faer::Par::rayon(threads)
    } else {
        faer::Par::Seq
    }
}

/// Chunk length that splits `len` items into about one chunk per thread (at least `min`).
pub(crate) fn chunk_len(len: usize, min: usize) -> usize {
    len.div_ceil(num_threads().max(1) * 4).max(min)
}
