//! Several rounds of one sitting, combined: each figure's median over the rounds, and the
//! range of the Strata / PyTorch ratio across them.
//!
//! A shared virtual machine's speed drifts by 20% and more within minutes (measured here:
//! the same 1024³ product at 62.9 and at 85 GFLOP/s half an hour apart, the machine idle
//! both times). With Strata's benchmarks first and PyTorch's script after, such a drift lands
//! in the ratio. Rounds that alternate the order (Strata then PyTorch, then PyTorch then
//! Strata, …) put both sides under the same drift on average, and the ratio's range across
//! rounds shows how far one round could mislead.

use super::criterion::Measurement;
use super::pytorch::PytorchResults;
use super::report::Row;
use std::collections::{BTreeMap, HashMap};

/// Whether round `round` (from 0) runs PyTorch's script before Strata's benchmarks: every
/// other round, so that a steady drift weighs on both sides alike.
pub fn pytorch_first(round: usize) -> bool {
    round % 2 == 1
}

/// Each benchmark's median time over the rounds that measured it.
pub fn median_measurements(
    rounds: &[HashMap<String, Measurement>],
) -> HashMap<String, Measurement> {
    let mut times: HashMap<&str, (Vec<f64>, Option<f64>)> = HashMap::new();
    for round in rounds {
        for (id, m) in round {
            let entry = times.entry(id).or_insert_with(|| (Vec::new(), m.elements));
            entry.0.push(m.median_ns);
        }
    }
    times
        .into_iter()
        .map(|(id, (values, elements))| {
            let measurement = Measurement {
                median_ns: median(values),
                elements,
            };
            (id.to_string(), measurement)
        })
        .collect()
}

/// PyTorch's figures, each the median over the rounds; the version and first losses of the
/// first round. `None` without rounds.
pub fn median_pytorch(rounds: &[PytorchResults]) -> Option<PytorchResults> {
    let first = rounds.first()?;
    let mut values: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    for round in rounds {
        for (key, per_threads) in &round.figures {
            for (threads, &value) in per_threads {
                values.entry((key, threads)).or_default().push(value);
            }
        }
    }
    let mut figures: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for ((key, threads), values) in values {
        figures
            .entry(key.to_string())
            .or_default()
            .insert(threads.to_string(), median(values));
    }
    Some(PytorchResults {
        torch: first.torch.clone(),
        figures,
        first_loss: first.first_loss.clone(),
    })
}

/// Sets each row's `ratio_range` to the smallest and largest Strata / PyTorch ratio of the
/// same figure and thread count among `per_round` (the rows of each round alone).
pub fn attach_ratio_ranges(rows: &mut [Row], per_round: &[Vec<Row>]) {
    for row in rows {
        let ratios = per_round.iter().flatten().filter_map(|r| {
            (r.key == row.key && r.threads == row.threads)
                .then_some(r.speed_ratio)
                .flatten()
        });
        row.ratio_range = ratios.fold(None, |range, ratio| match range {
            None => Some((ratio, ratio)),
            Some((low, high)) => Some((f64::min(low, ratio), f64::max(high, ratio))),
        });
    }
}

/// The median (the mean of the middle two for an even count). `values` is not empty.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(ns: f64) -> Measurement {
        Measurement {
            median_ns: ns,
            elements: Some(128.0),
        }
    }

    fn round(pairs: &[(&str, f64)]) -> HashMap<String, Measurement> {
        pairs
            .iter()
            .map(|&(id, ns)| (id.to_string(), measured(ns)))
            .collect()
    }

    #[test]
    fn medians_over_rounds_ignore_one_slow_round() {
        let rounds = [
            round(&[("a", 10.0), ("b", 4.0)]),
            round(&[("a", 30.0), ("b", 6.0)]),
            round(&[("a", 11.0)]),
        ];
        let combined = median_measurements(&rounds);
        assert_eq!(combined["a"], measured(11.0));
        // Measured in two rounds only: the mean of the two.
        assert_eq!(combined["b"], measured(5.0));
    }

    #[test]
    fn pytorch_medians_keep_the_first_rounds_version_and_losses() {
        let results = |value: f64, version: &str| PytorchResults {
            torch: version.into(),
            figures: [("mlp".to_string(), [("1".to_string(), value)].into())].into(),
            first_loss: [("mlp".to_string(), 2.3)].into(),
        };
        let combined = median_pytorch(&[
            results(100.0, "2.15"),
            results(80.0, "x"),
            results(120.0, "y"),
        ])
        .expect("three rounds");
        assert_eq!(combined.torch, "2.15");
        assert_eq!(combined.figure("mlp", 1), Some(100.0));
        assert_eq!(combined.first_loss["mlp"], 2.3);
        assert!(median_pytorch(&[]).is_none());
    }

    fn row(key: &'static str, threads: usize, ratio: Option<f64>) -> Row {
        Row {
            key,
            label: key,
            unit: "samples/s",
            threads,
            benchmark: key.into(),
            strata: None,
            percent_of_peak: None,
            strata_speedup: None,
            pytorch: None,
            pytorch_speedup: None,
            speed_ratio: ratio,
            ratio_range: None,
        }
    }

    #[test]
    fn ratio_ranges_span_the_rounds_of_the_same_figure_and_threads() {
        let mut rows = vec![
            row("mlp", 1, Some(1.3)),
            row("mlp", 2, None),
            row("lstm", 1, None),
        ];
        let per_round = [
            vec![
                row("mlp", 1, Some(1.25)),
                row("mlp", 2, Some(2.0)),
                row("lstm", 1, None),
            ],
            vec![row("mlp", 1, Some(1.4)), row("mlp", 2, Some(1.5))],
            vec![row("mlp", 1, Some(1.3))],
        ];
        attach_ratio_ranges(&mut rows, &per_round);
        assert_eq!(rows[0].ratio_range, Some((1.25, 1.4)));
        assert_eq!(rows[1].ratio_range, Some((1.5, 2.0)));
        assert_eq!(rows[2].ratio_range, None);
    }

    #[test]
    fn rounds_alternate_which_side_runs_first() {
        let order: Vec<bool> = (0..4).map(pytorch_first).collect();
        assert_eq!(order, [false, true, false, true]);
    }
}
