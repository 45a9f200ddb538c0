//! Running a loop compiled for the CPU's wider vector instructions, or with subnormal
//! floats flushed to zero.
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

/// Runs `f` with subnormal floats flushed to zero: on x86-64 the MXCSR's flush-to-zero and
/// denormals-are-zero bits are set for the call (on this thread) and restored after it,
/// also when `f` panics. Elsewhere `f` simply runs.
///
/// A subnormal input or result costs ~100 cycles on x86 cores (a microcode assist); update
/// loops whose moments decay towards zero meet them in every step once training has
/// converged (a tiny MLP's Adam update ran 2.5× slower for it). Values below `f32`'s
/// normal range (1.2e-38) then count as zero.
///
/// ```
/// use strata_tensor::with_flushed_subnormals;
/// let tiny = std::hint::black_box(1e-30f32);
/// assert_eq!(with_flushed_subnormals(|| tiny * 1e-10), 0.0);
/// assert!(tiny * 1e-10 > 0.0); // restored: the product is a subnormal again
/// ```
pub fn with_flushed_subnormals<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        let _restore = mxcsr::FlushGuard::set();
        f()
    }
    #[cfg(not(target_arch = "x86_64"))]
    f()
}

#[cfg(target_arch = "x86_64")]
mod mxcsr {
    use std::arch::asm;

    /// MXCSR bits: flush-to-zero (results) and denormals-are-zero (inputs).
    const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

    fn read() -> u32 {
        let mut csr = 0u32;
        // SAFETY: stores the MXCSR into a local.
        unsafe { asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags)) };
        csr
    }

    fn write(csr: u32) {
        // SAFETY: loads a control word read from the MXCSR with only the FTZ/DAZ bits
        // changed, which are valid on every x86-64 CPU.
        unsafe { asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags)) };
    }

    /// Sets FTZ and DAZ until dropped, then restores the previous control word.
    pub(super) struct FlushGuard(u32);

    impl FlushGuard {
        pub(super) fn set() -> Self {
            let previous = read();
            write(previous | FTZ_DAZ);
            Self(previous)
        }
    }

    impl Drop for FlushGuard {
        fn drop(&mut self) {
            write(self.0);
        }
    }
}
