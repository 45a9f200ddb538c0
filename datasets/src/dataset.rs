//! The `Dataset` trait, examples and batches, and the in-memory [`TensorDataset`].

use crate::adapters::{Concat, Mapped, Subset};
use crate::error::{DataError, Result};
use crate::transform::Transform;
use std::sync::Arc;
use strata_tensor::Tensor;

/// One example: an input tensor and its target.
///
/// Class targets are whole-number `f32` scalars (shape `[]`), since tensors hold `f32` only.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// The input, e.g. an image `[C, H, W]` or a feature vector `[F]`.
    pub input: Tensor,
    /// The target, e.g. a class id (shape `[]`) or a sequence `[T]`.
    pub target: Tensor,
}

impl Example {
    /// An example from its two tensors.
    pub fn new(input: Tensor, target: Tensor) -> Self {
        Self { input, target }
    }
}

/// Examples stacked along a new first axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Inputs `[B, ...input shape]`.
    pub inputs: Tensor,
    /// Targets `[B, ...target shape]` (`[B]` for class ids).
    pub targets: Tensor,
    /// The dataset index of each row, in order.
    pub indices: Vec<usize>,
}

impl Batch {
    /// Number of examples in the batch.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch holds no example.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// A finite, indexable collection of examples.
///
/// `get` must be deterministic: the same index gives the same example, so that loaders with
/// and without prefetch, and every rank of a sharded run, see the same data.
///
/// ```
/// use strata_datasets::{Dataset, TensorDataset};
/// use strata_tensor::Tensor;
/// let inputs = Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2]);
/// let targets = Tensor::from_vec(vec![0.0, 1.0, 0.0], &[3]);
/// let data = TensorDataset::new(inputs, targets).unwrap();
/// let example = data.get(1).unwrap();
/// assert_eq!(example.input.to_vec(), vec![2.0, 3.0]);
/// assert_eq!(example.target.item(), 1.0);
/// let (train, test) = data.split(1.0 / 3.0, 7).unwrap();
/// assert_eq!((train.len(), test.len()), (2, 1));
/// ```
pub trait Dataset: Send + Sync {
    /// Number of examples.
    fn len(&self) -> usize;

    /// Whether the dataset has no example.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The example at `index`; an error when `index >= len()` or when reading it fails.
    fn get(&self, index: usize) -> Result<Example>;

    /// The examples at `indices`, stacked. The default calls [`Dataset::get`] for each index
    /// and copies the values into one buffer; in-memory datasets override it with row copies.
    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        stack_examples(indices, |index| self.get(index))
    }

    /// Applies `transform` to every example. The transform's generator is seeded by the
    /// example index, so an example is always transformed the same way; for augmentation that
    /// changes every epoch use [`crate::DataLoader::transform`] instead.
    fn map(self, transform: impl Transform + 'static) -> Mapped
    where
        Self: Sized + 'static,
    {
        Mapped::new(Arc::new(self), Arc::new(transform))
    }

    /// The examples at `indices` (in that order; repeats allowed).
    fn subset(self, indices: Vec<usize>) -> Result<Subset>
    where
        Self: Sized + 'static,
    {
        Subset::new(Arc::new(self), indices)
    }

    /// A seeded random split into `(train, test)`, with `round(len × test_fraction)` test
    /// examples. The same seed always gives the same split.
    fn split(self, test_fraction: f64, seed: u64) -> Result<(Subset, Subset)>
    where
        Self: Sized + 'static,
    {
        crate::adapters::train_test_split(Arc::new(self), test_fraction, seed)
    }

    /// This dataset followed by `other`; both must give examples of the same shapes.
    fn concat(self, other: impl Dataset + 'static) -> Result<Concat>
    where
        Self: Sized + 'static,
    {
        Concat::new(vec![Arc::new(self), Arc::new(other)])
    }
}

impl<D: Dataset + ?Sized> Dataset for Arc<D> {
    fn len(&self) -> usize {
        (**self).len()
    }

    fn get(&self, index: usize) -> Result<Example> {
        (**self).get(index)
    }

    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        (**self).get_batch(indices)
    }
}

/// Checks `index < len`.
pub(crate) fn check_index(index: usize, len: usize) -> Result<()> {
    if index < len {
        Ok(())
    } else {
        Err(DataError::IndexOutOfRange { index, len })
    }
}

/// Stacks the examples produced for `indices` into one batch, copying each into a single
/// preallocated buffer. Every example must have the shapes of the first.
pub fn stack_examples(
    indices: &[usize],
    mut example: impl FnMut(usize) -> Result<Example>,
) -> Result<Batch> {
    let Some((&first_index, rest)) = indices.split_first() else {
        return Err(DataError::invalid(
            "stack_examples",
            "at least one index",
            "an empty list",
        ));
    };
    let first = example(first_index)?;
    let (input_shape, target_shape) = (first.input.shape().to_vec(), first.target.shape().to_vec());
    let mut inputs = Vec::with_capacity(indices.len() * first.input.numel());
    let mut targets = Vec::with_capacity(indices.len() * first.target.numel());
    inputs.extend_from_slice(&first.input.values());
    targets.extend_from_slice(&first.target.values());
    for &index in rest {
        let next = example(index)?;
        if next.input.shape() != input_shape || next.target.shape() != target_shape {
            return Err(DataError::invalid(
                "stack_examples",
                format!(
                    "every example shaped like example {first_index}: input {input_shape:?}, target {target_shape:?}"
                ),
                format!(
                    "example {index} with input {:?}, target {:?}",
                    next.input.shape(),
                    next.target.shape()
                ),
            ));
        }
        inputs.extend_from_slice(&next.input.values());
        targets.extend_from_slice(&next.target.values());
    }
    let batch_shape = |item: &[usize]| [&[indices.len()], item].concat();
    Ok(Batch {
        inputs: Tensor::from_vec(inputs, &batch_shape(&input_shape)),
        targets: Tensor::from_vec(targets, &batch_shape(&target_shape)),
        indices: indices.to_vec(),
    })
}

/// A dataset held in memory as two tensors whose first axis indexes the examples, with
/// optional class names.
///
/// Batches are gathered with one row copy per example into a single buffer, so loading is
/// never the bottleneck of a training step.
#[derive(Clone, Debug)]
pub struct TensorDataset {
    inputs: Tensor,
    targets: Tensor,
    classes: Vec<String>,
}

impl TensorDataset {
    /// Pairs `inputs [N, ...]` with `targets [N, ...]`; an error when the first axes differ.
    pub fn new(inputs: Tensor, targets: Tensor) -> Result<Self> {
        if inputs.ndim() == 0 || targets.ndim() == 0 || inputs.dim(0) != targets.dim(0) {
            return Err(DataError::invalid(
                "TensorDataset::new",
                "inputs [N, ...] and targets [N, ...] with the same N",
                format!("inputs {:?}, targets {:?}", inputs.shape(), targets.shape()),
            ));
        }
        Ok(Self {
            inputs: inputs.contiguous(),
            targets: targets.contiguous(),
            classes: Vec::new(),
        })
    }

    /// Names the classes (class id `k` is `names[k]`).
    pub fn with_classes(mut self, names: Vec<String>) -> Self {
        self.classes = names;
        self
    }

    /// The same examples with inputs viewed as `shape` each (e.g. `[64]` for flat 8×8 images).
    pub fn with_input_shape(self, shape: &[usize]) -> Result<Self> {
        let full: Vec<isize> = [&[self.len()], shape]
            .concat()
            .iter()
            .map(|&d| d as isize)
            .collect();
        let inputs = self.inputs.try_reshape(&full).map_err(|err| {
            DataError::invalid(
                "TensorDataset::with_input_shape",
                format!(
                    "a shape with {} elements",
                    self.inputs.numel() / self.len().max(1)
                ),
                format!("{shape:?} ({err})"),
            )
        })?;
        Ok(Self { inputs, ..self })
    }

    /// All inputs, `[N, ...]`.
    pub fn inputs(&self) -> &Tensor {
        &self.inputs
    }

    /// All targets, `[N, ...]`.
    pub fn targets(&self) -> &Tensor {
        &self.targets
    }

    /// The class names (empty when not named).
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Shape of one input.
    pub fn input_shape(&self) -> &[usize] {
        &self.inputs.shape()[1..]
    }
}

impl Dataset for TensorDataset {
    fn len(&self) -> usize {
        self.inputs.dim(0)
    }

    fn get(&self, index: usize) -> Result<Example> {
        check_index(index, self.len())?;
        Ok(Example {
            input: self.inputs.narrow(0, index, 1).squeeze(0),
            target: self.targets.narrow(0, index, 1).squeeze(0),
        })
    }

    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(DataError::IndexOutOfRange {
                index: bad,
                len: self.len(),
            });
        }
        Ok(Batch {
            inputs: self.inputs.index_select(0, indices),
            targets: self.targets.index_select(0, indices),
            indices: indices.to_vec(),
        })
    }
}

/// Which part of a dataset that comes with a fixed train/test division.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training part.
    Train,
    /// The test part.
    Test,
}
