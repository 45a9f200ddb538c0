//! The `Dataset` trait, examples and batches, and the in-memory [`TensorDataset`].

use crate::adapters::{Concat, Mapped, Subset};
use crate::collate::stack_examples;
use crate::error::{DataError, DataResult};
use crate::fields::Fields;
use crate::transform::Transform;
use std::sync::Arc;
use strata_tensor::Tensor;

/// One example: its input tensors and its target tensors, each named ([`Fields`]).
///
/// Most datasets have one input and one target ([`Example::new`], named `input` and
/// `target`); multi-input and multi-output models read several ([`Example::from_fields`]).
/// Class targets are whole-number `f32` scalars (shape `[]`), since tensors hold `f32` only.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// The inputs, e.g. an image `[C, H, W]` or a feature vector `[F]`.
    pub inputs: Fields,
    /// The targets, e.g. a class id (shape `[]`) or a sequence `[T]`.
    pub targets: Fields,
}

/// Name of the input of a single-input example ([`Example::new`]).
pub const INPUT: &str = "input";
/// Name of the target of a single-target example ([`Example::new`]).
pub const TARGET: &str = "target";

impl Example {
    /// An example with one input (named [`INPUT`]) and one target (named [`TARGET`]).
    pub fn new(input: Tensor, target: Tensor) -> Self {
        Self {
            inputs: Fields::new().with(INPUT, input),
            targets: Fields::new().with(TARGET, target),
        }
    }

    /// An example with several named inputs and targets.
    pub fn from_fields(inputs: Fields, targets: Fields) -> Self {
        Self { inputs, targets }
    }

    /// The first input. Panics (at the caller's line) if there is none.
    #[track_caller]
    pub fn input(&self) -> &Tensor {
        &self.inputs[0]
    }

    /// The first target. Panics (at the caller's line) if there is none.
    #[track_caller]
    pub fn target(&self) -> &Tensor {
        &self.targets[0]
    }

    /// The same example with its first input replaced (what most transforms do).
    #[track_caller]
    pub fn with_input(mut self, input: Tensor) -> Self {
        self.inputs.set(0, input);
        self
    }

    /// The same example with its first target replaced.
    #[track_caller]
    pub fn with_target(mut self, target: Tensor) -> Self {
        self.targets.set(0, target);
        self
    }
}

/// Examples stacked along a new first axis, field by field.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Inputs, each `[B, ...input shape]` (sequences padded to the longest: `[B, T, ...]`).
    pub inputs: Fields,
    /// Targets, each `[B, ...target shape]` (`[B]` for class ids).
    pub targets: Fields,
    /// The dataset index of each row, in order.
    pub indices: Vec<usize>,
}

impl Batch {
    /// A batch with one input and one target, both `[B, ...]`, named like
    /// [`Example::new`]'s.
    pub fn new(inputs: Tensor, targets: Tensor, indices: Vec<usize>) -> Self {
        let Example { inputs, targets } = Example::new(inputs, targets);
        Self::from_fields(inputs, targets, indices)
    }

    /// A batch from batched fields (each tensor `[B, ...]`, row `r` from example `indices[r]`).
    pub fn from_fields(inputs: Fields, targets: Fields, indices: Vec<usize>) -> Self {
        Self {
            inputs,
            targets,
            indices,
        }
    }

    /// Number of examples in the batch.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch holds no example.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The first input, `[B, ...]`. Panics (at the caller's line) if there is none.
    #[track_caller]
    pub fn input(&self) -> &Tensor {
        &self.inputs[0]
    }

    /// The first target, `[B, ...]`. Panics (at the caller's line) if there is none.
    #[track_caller]
    pub fn target(&self) -> &Tensor {
        &self.targets[0]
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
/// assert_eq!(example.input().to_vec(), vec![2.0, 3.0]);
/// assert_eq!(example.target().item(), 1.0);
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
    fn get(&self, index: usize) -> DataResult<Example>;

    /// The examples at `indices`, stacked. The default calls [`Dataset::get`] for each index
    /// and copies the values into one buffer; in-memory datasets override it with row copies.
    fn get_batch(&self, indices: &[usize]) -> DataResult<Batch> {
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
    fn subset(self, indices: Vec<usize>) -> DataResult<Subset>
    where
        Self: Sized + 'static,
    {
        Subset::new(Arc::new(self), indices)
    }

    /// A seeded random split into `(train, test)`, with `round(len × test_fraction)` test
    /// examples. The same seed always gives the same split.
    fn split(self, test_fraction: f64, seed: u64) -> DataResult<(Subset, Subset)>
    where
        Self: Sized + 'static,
    {
        crate::adapters::train_test_split(Arc::new(self), test_fraction, seed)
    }

    /// This dataset followed by `other`; both must give examples of the same shapes.
    fn concat(self, other: impl Dataset + 'static) -> DataResult<Concat>
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

    fn get(&self, index: usize) -> DataResult<Example> {
        (**self).get(index)
    }

    fn get_batch(&self, indices: &[usize]) -> DataResult<Batch> {
        (**self).get_batch(indices)
    }
}

/// Examples held in memory as they are, e.g. sequences of different lengths (which a
/// [`TensorDataset`] cannot hold); batches are stacked by [`crate::stack_examples`].
///
/// ```
/// use strata_datasets::{DataLoader, Example, Fields};
/// use strata_tensor::Tensor;
/// let sentence = |ids: &[f32]| Example::from_fields(
///     Fields::new().with_sequence("ids", Tensor::from_slice(ids, &[ids.len()]), 0.0),
///     Fields::new().with("length", Tensor::scalar(ids.len() as f32)),
/// );
/// let data = vec![sentence(&[3.0, 1.0]), sentence(&[4.0, 1.0, 5.0])];
/// let batch = DataLoader::new(data, 2).epoch(0).next().unwrap().unwrap();
/// assert_eq!(batch.inputs["ids"].shape(), &[2, 3]);
/// ```
impl Dataset for Vec<Example> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        check_index(index, self.as_slice().len())?;
        Ok(self[index].clone())
    }
}

/// Checks `index < len`.
pub(crate) fn check_index(index: usize, len: usize) -> DataResult<()> {
    if index < len {
        Ok(())
    } else {
        Err(DataError::IndexOutOfRange { index, len })
    }
}

/// A dataset held in memory as tensors whose first axis indexes the examples: one input and
/// one target ([`TensorDataset::new`]) or several named ones ([`TensorDataset::from_fields`]),
/// with optional class names.
///
/// Batches are gathered with one row copy per example into a single buffer per field, so
/// loading is never the bottleneck of a training step.
///
/// ```
/// use strata_datasets::{Dataset, Fields, TensorDataset};
/// use strata_tensor::Tensor;
/// let data = TensorDataset::from_fields(
///     Fields::new().with("left", Tensor::zeros(&[5, 3])).with("right", Tensor::ones(&[5, 2])),
///     Fields::new().with("same", Tensor::zeros(&[5])),
/// ).unwrap();
/// let batch = data.get_batch(&[4, 0]).unwrap();
/// assert_eq!(batch.inputs["right"].shape(), &[2, 2]);
/// assert_eq!(batch.targets["same"].shape(), &[2]);
/// ```
#[derive(Clone, Debug)]
pub struct TensorDataset {
    inputs: Fields,
    targets: Fields,
    len: usize,
    classes: Vec<String>,
}

impl TensorDataset {
    /// Pairs `inputs [N, ...]` with `targets [N, ...]` (named like [`Example::new`]'s); an
    /// error when the first axes differ.
    pub fn new(inputs: Tensor, targets: Tensor) -> DataResult<Self> {
        let Example { inputs, targets } = Example::new(inputs, targets);
        Self::from_fields(inputs, targets)
    }

    /// Named inputs and targets, every tensor `[N, ...]` with the same `N`; an error when the
    /// first axes differ, when there is no field, or for a sequence field (in memory, every
    /// example of a field has the same shape).
    pub fn from_fields(inputs: Fields, targets: Fields) -> DataResult<Self> {
        let all = || inputs.iter().chain(targets.iter());
        let describe = || format!("inputs {inputs}, targets {targets}");
        let len = all().next().map(|f| f.value().shape().first().copied());
        let Some(Some(len)) = len else {
            return Err(DataError::invalid(
                "TensorDataset",
                "at least one tensor [N, ...]",
                describe(),
            ));
        };
        if all().any(|f| f.value().shape().first() != Some(&len) || f.padding().is_some()) {
            return Err(DataError::invalid(
                "TensorDataset",
                "fixed-shape tensors [N, ...] with the same N",
                describe(),
            ));
        }
        Ok(Self {
            inputs: inputs.map(Tensor::contiguous),
            targets: targets.map(Tensor::contiguous),
            len,
            classes: Vec::new(),
        })
    }

    /// Names the classes (class id `k` is `names[k]`).
    pub fn with_classes(mut self, names: Vec<String>) -> Self {
        self.classes = names;
        self
    }

    /// The same examples with the first input viewed as `shape` each (e.g. `[64]` for flat
    /// 8×8 images).
    pub fn with_input_shape(mut self, shape: &[usize]) -> DataResult<Self> {
        let full: Vec<isize> = [&[self.len], shape]
            .concat()
            .iter()
            .map(|&d| d as isize)
            .collect();
        let input = self.input();
        let reshaped = input.try_reshape(&full).map_err(|err| {
            DataError::invalid(
                "TensorDataset::with_input_shape",
                format!("a shape with {} elements", input.numel() / self.len.max(1)),
                format!("{shape:?} ({err})"),
            )
        })?;
        self.inputs.set(0, reshaped);
        Ok(self)
    }

    /// All inputs, each `[N, ...]`.
    pub fn inputs(&self) -> &Fields {
        &self.inputs
    }

    /// All targets, each `[N, ...]`.
    pub fn targets(&self) -> &Fields {
        &self.targets
    }

    /// The first input, `[N, ...]`.
    pub fn input(&self) -> &Tensor {
        &self.inputs[0]
    }

    /// The first target, `[N, ...]`.
    pub fn target(&self) -> &Tensor {
        &self.targets[0]
    }

    /// The class names (empty when not named).
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Shape of one example's first input.
    pub fn input_shape(&self) -> &[usize] {
        &self.input().shape()[1..]
    }
}

impl Dataset for TensorDataset {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        check_index(index, self.len())?;
        let row = |t: &Tensor| t.narrow(0, index, 1).squeeze(0);
        Ok(Example::from_fields(
            self.inputs.map(row),
            self.targets.map(row),
        ))
    }

    fn get_batch(&self, indices: &[usize]) -> DataResult<Batch> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(DataError::IndexOutOfRange {
                index: bad,
                len: self.len(),
            });
        }
        let rows = |t: &Tensor| t.index_select(0, indices);
        Ok(Batch::from_fields(
            self.inputs.map(rows),
            self.targets.map(rows),
            indices.to_vec(),
        ))
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
