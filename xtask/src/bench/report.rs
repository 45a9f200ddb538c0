//! The benchmark report: the headline figures at 1 and 2 threads, beside PyTorch's when it
//! was run in the same sitting, the first-loss agreement, and the machine they ran on, as
//! Markdown (for people and the README) and JSON (for tools).

use super::criterion::Measurement;
use super::figures::{Figure, Metric, FIGURES};
use super::first_loss::FirstLoss;
use super::machine::Machine;
use super::pytorch::PytorchResults;
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
    pub benchmark: &'static str,
    /// Strata's value (`None` when the benchmark did not run).
    pub strata: Option<f64>,
    /// Share of the theoretical peak, for GFLOP/s figures.
    pub percent_of_peak: Option<f64>,
    /// PyTorch's value in the same sitting.
    pub pytorch: Option<f64>,
    /// Strata's speed over PyTorch's (above 1: Strata is faster).
    pub speed_ratio: Option<f64>,
}

/// Everything the report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `quick` or `full`.
    pub mode: &'static str,
    /// The commit measured (`git describe --always --dirty`).
    pub commit: String,
    /// The machine.
    pub machine: Machine,
    /// Theoretical f32 peak of one core, GFLOP/s.
    pub peak_gflops_per_core: Option<f64>,
    /// One-minute load average when the run ended.
    pub load_at_end: Option<f64>,
    /// The figures.
    pub rows: Vec<Row>,
    /// First-batch losses of the reference problems.
    pub first_losses: Vec<FirstLoss>,
    /// PyTorch's raw results, when compared.
    pub pytorch: Option<PytorchResults>,
    /// Bench targets that failed to run.
    pub failed_suites: Vec<String>,
}

impl Report {
    /// The rows of every figure from criterion's results (and PyTorch's, if any).
    pub fn rows(
        results: &HashMap<String, Measurement>,
        machine: &Machine,
        pytorch: Option<&PytorchResults>,
    ) -> Vec<Row> {
        FIGURES
            .iter()
            .flat_map(|figure| {
                figure
                    .benchmarks
                    .iter()
                    .map(move |&(threads, id)| row(figure, threads, id, results, machine, pytorch))
            })
            .collect()
    }

    /// Benchmarks that produced no result.
    pub fn missing(&self) -> Vec<&'static str> {
        self.rows
            .iter()
            .filter(|row| row.strata.is_none())
            .map(|row| row.benchmark)
            .collect()
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::from("# Strata benchmark report\n\n");
        md += &format!(
            "`cargo xtask bench{}` on commit `{}`: {}, {} logical cores at {} (theoretical f32 peak \
             {} per core: {} flop/cycle with AVX2 FMA); load average {} at the start, {} at the \
             end. Figures are criterion medians.\n\n",
            if self.mode == "quick" { " --quick" } else { "" },
            self.commit,
            self.machine.cpu,
            self.machine.cores,
            self.machine
                .mhz
                .map_or("an unknown clock".into(), |mhz| format!("{mhz:.0} MHz")),
            self.peak_gflops_per_core
                .map_or("unknown".into(), |peak| format!("{peak:.1} GFLOP/s")),
            super::machine::FLOP_PER_CYCLE_PER_CORE,
            optional(self.machine.load_at_start, 2),
            optional(self.load_at_end, 2),
        );
        let compared = self.pytorch.is_some();
        md += "| Figure | Threads | Strata |";
        md += if compared {
            " PyTorch | Strata speed / PyTorch |\n|---|---:|---:|---:|---:|\n"
        } else {
            "\n|---|---:|---:|\n"
        };
        for row in &self.rows {
            md += &format!(
                "| {} ({}) | {} | {} |",
                row.label,
                row.unit,
                row.threads,
                strata_cell(row)
            );
            if compared {
                md += &format!(
                    " {} | {} |",
                    optional(row.pytorch, decimals(row)),
                    row.speed_ratio
                        .map_or("-".into(), |ratio| format!("{ratio:.2}"))
                );
            }
            md += "\n";
        }
        let notes: Vec<String> = FIGURES
            .iter()
            .filter_map(|f| f.threads_note.map(|note| format!("{}: {note}.", f.label)))
            .collect();
        if !notes.is_empty() {
            md += &format!("\nThreads: {}\n", notes.join(" "));
        }
        md +=
            "\n## First-batch loss on the reference problems (same data, same initial weights)\n\n";
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
        if let Some(pytorch) = &self.pytorch {
            md += &format!(
                "\nPyTorch {} ran `xtask/pytorch/compare.py` in the same sitting.\n",
                pytorch.torch
            );
        }
        if !self.failed_suites.is_empty() {
            md += &format!("\nFailed to run: {}.\n", self.failed_suites.join(", "));
        }
        md
    }
}

fn row(
    figure: &Figure,
    threads: usize,
    id: &'static str,
    results: &HashMap<String, Measurement>,
    machine: &Machine,
    pytorch: Option<&PytorchResults>,
) -> Row {
    let measurement = results.get(id);
    let strata = measurement.and_then(|m| match figure.metric {
        Metric::Gflops => m.per_second().map(|flops| flops * 1e-9),
        Metric::SamplesPerSecond => m.per_second(),
    });
    let percent_of_peak = match figure.metric {
        Metric::Gflops => strata
            .zip(machine.peak_gflops(threads))
            .map(|(value, peak)| 100.0 * value / peak),
        _ => None,
    };
    let pytorch = pytorch.and_then(|p| p.figure(figure.key, threads));
    let speed_ratio = strata.zip(pytorch).map(|(ours, theirs)| ours / theirs);
    Row {
        key: figure.key,
        label: figure.label,
        unit: figure.metric.unit(),
        threads,
        benchmark: id,
        strata,
        percent_of_peak,
        pytorch,
        speed_ratio,
    }
}

/// Decimals that suit a row's unit.
fn decimals(row: &Row) -> usize {
    match row.unit {
        "samples/s" => 0,
        _ => 1,
    }
}

fn strata_cell(row: &Row) -> String {
    let value = optional(row.strata, decimals(row));
    match row.percent_of_peak {
        Some(percent) => format!("{value} ({percent:.0}% of peak)"),
        None => value,
    }
}

fn optional(value: Option<f64>, decimals: usize) -> String {
    value.map_or("-".into(), |v| format!("{v:.decimals$}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn measured(id: &str, elements: f64, median_ns: f64) -> (String, Measurement) {
        let elements = Some(elements);
        (
            id.to_string(),
            Measurement {
                median_ns,
                elements,
            },
        )
    }

    #[test]
    fn rows_carry_rates_peak_shares_and_speed_ratios() {
        // 2^31 flops in 67.108864 ms: 32 GFLOP/s, half the 64 GFLOP/s peak of one 2 GHz core.
        let results: HashMap<String, Measurement> = [
            measured(
                "matmul/1024x1024x1024/strata/1t",
                2_147_483_648.0,
                67_108_864.0,
            ),
            measured("mlp_784_512_256_10_adam/threads1/128", 128.0, 8_000_000.0),
        ]
        .into_iter()
        .collect();
        let machine = Machine {
            cpu: "test".into(),
            cores: 2,
            mhz: Some(2000.0),
            load_at_start: None,
        };
        let pytorch = PytorchResults {
            torch: "test".into(),
            figures: BTreeMap::from([(
                "mlp_train".to_string(),
                BTreeMap::from([("1".to_string(), 8_000.0)]),
            )]),
            first_loss: BTreeMap::new(),
        };
        let rows = Report::rows(&results, &machine, Some(&pytorch));
        let find = |key: &str, threads: usize| {
            rows.iter()
                .find(|r| r.key == key && r.threads == threads)
                .expect("a row per figure and thread count")
        };
        let matmul = find("matmul_1024", 1);
        assert!((matmul.strata.expect("measured") - 32.0).abs() < 1e-9);
        assert!((matmul.percent_of_peak.expect("a peak") - 50.0).abs() < 1e-9);
        let mlp = find("mlp_train", 1);
        // 128 samples in 8 ms: 16,000 samples/s, twice PyTorch's 8,000.
        assert!((mlp.strata.expect("measured") - 16_000.0).abs() < 1e-6);
        assert_eq!(mlp.speed_ratio, Some(2.0));
        assert_eq!(find("mlp_train", 2).strata, None);

        let report = Report {
            mode: "quick",
            commit: "abc".into(),
            peak_gflops_per_core: machine.peak_gflops(1),
            rows,
            machine,
            load_at_end: None,
            first_losses: Vec::new(),
            pytorch: Some(pytorch),
            failed_suites: Vec::new(),
        };
        let markdown = report.markdown();
        assert!(
            markdown.contains("| 1 | 32.0 (50% of peak) | - | - |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| 1 | 16000 | 8000 | 2.00 |"),
            "{markdown}"
        );
        assert!(report
            .missing()
            .contains(&"mlp_784_512_256_10_adam/threads2/128"));
    }
}
