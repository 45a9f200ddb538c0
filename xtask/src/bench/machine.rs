//! The machine a benchmark ran on: processor, cores, load, its widest f32 vector unit, and
//! the f32 peak that matmul throughput is measured against, measured rather than assumed.
//!
//! The peak is what a loop of independent fused multiply-adds on registers reaches, on each
//! of `t` cores at once: it includes the clock the cores really run at (a virtual machine's
//! `/proc/cpuinfo` shows the nominal clock, and turbo depends on how many cores are busy)
//! and the number of FMA units, which no CPUID bit states. It is measured with 256-bit AVX2
//! instructions; on a CPU with AVX-512 the products may use 512-bit kernels, whose peak the
//! workspace's minimum compiler cannot measure, so no share of peak is shown there, but the
//! AVX2 loop still tells whether the cores share their units ([`Machine::shared_units`]).

use serde::Serialize;

/// Independent accumulators in the FMA loop: enough to cover the FMA latency (4–5 cycles) on
/// two units, few enough to stay in the 16 vector registers with the two operands.
#[cfg(target_arch = "x86_64")]
const FMA_CHAINS: usize = 12;

/// Loop iterations per timed run of the FMA loop (12 chains × 8 lanes × 2 flops each):
/// about 40 ms on a 3 GHz core with two FMA units.
const FMA_ITERATIONS: u64 = 4_000_000;

/// Timed runs of the FMA loop per thread count; the best one is kept.
const FMA_RUNS: usize = 3;

/// What `/proc/cpuinfo` and `/proc/loadavg` say (Linux), and the measured peaks.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// Processor name.
    pub cpu: String,
    /// Logical processors.
    pub cores: usize,
    /// Clock in MHz as reported (the mean over processors; nominal in a virtual machine).
    pub mhz: Option<f64>,
    /// The widest f32 vector instructions the CPU has: `AVX-512F`, `AVX2+FMA` or `SSE2`.
    pub vector_isa: &'static str,
    /// Measured f32 peak in GFLOP/s (all cores together) by thread count, when measurable.
    pub peak_gflops: Vec<(usize, f64)>,
    /// One-minute load average when the run started.
    pub load_at_start: Option<f64>,
}

impl Machine {
    /// Reads the machine's description and measures its peak at each of `thread_counts`.
    pub fn detect(thread_counts: &[usize]) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &'static str| {
            cpuinfo.lines().filter_map(move |line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == name).then(|| value.trim().to_string())
            })
        };
        let clocks: Vec<f64> = field("cpu MHz").filter_map(|v| v.parse().ok()).collect();
        let load_at_start = load_average();
        let vector_isa = vector_isa();
        let peak_gflops = if has_avx2_fma() {
            thread_counts
                .iter()
                .filter_map(|&t| measured_peak(t).map(|peak| (t, peak)))
                .collect()
        } else {
            Vec::new()
        };
        Self {
            cpu: field("model name")
                .next()
                .unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mhz: (!clocks.is_empty()).then(|| clocks.iter().sum::<f64>() / clocks.len() as f64),
            vector_isa,
            peak_gflops,
            load_at_start,
        }
    }

    /// The measured peak with `threads` cores busy, GFLOP/s.
    pub fn peak(&self, threads: usize) -> Option<f64> {
        self.peak_gflops
            .iter()
            .find(|&&(t, _)| t == threads)
            .map(|&(_, peak)| peak)
    }

    /// The peak a product's throughput is a share of with `threads` busy: the FMA loop's,
    /// when that loop uses this CPU's widest vectors (not on AVX-512, whose products may
    /// run faster than it).
    pub fn product_peak(&self, threads: usize) -> Option<f64> {
        (self.vector_isa == "AVX2+FMA")
            .then(|| self.peak(threads))
            .flatten()
    }

    /// Thread counts whose measured peak is below [`SHARED_UNITS_BOUND`] of `threads` times
    /// the 1-thread peak, with their peak over the 1-thread peak: the virtual cores then
    /// share execution units (a host giving two vCPUs one physical core, or another job), and
    /// figures at those counts understate the machine.
    pub fn shared_units(&self) -> Vec<(usize, f64)> {
        let Some(single) = self.peak(1) else {
            return Vec::new();
        };
        self.peak_gflops
            .iter()
            .filter(|&&(t, peak)| t > 1 && peak < SHARED_UNITS_BOUND * t as f64 * single)
            .map(|&(t, peak)| (t, peak / single))
            .collect()
    }
}

/// Share of perfect scaling of the FMA peak below which cores count as sharing units: two
/// idle cores of this machine kind reached 2.04× (200.8 against 98.5 GFLOP/s), two vCPUs on
/// one physical core 1.0× (53.8 each, at 21:38 UTC on 2026-12-03).
const SHARED_UNITS_BOUND: f64 = 0.8;

/// The widest f32 vector instruction set of this CPU.
fn vector_isa() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return "AVX-512F";
        }
    }
    if has_avx2_fma() {
        "AVX2+FMA"
    } else {
        "SSE2"
    }
}

/// Whether this CPU runs the AVX2 FMA loop of [`measured_peak`].
fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// GFLOP/s of the AVX2 FMA loop on `threads` threads at once (the sum), best of a few runs.
fn measured_peak(threads: usize) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        let flops_per_thread = FMA_ITERATIONS as f64 * (FMA_CHAINS * 8 * 2) as f64;
        let best = (0..FMA_RUNS)
            .map(|_| {
                let started = std::time::Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..threads {
                        // SAFETY: only called when `has_avx2_fma` found AVX2 and FMA.
                        scope.spawn(|| std::hint::black_box(unsafe { fma_loop(FMA_ITERATIONS) }));
                    }
                });
                started.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        Some(threads as f64 * flops_per_thread / best * 1e-9)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = threads;
        None
    }
}

/// `iterations` rounds of one FMA on each of [`FMA_CHAINS`] independent 8-lane accumulators.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_loop(iterations: u64) -> f32 {
    use std::arch::x86_64::{_mm256_add_ps, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_storeu_ps};
    // x ← x·a + b converges to b / (1 − a): the values stay finite for any iteration count.
    let a = _mm256_set1_ps(0.5);
    let b = _mm256_set1_ps(std::hint::black_box(1.0));
    let mut acc = [_mm256_set1_ps(0.0); FMA_CHAINS];
    for _ in 0..iterations {
        for x in &mut acc {
            *x = _mm256_fmadd_ps(*x, a, b);
        }
    }
    let total = acc
        .iter()
        .fold(_mm256_set1_ps(0.0), |s, &x| _mm256_add_ps(s, x));
    let mut lanes = [0.0f32; 8];
    // SAFETY: `lanes` holds 8 floats.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), total) };
    lanes.iter().sum()
}

/// The one-minute load average.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(peaks: Vec<(usize, f64)>) -> Machine {
        Machine {
            cpu: "test".into(),
            cores: 4,
            mhz: None,
            vector_isa: "AVX2+FMA",
            peak_gflops: peaks,
            load_at_start: None,
        }
    }

    #[test]
    fn thread_counts_without_their_own_fma_units_are_named() {
        let m = machine(vec![(1, 100.0), (2, 107.6), (4, 390.0)]);
        let shared = m.shared_units();
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].0, 2);
        assert!((shared[0].1 - 1.076).abs() < 1e-12);
        assert!(machine(vec![(1, 98.5), (2, 200.8)])
            .shared_units()
            .is_empty());
        assert!(machine(Vec::new()).shared_units().is_empty());
    }

    #[test]
    fn on_avx512_the_avx2_peak_checks_the_cores_but_bounds_no_product() {
        let avx2 = machine(vec![(1, 100.0), (2, 53.8 * 2.0)]);
        assert_eq!(avx2.product_peak(2), Some(107.6));
        let avx512 = Machine {
            vector_isa: "AVX-512F",
            ..avx2
        };
        assert_eq!(avx512.product_peak(1), None);
        assert_eq!(avx512.peak(1), Some(100.0));
        assert_eq!(avx512.shared_units().len(), 1);
    }
}
