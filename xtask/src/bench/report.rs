//! The benchmark report: the headline figures at each thread count with their speed-up and
//! parallel efficiency, beside PyTorch's when it ran in the same sitting; the first-loss
//! agreement; the scaling analysis; and the machine they ran on, as Markdown (for people and
//! the README) and JSON (for tools).

use super::criterion::Measurement;
use super::figures::{Benchmarks, Metric, FIGURES};
use super::first_loss::FirstLoss;
use super::machine::Machine;
use super::pytorch::PytorchResults;
use super::scaling::{Scaling, PROJECTED_THREADS};
use serde::Serialize;
use std::collections::HashMap;

/// One figure at one thread count.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Figure key.
    pub key: &'static str,
    /// What is measured.
    pub label: &'static str,
    /// Unit of the values.
    pub unit: &'static str,
    /// Threads.
    pub threads: usize,
    /// The criterion benchmark id.
    pub benchmark: String,
    /// Strata's value (`None` when the benchmark did not run).
    pub strata: Option<f64>,
    /// Share of the measured peak at this thread count, for GFLOP/s figures.
    pub percent_of_peak: Option<f64>,
    /// Strata's speed at this thread count over its speed at one thread.
    pub strata_speedup: Option<f64>,
    /// PyTorch's value in the same sitting.
    pub pytorch: Option<f64>,
    /// PyTorch's speed at this thread count over its speed at one thread.
    pub pytorch_speedup: Option<f64>,
    /// Strata's speed over PyTorch's (above 1: Strata is faster).
    pub speed_ratio: Option<f64>,
    /// The smallest and largest of that ratio over the sitting's rounds, when it had several.
    pub ratio_range: Option<(f64, f64)>,
}

/// Everything the report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `quick` or `full`.
    pub mode: &'static str,
    /// Rounds of the sitting (`--rounds`): each figure is the median over them.
    pub rounds: usize,
    /// The commit measured (`git describe --always --dirty`).
    pub commit: String,
    /// The machine.
    pub machine: Machine,
    /// Thread counts asked for with `--threads`.
    pub threads_requested: Vec<usize>,
    /// Those this machine allows (at most one per core), which ran.
    pub threads_run: Vec<usize>,
    /// One-minute load average when the run ended.
    pub load_at_end: Option<f64>,
    /// The figures.
    pub rows: Vec<Row>,
    /// First-batch losses of the reference problems.
    pub first_losses: Vec<FirstLoss>,
    /// Serial share and projected speed-ups of the training workloads.
    pub scaling: Vec<Scaling>,
    /// PyTorch's raw results, when compared.
    pub pytorch: Option<PytorchResults>,
    /// Bench targets that failed to run.
    pub failed_suites: Vec<String>,
}

impl Report {
    /// The rows of every figure at `thread_counts` from criterion's results (and PyTorch's).
    pub fn rows(
        results: &HashMap<String, Measurement>,
        machine: &Machine,
        pytorch: Option<&PytorchResults>,
        thread_counts: &[usize],
    ) -> Vec<Row> {
        FIGURES
            .iter()
            .flat_map(|figure| {
                let ids = figure.ids(thread_counts);
                let value = |id: &str| results.get(id).and_then(|m| read(figure.metric, m));
                let strata_1 = ids
                    .iter()
                    .find(|(t, _)| *t == 1)
                    .and_then(|(_, id)| value(id));
                let pytorch_of = |t: usize| pytorch.and_then(|p| p.figure(figure.key, t));
                let scaled = matches!(figure.benchmarks, Benchmarks::PerThreadCount(_));
                ids.iter()
                    .map(|(threads, id)| {
                        let strata = value(id);
                        let pytorch = pytorch_of(*threads);
                        Row {
                            key: figure.key,
                            label: figure.label,
                            unit: figure.metric.unit(),
                            threads: *threads,
                            benchmark: id.clone(),
                            strata,
                            percent_of_peak: (figure.metric == Metric::Gflops)
                                .then(|| strata.zip(machine.product_peak(*threads)))
                                .flatten()
                                .map(|(value, peak)| 100.0 * value / peak),
                            strata_speedup: scaled
                                .then(|| speedup(figure.metric, strata, strata_1))
                                .flatten(),
                            pytorch_speedup: scaled
                                .then(|| speedup(figure.metric, pytorch, pytorch_of(1)))
                                .flatten(),
                            speed_ratio: speedup(figure.metric, strata, pytorch),
                            ratio_range: None,
                            pytorch,
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Benchmarks that produced no result.
    pub fn missing(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|row| row.strata.is_none())
            .map(|row| row.benchmark.as_str())
            .collect()
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::from("# Strata benchmark report\n\n");
        md += &self.header();
        md += &self.figures_table();
        md += &self.first_loss_table();
        md += &self.scaling_section();
        if let Some(pytorch) = &self.pytorch {
            md += &format!(
                "\nPyTorch {} ran `xtask/pytorch/compare.py` in the same sitting, at the same \
                 thread counts (`torch.set_num_threads`).\n",
                pytorch.torch
            );
        }
        if !self.failed_suites.is_empty() {
            md += &format!("\nFailed to run: {}.\n", self.failed_suites.join(", "));
        }
        md
    }

    fn header(&self) -> String {
        let list = |counts: &[usize]| {
            counts
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let m = &self.machine;
        let mut md = format!(
            "`cargo xtask bench{}{}` on commit `{}`: {}, {} logical cores ({} MHz reported), widest \
             f32 vectors {}. Load average {} at the start, {} at the end. Figures are criterion \
             medians.{}\n\n",
            if self.mode == "quick" { " --quick" } else { "" },
            if self.rounds > 1 { format!(" --rounds {}", self.rounds) } else { String::new() },
            self.commit,
            m.cpu,
            m.cores,
            m.mhz.map_or("unknown".into(), |mhz| format!("{mhz:.0}")),
            m.vector_isa,
            optional(m.load_at_start, 2),
            optional(self.load_at_end, 2),
            match (self.rounds > 1, self.pytorch.is_some()) {
                (false, _) => String::new(),
                (true, false) => format!(
                    " The sitting ran {} rounds; each figure is the median over the rounds.",
                    self.rounds
                ),
                (true, true) => format!(
                    " The sitting ran {} rounds, Strata's benchmarks and PyTorch's script in \
                     alternating order (Strata first, then PyTorch first, …); each figure is the \
                     median over the rounds, and the Strata / PyTorch ratio's range across the \
                     rounds is in brackets.",
                    self.rounds
                ),
            },
        );
        if self.threads_run != self.threads_requested {
            md += &format!(
                "Threads: {} asked for; this machine has {} cores, so {} ran.\n\n",
                list(&self.threads_requested),
                m.cores,
                list(&self.threads_run)
            );
        }
        let peaks = m
            .peak_gflops
            .iter()
            .map(|(t, p)| format!("{p:.1} on {t} thread{}", if *t == 1 { "" } else { "s" }))
            .collect::<Vec<_>>()
            .join(", ");
        md += &if m.peak_gflops.is_empty() {
            "No peak is measured: this CPU lacks the AVX2 and FMA instructions of the peak \
             loop.\n\n"
                .to_string()
        } else if m.product_peak(1).is_none() {
            format!(
                "A loop of independent AVX2 fused multiply-adds on every busy core reached, in \
                 GFLOP/s, {peaks}. No share of that peak is shown: this CPU's widest vectors are {} \
                 (products may run faster than that loop).\n\n",
                m.vector_isa
            )
        } else {
            format!(
                "Peak f32 throughput, measured with a loop of independent AVX2 fused multiply-adds \
                 on every busy core (so at the clock the cores really run, with the FMA units they \
                 really have): {peaks} GFLOP/s.\n\n"
            )
        };
        for (threads, speedup) in m.shared_units() {
            md += &format!(
                "**Warning**: with {threads} threads busy the peak was only {speedup:.2}× the \
                 1-thread peak: the cores shared their FMA units when it was measured (a host \
                 scheduling the virtual cores on one physical core, or another job), so the \
                 figures at {threads} threads understate this machine.\n\n"
            );
        }
        md
    }

    fn figures_table(&self) -> String {
        let compared = self.pytorch.is_some();
        let mut md = String::from("| Figure | Threads | Strata | Speed-up (efficiency) |");
        md += if compared {
            " PyTorch | Speed-up (efficiency) | Strata speed / PyTorch |\n\
             |---|---:|---:|---:|---:|---:|---:|\n"
        } else {
            "\n|---|---:|---:|---:|\n"
        };
        for row in &self.rows {
            md += &format!(
                "| {} ({}) | {} | {} | {} |",
                row.label,
                row.unit,
                row.threads,
                strata_cell(row),
                scaling_cell(row.strata_speedup, row.threads)
            );
            if compared {
                md += &format!(
                    " {} | {} | {} |",
                    optional(row.pytorch, decimals(row)),
                    scaling_cell(row.pytorch_speedup, row.threads),
                    ratio_cell(row)
                );
            }
            md += "\n";
        }
        let notes: Vec<String> = FIGURES
            .iter()
            .filter_map(|f| f.threads_note.map(|note| format!("{}: {note}.", f.label)))
            .collect();
        md += &format!(
            "\nSpeed-up: speed at that thread count over speed at one thread; efficiency: \
             speed-up over threads. {}\n",
            notes.join(" ")
        );
        md
    }

    fn first_loss_table(&self) -> String {
        let compared = self.pytorch.is_some();
        let mut md = String::from(
            "\n## First-batch loss on the reference problems (same data, same initial weights)\n\n",
        );
        md += "| Model | Strata | PyTorch (published) |";
        md += if compared {
            " PyTorch (this run) | |Strata - PyTorch| |\n|---|---:|---:|---:|---:|\n"
        } else {
            " |Strata - PyTorch| |\n|---|---:|---:|---:|\n"
        };
        for loss in &self.first_losses {
            let measured = self
                .pytorch
                .as_ref()
                .and_then(|p| p.first_loss.get(loss.key).copied());
            let reference = measured.unwrap_or(loss.published);
            md += &format!(
                "| {} | {:.7} | {:.7} |",
                loss.label, loss.strata, loss.published
            );
            if compared {
                md += &format!(" {} |", optional(measured, 7));
            }
            md += &format!(" {:.1e} |\n", (loss.strata - reference).abs());
        }
        md
    }

    fn scaling_section(&self) -> String {
        let Some(first) = self.scaling.first() else {
            return String::new();
        };
        let p = first.threads;
        let mut md = format!(
            "\n## Scaling analysis (a projection, not a measurement)\n\n\
             Each step ran at 1 thread and at {p}; at {p} threads strata-tensor timed the work \
             split across threads (products above the threshold, large element-wise passes, \
             optimizer blocks, the recurrence's row blocks). The rest of the step is serial: it \
             ran on one thread while the others waited. Amdahl's law bounds the speed-up on n \
             threads by T1 / (S + (T1 - S)/n); that bound assumes the split work itself scales \
             perfectly, which it does not (its measured speed-up at {p} threads is shown), and \
             that a machine with more cores has the same cores and memory.\n\n\
             | Workload | Step at 1 thread (ms) | Serial part S (ms) | Serial share | \
             Split work speed-up at {p} | Measured step speed-up at {p} |"
        );
        for n in PROJECTED_THREADS {
            md += &format!(" Projected bound at {n} |");
        }
        md += "\n|---|---:|---:|---:|---:|---:|";
        md += &"---:|".repeat(PROJECTED_THREADS.len());
        md += "\n";
        for s in &self.scaling {
            md += &format!(
                "| {} | {:.3} | {:.3} | {:.1}% | {:.2} | {:.2} |",
                s.label,
                s.step_ms_1,
                s.serial_ms,
                100.0 * s.serial_share,
                s.region_speedup,
                s.step_ms_1 / s.step_ms_p
            );
            for (_, bound) in &s.projected_speedup {
                md += &format!(" {bound:.1} |");
            }
            md += "\n";
        }
        md += "\nThe LSTM's batch of 32 splits into at most 4 blocks of 8 rows per step, so its \
               recurrence cannot use more than 4 threads whatever the bound says.\n";
        md
    }
}

/// A measurement in the figure's unit.
fn read(metric: Metric, m: &Measurement) -> Option<f64> {
    match metric {
        Metric::Gflops => m.per_second().map(|flops| flops * 1e-9),
        Metric::SamplesPerSecond => m.per_second(),
        Metric::Microseconds => Some(m.median_ns * 1e-3),
    }
}

/// How many times faster `value` is than `base`, in the figure's sense of faster.
fn speedup(metric: Metric, value: Option<f64>, base: Option<f64>) -> Option<f64> {
    let (value, base) = value.zip(base)?;
    Some(if metric.higher_is_better() {
        value / base
    } else {
        base / value
    })
}

/// Decimals that suit a row's unit.
fn decimals(row: &Row) -> usize {
    match row.unit {
        "samples/s" => 0,
        _ => 1,
    }
}

/// The Strata / PyTorch ratio, with its range over the rounds when there were several.
fn ratio_cell(row: &Row) -> String {
    match (row.speed_ratio, row.ratio_range) {
        (None, _) => "-".into(),
        (Some(ratio), Some((low, high))) if low != high => {
            format!("{ratio:.2} ({low:.2}–{high:.2})")
        }
        (Some(ratio), _) => format!("{ratio:.2}"),
    }
}

fn strata_cell(row: &Row) -> String {
    let value = optional(row.strata, decimals(row));
    match row.percent_of_peak {
        Some(percent) => format!("{value} ({percent:.0}% of peak)"),
        None => value,
    }
}

fn scaling_cell(speedup: Option<f64>, threads: usize) -> String {
    speedup.map_or("-".into(), |s| {
        format!("{s:.2} ({:.0}%)", 100.0 * s / threads as f64)
    })
}

fn optional(value: Option<f64>, decimals: usize) -> String {
    value.map_or("-".into(), |v| format!("{v:.decimals$}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn measured(id: &str, elements: Option<f64>, median_ns: f64) -> (String, Measurement) {
        (
            id.to_string(),
            Measurement {
                median_ns,
                elements,
            },
        )
    }

    #[test]
    fn rows_carry_rates_peak_shares_speed_ups_and_ratios() {
        // 2^31 flops in 67.108864 ms: 32 GFLOP/s, half a measured 64 GFLOP/s peak; twice as
        // fast at 2 threads, against a 120 GFLOP/s peak there.
        let results: HashMap<String, Measurement> = [
            measured(
                "matmul/1024x1024x1024/strata/1t",
                Some(2_147_483_648.0),
                67_108_864.0,
            ),
            measured(
                "matmul/1024x1024x1024/strata/2t",
                Some(2_147_483_648.0),
                33_554_432.0,
            ),
            measured(
                "mlp_784_512_256_10_adam/threads1/128",
                Some(128.0),
                8_000_000.0,
            ),
            measured(
                "mlp_784_512_256_10_adam/threads2/128",
                Some(128.0),
                5_000_000.0,
            ),
            measured("tiny_mlp_2_64_64_2_batch32_step", None, 25_000.0),
        ]
        .into_iter()
        .collect();
        let machine = Machine {
            cpu: "test".into(),
            cores: 2,
            mhz: Some(2000.0),
            vector_isa: "AVX2+FMA",
            peak_gflops: vec![(1, 64.0), (2, 120.0)],
            load_at_start: None,
        };
        let pytorch = PytorchResults {
            torch: "test".into(),
            figures: BTreeMap::from([
                (
                    "mlp_train".to_string(),
                    BTreeMap::from([("1".to_string(), 8_000.0), ("2".to_string(), 12_000.0)]),
                ),
                (
                    "tiny_mlp_step".to_string(),
                    BTreeMap::from([("1".to_string(), 100.0)]),
                ),
            ]),
            first_loss: BTreeMap::new(),
        };
        let rows = Report::rows(&results, &machine, Some(&pytorch), &[1, 2]);
        let find = |key: &str, threads: usize| {
            rows.iter()
                .find(|r| r.key == key && r.threads == threads)
                .expect("a row per figure and thread count")
        };
        let matmul = find("matmul_1024", 1);
        assert!((matmul.strata.expect("measured") - 32.0).abs() < 1e-9);
        assert!((matmul.percent_of_peak.expect("a peak") - 50.0).abs() < 1e-9);
        let matmul_2 = find("matmul_1024", 2);
        assert!((matmul_2.strata_speedup.expect("a speed-up") - 2.0).abs() < 1e-9);
        assert!((matmul_2.percent_of_peak.expect("a peak") - 100.0 * 64.0 / 120.0).abs() < 1e-9);

        let mlp = find("mlp_train", 1);
        // 128 samples in 8 ms: 16,000 samples/s, twice PyTorch's 8,000.
        assert!((mlp.strata.expect("measured") - 16_000.0).abs() < 1e-6);
        assert_eq!(mlp.speed_ratio, Some(2.0));
        let mlp_2 = find("mlp_train", 2);
        // 25,600 samples/s: 1.6x the 1-thread speed; PyTorch 1.5x; ratio 25,600 / 12,000.
        assert!((mlp_2.strata_speedup.expect("a speed-up") - 1.6).abs() < 1e-9);
        assert!((mlp_2.pytorch_speedup.expect("a speed-up") - 1.5).abs() < 1e-9);
        assert!((mlp_2.speed_ratio.expect("a ratio") - 25_600.0 / 12_000.0).abs() < 1e-9);

        // A time: 25 µs against PyTorch's 100 µs is 4 times the speed; no speed-up column.
        let tiny = find("tiny_mlp_step", 1);
        assert!((tiny.strata.expect("measured") - 25.0).abs() < 1e-9);
        assert_eq!(tiny.speed_ratio, Some(4.0));
        assert_eq!(tiny.strata_speedup, None);
        assert_eq!(find("mlp_train_b32", 2).strata, None);

        let report = Report {
            rounds: 1,
            mode: "quick",
            commit: "abc".into(),
            threads_requested: vec![1, 2, 4],
            threads_run: vec![1, 2],
            rows,
            machine,
            load_at_end: None,
            first_losses: Vec::new(),
            scaling: Vec::new(),
            pytorch: Some(pytorch),
            failed_suites: Vec::new(),
        };
        let markdown = report.markdown();
        assert!(
            markdown.contains("| 1 | 32.0 (50% of peak) | 1.00 (100%) | - | - | - |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| 2 | 25600 | 1.60 (80%) | 12000 | 1.50 (75%) | 2.13 |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| 1 | 25.0 | - | 100.0 | - | 4.00 |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("1, 2, 4 asked for; this machine has 2 cores, so 1, 2 ran"),
            "{markdown}"
        );
        assert!(report
            .missing()
            .contains(&"mlp_784_512_256_10_adam/threads2/32"));

        // Rounds: the header speaks of PyTorch's order and the ratios' ranges only beside it.
        let rounds = Report {
            rounds: 3,
            ..report
        };
        let compared = rounds.markdown();
        assert!(
            compared.contains("`cargo xtask bench --quick --rounds 3`"),
            "{compared}"
        );
        assert!(
            compared.contains("PyTorch's script in alternating order"),
            "{compared}"
        );
        let alone = Report {
            pytorch: None,
            ..rounds
        }
        .markdown();
        assert!(
            alone.contains("The sitting ran 3 rounds; each figure is the median over the rounds."),
            "{alone}"
        );
        assert!(!alone.contains("PyTorch's script"), "{alone}");
    }
}
