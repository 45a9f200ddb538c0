//! Named metrics as running means: what a step reports, summed over an epoch (and over the
//! ranks of a data-parallel run) before division.

use std::collections::BTreeMap;
use strata_tensor::Tensor;

/// A mean kept as its sum and its weight, so that means of batches (and of ranks) combine
/// exactly: `(Σ sums) / (Σ counts)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mean {
    /// Sum of the values, each times its weight.
    pub sum: f64,
    /// Sum of the weights (e.g. examples or elements counted).
    pub count: f64,
}

impl Mean {
    /// `value` counted with weight `count` (e.g. a batch's mean loss and its batch size).
    pub fn of(value: f32, count: usize) -> Self {
        Self {
            sum: value as f64 * count as f64,
            count: count as f64,
        }
    }

    /// `hits` out of `total` (e.g. correct answers), as a fraction.
    pub fn ratio(hits: usize, total: usize) -> Self {
        Self {
            sum: hits as f64,
            count: total as f64,
        }
    }

    /// The mean (NaN when nothing was counted).
    pub fn value(&self) -> f32 {
        (self.sum / self.count) as f32
    }
}

impl std::ops::AddAssign for Mean {
    fn add_assign(&mut self, other: Self) {
        self.sum += other.sum;
        self.count += other.count;
    }
}

/// Named means, e.g. `loss`, `accuracy`, `digit.accuracy` (a head's, in a multi-output model).
///
/// ```
/// use strata_modules::{Mean, Metrics};
/// let mut epoch = Metrics::new();
/// epoch.merge(&Metrics::new().with("loss", Mean::of(2.0, 10)).with("accuracy", Mean::ratio(3, 10)));
/// epoch.merge(&Metrics::new().with("loss", Mean::of(1.0, 30)).with("accuracy", Mean::ratio(27, 30)));
/// assert_eq!(epoch.value("loss"), Some(1.25));
/// assert_eq!(epoch.value("accuracy"), Some(0.75));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    means: BTreeMap<String, Mean>,
}

impl Metrics {
    /// No metric yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `mean` to the metric `name` (builder style).
    pub fn with(mut self, name: &str, mean: Mean) -> Self {
        self.add(name, mean);
        self
    }

    /// Adds `mean` to the metric `name` (created at zero).
    pub fn add(&mut self, name: &str, mean: Mean) {
        *self.means.entry(name.to_string()).or_default() += mean;
    }

    /// Adds every metric of `other` to this one's.
    pub fn merge(&mut self, other: &Metrics) {
        for (name, &mean) in &other.means {
            self.add(name, mean);
        }
    }

    /// The metrics of `other` added here with names `prefix.name`.
    pub fn merge_prefixed(&mut self, prefix: &str, other: &Metrics) {
        for (name, &mean) in &other.means {
            self.add(&crate::params::join_name(prefix, name), mean);
        }
    }

    /// The mean of metric `name`, if it was reported.
    pub fn value(&self, name: &str) -> Option<f32> {
        self.means.get(name).map(Mean::value)
    }

    /// The running sum and weight of metric `name`.
    pub fn get(&self, name: &str) -> Option<Mean> {
        self.means.get(name).copied()
    }

    /// Whether no metric was reported.
    pub fn is_empty(&self) -> bool {
        self.means.is_empty()
    }

    /// `(name, mean)` in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Mean)> {
        self.means.iter().map(|(n, &m)| (n.as_str(), m))
    }

    /// Every metric's mean, by name.
    pub fn values(&self) -> MetricValues {
        self.means
            .iter()
            .map(|(n, m)| (n.clone(), m.value()))
            .collect()
    }

    /// The sums and weights in name order, `[sum₀, count₀, sum₁, …]` (what ranks add up).
    pub fn to_sums(&self) -> Vec<f64> {
        self.means.values().flat_map(|m| [m.sum, m.count]).collect()
    }

    /// Replaces the sums and weights from [`Metrics::to_sums`]' layout (after adding them
    /// over ranks). Panics if `sums` does not have that layout's length.
    #[track_caller]
    pub fn set_sums(&mut self, sums: &[f64]) {
        assert_eq!(
            sums.len(),
            2 * self.means.len(),
            "Metrics::set_sums: expected {} values (sum and count of {:?}), found {}",
            2 * self.means.len(),
            self.means.keys().collect::<Vec<_>>(),
            sums.len()
        );
        for (mean, pair) in self.means.values_mut().zip(sums.chunks(2)) {
            *mean = Mean {
                sum: pair[0],
                count: pair[1],
            };
        }
    }
}

/// The means of an epoch's metrics, by name (what [`crate::EpochMetrics`] keeps).
pub type MetricValues = BTreeMap<String, f32>;

/// Share of rows whose arg-max over the last axis of `logits` is the class id in `target`.
///
/// ```
/// use strata_modules::accuracy;
/// use strata_tensor::Tensor;
/// let logits = Tensor::from_vec(vec![0.1, 2.0, 3.0, -1.0], &[2, 2]);
/// let target = Tensor::from_vec(vec![1.0, 1.0], &[2]);
/// assert_eq!(accuracy(&logits, &target).value(), 0.5);
/// ```
#[track_caller]
pub fn accuracy(logits: &Tensor, target: &Tensor) -> Mean {
    let predicted = logits.argmax(-1, false);
    Mean::ratio(count_equal("accuracy", &predicted, target), target.numel())
}

/// Share of entries whose logit sign matches the 0/1 target (binary and multi-label).
#[track_caller]
pub fn binary_accuracy(logits: &Tensor, target: &Tensor) -> Mean {
    let predicted = logits.gt(&Tensor::scalar(0.0));
    Mean::ratio(
        count_equal("binary_accuracy", &predicted, target),
        target.numel(),
    )
}

/// Mean absolute error over every entry.
#[track_caller]
pub fn mean_absolute_error(prediction: &Tensor, target: &Tensor) -> Mean {
    mean_over_entries("mean_absolute_error", prediction, target, |d| d.abs())
}

/// Mean squared error over every entry.
#[track_caller]
pub fn mean_squared_error(prediction: &Tensor, target: &Tensor) -> Mean {
    mean_over_entries("mean_squared_error", prediction, target, |d| d * d)
}

/// The mean of `f(prediction − target)` over entries of two tensors of one shape.
#[track_caller]
fn mean_over_entries(what: &str, prediction: &Tensor, target: &Tensor, f: fn(f64) -> f64) -> Mean {
    check_same_shape(what, prediction, target);
    let sum = prediction
        .values()
        .iter()
        .zip(target.values().iter())
        .map(|(&p, &t)| f(p as f64 - t as f64))
        .sum();
    Mean {
        sum,
        count: target.numel() as f64,
    }
}

#[track_caller]
fn count_equal(what: &str, predicted: &Tensor, target: &Tensor) -> usize {
    check_same_shape(what, predicted, target);
    predicted
        .values()
        .iter()
        .zip(target.values().iter())
        .filter(|(x, y)| x == y)
        .count()
}

#[track_caller]
fn check_same_shape(what: &str, predicted: &Tensor, target: &Tensor) {
    assert!(
        predicted.shape() == target.shape(),
        "{what}: expected predictions and targets of one shape, found {:?} and {:?}",
        predicted.shape(),
        target.shape()
    );
}
