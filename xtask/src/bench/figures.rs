//! The headline figures of the report: which criterion benchmark gives each one (at each
//! thread count, or once), which bench target holds it, and how to read it.

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
    /// Criterion's median time in microseconds (lower is better).
    Microseconds,
}

impl Metric {
    /// The unit shown in the report.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Gflops => "GFLOP/s",
            Self::SamplesPerSecond => "samples/s",
            Self::Microseconds => "µs",
        }
    }

    /// Whether a larger value is better (a rate) rather than worse (a time).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Self::Microseconds)
    }
}

/// Where a figure's benchmarks are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Benchmarks {
    /// One benchmark per thread count: the id with `{t}` replaced by the count.
    PerThreadCount(&'static str),
    /// One benchmark, run at the given thread count.
    Once(&'static str, usize),
}

/// A headline figure.
pub struct Figure {
    /// Key in the JSON report and in the PyTorch script's output.
    pub key: &'static str,
    /// What is measured, for the Markdown table.
    pub label: &'static str,
    /// How to read it.
    pub metric: Metric,
    /// The criterion benchmark ids.
    pub benchmarks: Benchmarks,
    /// What the thread count means here, when it is not the tensor kernels' thread count.
    pub threads_note: Option<&'static str>,
}

impl Figure {
    /// The `(threads, criterion id)` pairs of this figure among `thread_counts`.
    pub fn ids(&self, thread_counts: &[usize]) -> Vec<(usize, String)> {
        match self.benchmarks {
            Benchmarks::PerThreadCount(pattern) => thread_counts
                .iter()
                .map(|&t| (t, pattern.replace("{t}", &t.to_string())))
                .collect(),
            Benchmarks::Once(id, threads) => vec![(threads, id.to_string())],
        }
    }
}

/// The bench targets to run.
pub const SUITES: [Suite; 6] = [
    Suite {
        package: "strata-tensor",
        bench: "matmul",
        filter: "^matmul/1024x1024x1024/strata/",
    },
    Suite {
        package: "strata-modules",
        bench: "train_step",
        filter:
            "^(mlp_784_512_256_10_adam/threads[0-9]+/(32|128|256)|tiny_mlp_2_64_64_2_batch32_step)$",
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
        package: "strata-modules",
        bench: "transformer",
        filter: "^transformer_encoder_d128_h4_ff512_t64_b32_fwd_bwd/",
    },
    Suite {
        package: "strata-datasets",
        bench: "loader",
        filter: "^loader_epoch_60000x784_b128_shuffled/",
    },
];

/// The figures of the report, in order.
pub const FIGURES: [Figure; 10] = [
    Figure {
        key: "matmul_1024",
        label: "f32 matmul 1024x1024 · 1024x1024",
        metric: Metric::Gflops,
        benchmarks: Benchmarks::PerThreadCount("matmul/1024x1024x1024/strata/{t}t"),
        threads_note: None,
    },
    Figure {
        key: "mlp_train_b32",
        label: "MLP 784-512-256-10 training, batch 32, Adam",
        metric: Metric::SamplesPerSecond,
        benchmarks: Benchmarks::PerThreadCount("mlp_784_512_256_10_adam/threads{t}/32"),
        threads_note: None,
    },
    Figure {
        key: "mlp_train",
        label: "MLP 784-512-256-10 training, batch 128, Adam",
        metric: Metric::SamplesPerSecond,
        benchmarks: Benchmarks::PerThreadCount("mlp_784_512_256_10_adam/threads{t}/128"),
        threads_note: None,
    },
    Figure {
        key: "mlp_train_b256",
        label: "MLP 784-512-256-10 training, batch 256, Adam",
        metric: Metric::SamplesPerSecond,
        benchmarks: Benchmarks::PerThreadCount("mlp_784_512_256_10_adam/threads{t}/256"),
        threads_note: None,
    },
    Figure {
        key: "lenet_train",
        label: "LeNet-5 training, batch 64, Adam",
        metric: Metric::SamplesPerSecond,
        benchmarks: Benchmarks::PerThreadCount("lenet5_batch64_adam/threads/{t}"),
        threads_note: None,
    },
    Figure {
        key: "lstm_step",
        label: "LSTM 128-128, batch 32, 50 steps, forward + backward",
        metric: Metric::SamplesPerSecond,
        benchmarks: Benchmarks::PerThreadCount("lstm_b32_t50_i128_h128_fwd_bwd/fused/{t}"),
        threads_note: Some("samples are sequences of 50 steps"),
    },
    Figure {
        key: "transformer_step",
        label: "Transformer encoder layer 128 (4 heads, ff 512), batch 32, 64 tokens, forward + backward",
        metric: Metric::SamplesPerSecond,
        benchmarks: Benchmarks::PerThreadCount(
            "transformer_encoder_d128_h4_ff512_t64_b32_fwd_bwd/{t}",
        ),
        threads_note: Some("samples are sequences of 64 tokens"),
    },
    Figure {
        key: "tiny_mlp_step",
        label: "Tiny MLP 2-64-64-2 training step, batch 32, Adam",
        metric: Metric::Microseconds,
        benchmarks: Benchmarks::Once("tiny_mlp_2_64_64_2_batch32_step", 1),
        threads_note: Some("one thread: the step is per-op overhead, too small to split"),
    },
    Figure {
        key: "loader",
        label: "DataLoader epoch, 60,000 x 784, batch 128, shuffled, batches built inline",
        metric: Metric::SamplesPerSecond,
        benchmarks: Benchmarks::Once("loader_epoch_60000x784_b128_shuffled/no_prefetch", 1),
        threads_note: None,
    },
    Figure {
        key: "loader_prefetch",
        label: "DataLoader epoch, same, with the prefetch worker (depth 2)",
        metric: Metric::SamplesPerSecond,
        benchmarks: Benchmarks::Once("loader_epoch_60000x784_b128_shuffled/prefetch_2", 2),
        threads_note: Some("2 = the caller and the prefetch worker"),
    },
];
