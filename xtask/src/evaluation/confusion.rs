//! How a trained network does on the test split: a confusion matrix, from which the accuracy
//! is read, so the number printed after training and the one `eval` prints come from the
//! same computation.

use strata_autograd::no_grad;
use strata_datasets::TensorDataset;
use strata_modules::{Module, Var};
use strata_recipes::EVAL_BATCH;

/// Counts of (true class, predicted class) pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// `counts[actual][predicted]`.
    counts: Vec<Vec<usize>>,
}

impl ConfusionMatrix {
    /// Runs `model` (in evaluation mode, nothing recorded) on every example of `test` and
    /// counts its arg-max predictions against the targets, over `classes` classes.
    pub fn measure<M: Module>(model: &mut M, test: &TensorDataset, classes: usize) -> Self {
        model.eval();
        let mut counts = vec![vec![0; classes]; classes];
        let rows = test.input().shape()[0];
        no_grad(|| {
            for start in (0..rows).step_by(EVAL_BATCH) {
                let len = EVAL_BATCH.min(rows - start);
                let inputs = Var::constant(test.input().narrow(0, start, len));
                let predicted = model.forward(&inputs).value().argmax(-1, false).to_vec();
                let actual = test.target().narrow(0, start, len).to_vec();
                for (a, p) in actual.into_iter().zip(predicted) {
                    counts[a as usize][p as usize] += 1;
                }
            }
        });
        Self { counts }
    }

    /// `counts[actual][predicted]`.
    pub fn counts(&self) -> &[Vec<usize>] {
        &self.counts
    }

    /// Examples predicted right.
    pub fn correct(&self) -> usize {
        (0..self.counts.len()).map(|k| self.counts[k][k]).sum()
    }

    /// Examples counted.
    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// Share of examples predicted right.
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total().max(1) as f64
    }

    /// The matrix as a text table: one row per true class, one column per predicted class,
    /// and each class's recall at the end of its row.
    pub fn render(&self, names: &[String]) -> String {
        let label = |k: usize| names.get(k).cloned().unwrap_or_else(|| k.to_string());
        let name_width = (0..self.counts.len())
            .map(|k| label(k).chars().count())
            .chain(std::iter::once("true \\ predicted".len()))
            .max()
            .unwrap_or(0);
        let cell = self
            .counts
            .iter()
            .flatten()
            .map(|c| c.to_string().len())
            .max()
            .unwrap_or(1)
            .max(3);
        let mut text = format!("{:<name_width$}", "true \\ predicted");
        for k in 0..self.counts.len() {
            let short: String = label(k).chars().take(cell).collect();
            text += &format!(" {short:>cell$}");
        }
        text += "  recall\n";
        for (k, row) in self.counts.iter().enumerate() {
            text += &format!("{:<name_width$}", label(k));
            for count in row {
                text += &format!(" {count:>cell$}");
            }
            let total: usize = row.iter().sum();
            let recall = 100.0 * row[k] as f64 / total.max(1) as f64;
            text += &format!("  {recall:5.1}%\n");
        }
        text
    }
}
