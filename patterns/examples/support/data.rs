//! The embedded 8×8 digits as flat vectors in [0, 1], split into training and held-out rows,
//! the rows of each class, and the loader of held-out data.

use strata_datasets::{digits, DataLoader, Dataset, Subset, TensorDataset, DIGITS_MAX_VALUE};

/// Side of a digit image.
pub const SIDE: usize = 8;
/// Pixels of a digit image.
pub const PIXELS: usize = SIDE * SIDE;
/// Number of classes.
pub const CLASSES: usize = 10;
/// Fraction of the digits held out for evaluation.
const TEST_FRACTION: f64 = 0.2;

/// The embedded digits as in-memory datasets, images flattened to 64 values in [0, 1] and
/// their digits: `(train, test)` from a seeded 80/20 split. Build multi-field datasets from
/// their tensors with `TensorDataset::from_fields`.
pub fn digit_datasets(seed: u64) -> (TensorDataset, TensorDataset) {
    let flat = digits()
        .with_input_shape(&[PIXELS])
        .expect("8x8 images hold 64 pixels");
    let (train, test) = flat
        .split(TEST_FRACTION, seed)
        .expect("the embedded digits split");
    let in_memory = |part: Subset| {
        let all: Vec<usize> = (0..part.len()).collect();
        let batch = part
            .get_batch(&all)
            .expect("the embedded digits are in memory");
        let images = batch.input().mul_scalar(1.0 / DIGITS_MAX_VALUE);
        TensorDataset::new(images, batch.target().clone())
            .expect("the digits have one label per image")
    };
    (in_memory(train), in_memory(test))
}

/// The rows of each class: `by_class[c]` lists the indices of digit `c`.
pub fn rows_by_class(labels: &[usize]) -> Vec<Vec<usize>> {
    let mut by_class = vec![Vec::new(); CLASSES];
    for (row, &label) in labels.iter().enumerate() {
        by_class[label].push(row);
    }
    by_class
}

/// Examples per batch when a recipe evaluates held-out data: the figures do not depend on
/// it (means are weighted by batch size); large batches make few steps.
pub const EVAL_BATCH: usize = 512;

/// A loader of held-out `data`, in order, in batches of [`EVAL_BATCH`].
pub fn evaluation_loader(data: impl Dataset + 'static) -> DataLoader {
    DataLoader::new(data, EVAL_BATCH)
}
