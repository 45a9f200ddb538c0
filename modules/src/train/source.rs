//! Where the trainer's batches come from: a [`DataLoader`] (the usual case), a closure that
//! yields each epoch's batches (data streamed from elsewhere), or nothing (`()`, no
//! validation).

use strata_datasets::{Batch, DataError, DataLoader, Epoch};
use strata_tensor::Tensor;

/// A source of batches, epoch after epoch.
pub trait BatchSource {
    /// The iterator of one epoch's batches.
    type Batches<'a>: Iterator<Item = Result<Batch, DataError>>
    where
        Self: 'a;

    /// The batches of `epoch` (0-based), in order.
    fn batches(&mut self, epoch: usize) -> Self::Batches<'_>;

    /// Batches per epoch, when known (progress bars use it).
    fn batches_per_epoch(&self) -> Option<usize> {
        None
    }
}

impl BatchSource for &DataLoader {
    type Batches<'a>
        = Epoch
    where
        Self: 'a;

    /// The loader's epoch `epoch`: shuffled (if the loader shuffles) by that epoch number,
    /// so a resumed run sees the same order as an uninterrupted one.
    fn batches(&mut self, epoch: usize) -> Epoch {
        self.epoch(epoch as u64)
    }

    fn batches_per_epoch(&self) -> Option<usize> {
        Some(self.num_batches())
    }
}

/// A loader handed over by value: as `&DataLoader`.
impl BatchSource for DataLoader {
    type Batches<'a>
        = Epoch
    where
        Self: 'a;

    fn batches(&mut self, epoch: usize) -> Epoch {
        (&*self).batches(epoch)
    }

    fn batches_per_epoch(&self) -> Option<usize> {
        (&self).batches_per_epoch()
    }
}

/// No batches: `fit(…, &train, ())` trains without validation.
impl BatchSource for () {
    type Batches<'a> = std::iter::Empty<Result<Batch, DataError>>;

    fn batches(&mut self, _epoch: usize) -> Self::Batches<'_> {
        std::iter::empty()
    }

    fn batches_per_epoch(&self) -> Option<usize> {
        Some(0)
    }
}

/// A closure `epoch -> batches`, for data streamed from elsewhere; it may yield [`Batch`]es,
/// `Result<Batch, DataError>`s, or `(inputs, targets)` tensor pairs.
impl<F, I> BatchSource for F
where
    F: FnMut(usize) -> I,
    I: IntoIterator,
    I::Item: IntoBatch,
{
    type Batches<'a>
        = std::iter::Map<I::IntoIter, fn(I::Item) -> Result<Batch, DataError>>
    where
        Self: 'a;

    fn batches(&mut self, epoch: usize) -> Self::Batches<'_> {
        self(epoch).into_iter().map(IntoBatch::into_batch)
    }
}

/// What a batch closure may yield.
pub trait IntoBatch {
    /// The batch, or the error that ends training.
    fn into_batch(self) -> Result<Batch, DataError>;
}

impl IntoBatch for Batch {
    fn into_batch(self) -> Result<Batch, DataError> {
        Ok(self)
    }
}

impl IntoBatch for Result<Batch, DataError> {
    fn into_batch(self) -> Result<Batch, DataError> {
        self
    }
}

/// `(inputs [B, ...], targets [B, ...])`: a batch with one input and one target.
impl IntoBatch for (Tensor, Tensor) {
    fn into_batch(self) -> Result<Batch, DataError> {
        let rows = self.0.shape().first().copied().unwrap_or(1);
        Ok(Batch::new(self.0, self.1, (0..rows).collect()))
    }
}
