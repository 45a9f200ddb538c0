//! The machine a benchmark ran on: processor, clock, cores, load, and the theoretical f32
//! peak that matmul throughput is measured against.

use serde::Serialize;

/// f32 operations per cycle and core with AVX2 and two FMA units (Zen 3, and most x86 cores
/// since Haswell): 2 FMA units × 8 lanes × 2 operations (multiply and add).
pub const FLOP_PER_CYCLE_PER_CORE: f64 = 32.0;

/// What `/proc/cpuinfo` and `/proc/loadavg` say (Linux); unknown fields stay empty.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// Processor name.
    pub cpu: String,
    /// Logical processors.
    pub cores: usize,
    /// Clock in MHz as reported (the mean over processors).
    pub mhz: Option<f64>,
    /// One-minute load average when the run started.
    pub load_at_start: Option<f64>,
}

impl Machine {
    /// Reads the machine's description.
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &'static str| {
            cpuinfo.lines().filter_map(move |line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == name).then(|| value.trim().to_string())
            })
        };
        let clocks: Vec<f64> = field("cpu MHz").filter_map(|v| v.parse().ok()).collect();
        Self {
            cpu: field("model name")
                .next()
                .unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mhz: (!clocks.is_empty()).then(|| clocks.iter().sum::<f64>() / clocks.len() as f64),
            load_at_start: load_average(),
        }
    }

    /// Theoretical f32 peak in GFLOP/s on `threads` cores at the reported clock.
    pub fn peak_gflops(&self, threads: usize) -> Option<f64> {
        self.mhz
            .map(|mhz| FLOP_PER_CYCLE_PER_CORE * mhz * 1e-3 * threads as f64)
    }
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
