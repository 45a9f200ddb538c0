//! Datasets built from other datasets: mapped, subset (and seeded train/test split),
//! concatenation.

use crate::dataset::{check_index, Batch, Dataset, Example};
use crate::error::{DataError, DataResult};
use crate::transform::Transform;
use std::sync::Arc;
use strata_tensor::{splitmix64, Rng};

/// Stream tag mixed into the seed of [`Mapped`]'s per-example generators, so that they differ
/// from the loader's shuffling stream for the same numbers.
const MAP_STREAM: u64 = 0x6d61_7070_6564; // "mapped" in ASCII

/// A dataset whose examples pass through a [`Transform`] (see [`Dataset::map`]).
#[derive(Clone)]
pub struct Mapped {
    inner: Arc<dyn Dataset>,
    transform: Arc<dyn Transform>,
}

impl Mapped {
    /// `inner` with `transform` applied to each example.
    pub fn new(inner: Arc<dyn Dataset>, transform: Arc<dyn Transform>) -> Self {
        Self { inner, transform }
    }
}

impl Dataset for Mapped {
    fn len(&self) -> usize {
        self.inner.len()
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        let example = self.inner.get(index)?;
        let mut rng = Rng::new(splitmix64(MAP_STREAM, index as u64));
        self.transform.apply(example, &mut rng)
    }
}

/// The examples of another dataset at chosen indices (see [`Dataset::subset`]).
#[derive(Clone)]
pub struct Subset {
    inner: Arc<dyn Dataset>,
    indices: Vec<usize>,
}

impl Subset {
    /// The examples of `inner` at `indices`; an error if one is out of range.
    pub fn new(inner: Arc<dyn Dataset>, indices: Vec<usize>) -> DataResult<Self> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= inner.len()) {
            return Err(DataError::IndexOutOfRange {
                index: bad,
                len: inner.len(),
            });
        }
        Ok(Self { inner, indices })
    }

    /// The indices into the underlying dataset.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl Dataset for Subset {
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        check_index(index, self.len())?;
        self.inner.get(self.indices[index])
    }

    fn get_batch(&self, indices: &[usize]) -> DataResult<Batch> {
        let mut inner_indices = Vec::with_capacity(indices.len());
        for &index in indices {
            check_index(index, self.len())?;
            inner_indices.push(self.indices[index]);
        }
        let batch = self.inner.get_batch(&inner_indices)?;
        Ok(Batch {
            indices: indices.to_vec(),
            ..batch
        })
    }
}

/// A seeded shuffle of `0..len` split into `(train, test)` index sets.
pub(crate) fn train_test_split(
    inner: Arc<dyn Dataset>,
    test_fraction: f64,
    seed: u64,
) -> DataResult<(Subset, Subset)> {
    if !(0.0..=1.0).contains(&test_fraction) {
        return Err(DataError::invalid(
            "split",
            "a test fraction in [0, 1]",
            test_fraction.to_string(),
        ));
    }
    let len = inner.len();
    let test_len = (len as f64 * test_fraction).round() as usize;
    let mut order: Vec<usize> = (0..len).collect();
    Rng::new(seed).shuffle(&mut order);
    let test = order.split_off(len - test_len);
    Ok((
        Subset::new(Arc::clone(&inner), order)?,
        Subset::new(inner, test)?,
    ))
}

/// Several datasets one after the other (see [`Dataset::concat`]).
#[derive(Clone)]
pub struct Concat {
    parts: Vec<Arc<dyn Dataset>>,
    /// `starts[k]` is the index of the first example of `parts[k]`; one more entry holds the
    /// total length.
    starts: Vec<usize>,
}

impl Concat {
    /// The examples of each part in turn. Parts must give examples of the same shapes (checked
    /// on their first examples).
    pub fn new(parts: Vec<Arc<dyn Dataset>>) -> DataResult<Self> {
        let mut reference: Option<(usize, Example)> = None;
        for (k, part) in parts.iter().enumerate() {
            if part.is_empty() {
                continue;
            }
            let first = part.get(0)?;
            match &reference {
                None => reference = Some((k, first)),
                Some((r, example)) => {
                    if !example.inputs.same_layout(&first.inputs)
                        || !example.targets.same_layout(&first.targets)
                    {
                        return Err(DataError::invalid(
                            "concat",
                            format!(
                                "examples laid out like part {r}'s: inputs {}, targets {}",
                                example.inputs, example.targets
                            ),
                            format!(
                                "part {k} with inputs {}, targets {}",
                                first.inputs, first.targets
                            ),
                        ));
                    }
                }
            }
        }
        let mut starts = vec![0];
        for part in &parts {
            starts.push(starts[starts.len() - 1] + part.len());
        }
        Ok(Self { parts, starts })
    }
}

impl Dataset for Concat {
    fn len(&self) -> usize {
        self.starts[self.starts.len() - 1]
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        check_index(index, self.len())?;
        // The part holding `index` is the last one starting at or before it.
        let part = self.starts.partition_point(|&start| start <= index) - 1;
        self.parts[part].get(index - self.starts[part])
    }
}

impl std::fmt::Debug for Mapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapped")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Subset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subset")
            .field("indices", &self.indices)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Concat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Concat")
            .field("starts", &self.starts)
            .finish_non_exhaustive()
    }
}
