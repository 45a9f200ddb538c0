//! The headline figures of the report: which criterion benchmark gives each one at 1 and 2
//! threads, which bench target holds it, and how to read it.

/// One `cargo bench` run: a bench target and the criterion filter (a regular expression)
/// that selects the headline benchmarks in it.
pub struct Suite {
    /// Package holding the bench target.
    pub package: &'static str,
    /// Bench target (file name under `benches/`).
    pub bench: &'static str,
    /// Criterion filter.
    pub filter: &'static str,
}

/// How a figure is read from a benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Criterion's throughput (elements per second) divided by `1e9`: GFLOP/s when the
    /// benchmark declares one element per flop.
    Gflops,
    /// Criterion's throughput: examples per second.
    SamplesPerSecond,
}

impl Metric {
    /// The unit shown in the report.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Gflops => "GFLOP/s",
            Self::SamplesPerSecond => "samples/s",
        }
    }
}

/// A headline figure.
pub struct Figure {
    /// Key in the JSON report and in the PyTorch script's output.
    pub key: &'static str,
    /// What is measured, for the Markdown table.
    pub label: &'static str,
    /// How to read it.
    pub metric: Metric,
    /// The criterion benchmark id at each thread count.
    pub benchmarks: [(usize, &'static str); 2],
    /// What the thread count means here, when it is not the tensor kernels' thread count.
    pub threads_note: Option<&'static str>,
}

/// The bench targets to run.
pub const SUITES: [Suite; 5] = [
    Suite {
        package: "strata-tensor",
        bench: "matmul",
        filter: "^matmul/1024x1024x1024/strata/",
    },
    Suite {
        package: "strata-modules",
        bench: "train_step",
        filter: "^mlp_784_512_256_10_adam/threads[12]/128$",
    },
    Suite {
        package: "strata-modules",
        bench: "lenet",
        filter: "^lenet5_batch64_adam/threads/",
    },
    Suite {
        package: "strata-modules",
        bench: "lstm",
        filter: "^lstm_b32_t50_i128_h128_fwd_bwd/fused/",
    },
    Suite {
        package: "strata-datasets",
        bench: "loader",
        filter: "^loader_epoch_60000x784_b128_shuffled/",
    },
];

/// The figures of the report, in order.
pub const FIGURES: [Figure; 5] = [
    Figure {
        key: "matmul_1024",
        label: "f32 matmul 1024x1024 · 1024x1024",
        metric: Metric::Gflops,
        benchmarks: [
            (1, "matmul/1024x1024x1024/strata/1t"),
            (2, "matmul/1024x1024x1024/strata/2t"),
        ],
        threads_note: None,
    },
    Figure {
        key: "mlp_train",
        label: "MLP 784-512-256-10 training, batch 128, Adam",
        metric: Metric::SamplesPerSecond,
        benchmarks: [
            (1, "mlp_784_512_256_10_adam/threads1/128"),
            (2, "mlp_784_512_256_10_adam/threads2/128"),
        ],
        threads_note: None,
    },
    Figure {
        key: "lenet_train",
        label: "LeNet-5 training, batch 64, Adam",
        metric: Metric::SamplesPerSecond,
        benchmarks: [
            (1, "lenet5_batch64_adam/threads/1"),
            (2, "lenet5_batch64_adam/threads/2"),
        ],
        threads_note: None,
    },
    Figure {
        key: "lstm_step",
        label: "LSTM 128-128, batch 32, 50 steps, forward + backward",
        metric: Metric::SamplesPerSecond,
        benchmarks: [
            (1, "lstm_b32_t50_i128_h128_fwd_bwd/fused/1"),
            (2, "lstm_b32_t50_i128_h128_fwd_bwd/fused/2"),
        ],
        threads_note: Some("samples are sequences of 50 steps"),
    },
    Figure {
        key: "loader",
        label: "DataLoader epoch, 60,000 x 784, batch 128, shuffled",
        metric: Metric::SamplesPerSecond,
        benchmarks: [
            (1, "loader_epoch_60000x784_b128_shuffled/no_prefetch"),
            (2, "loader_epoch_60000x784_b128_shuffled/prefetch_2"),
        ],
        threads_note: Some(
            "1 = batches built on the caller's thread, 2 = with the prefetch worker",
        ),
    },
];
