//! Running a loop compiled for the CPU's wider vector instructions.
//!
//! The crate is built for baseline x86-64 (SSE2: 4 f32 lanes, no FMA), so a plain loop is
//! vectorised 4 lanes wide. [`with_avx2`] runs a closure inside a function compiled with
//! AVX2 and FMA enabled, when the CPU has them: the closure's body, inlined there, is
//! vectorised 8 lanes wide with fused multiply-adds. (AVX-512 would need a newer compiler
//! than the workspace's minimum.)

/// Runs `f`, compiled for AVX2 and FMA when this CPU has them (else as it is).
///
/// Mark the closure `#[inline(always)]` (and its callees `#[inline]`) so that it is compiled
/// into the wide version rather than called from it.
/// The results are those of the baseline build: Rust never fuses or reorders float
/// operations by itself (`mul_add` is exact either way).
///
/// ```
/// use strata_tensor::with_avx2;
/// let x = vec![1.5f32; 1000];
/// let sum: f32 = with_avx2(#[inline(always)] || x.iter().map(|v| v * v).sum());
/// assert_eq!(sum, 2250.0);
/// ```
#[inline(always)]
pub fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features `wide` is compiled for.
        return unsafe { wide(f) };
    }
    f()
}

/// `f()` in a function compiled for AVX2 and FMA, so that `f`'s inlined body is too.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn wide<R>(f: impl FnOnce() -> R) -> R {
    f()
}
