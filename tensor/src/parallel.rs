//! Thread count and the thresholds below which work stays on one thread.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Element-wise ops and reductions on fewer elements than this run on the calling thread:
/// below it, waking rayon's second worker costs more than it saves. Measured on this 2-core
/// Zen 3 with the `kernels` bench (`par_threshold`, an add, median times): a plain loop vs
/// the same loop split into 4 rayon chunks took 2.4 vs 16 µs at 16 K elements, 12 vs 22 µs
/// at 64 K, 25 vs 31 µs at 128 K, 51 vs 43 µs at 256 K and 246 vs 120 µs at 1 M. The split
/// costs ~15 µs, so it starts to pay between 128 K and 256 K.
pub const PAR_MIN_ELEMENTS: usize = 1 << 18;

/// Matrix products with fewer multiply-adds (`m·k·n`) than this run single-threaded: faer's
/// own cut-off (16 K) is far too eager on two cores. Measured with the `matmul` bench
/// (`matmul_threshold`, faer `Par::Seq` vs `Par::rayon(2)`, median times): 64³ 6.7 vs
/// 13 µs, 128³ 52 vs 80 µs, 160³ (4.1 M) 111 vs 111 µs, 192³ (7.1 M) 172 vs 153 µs,
/// 128×512×256 (16.8 M) 423 vs 344 µs; the thin products of a 10-wide output layer
/// (128×256×10 and its two gradients, 0.3 M) run 2-3× slower on two threads.
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
