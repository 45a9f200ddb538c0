//! Serde support: a tensor is written as its shape and its row-major values; reading checks
//! that they agree.

use crate::error::TensorError;
use crate::Tensor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A tensor as it is serialised: its shape and its row-major values, not yet checked against
/// each other. `Tensor::try_from(record)` checks them; deserialising a [`Tensor`] does so
/// itself, so read a record only to say which tensor a refused one was.
///
/// ```
/// use strata_tensor::{Tensor, TensorRecord};
/// let record = TensorRecord { shape: vec![2, 2], data: vec![1.0] };
/// let err = Tensor::try_from(record).unwrap_err();
/// assert_eq!(err.to_string(), "from_vec: shape [2, 2] needs 4 elements, found 1");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorRecord {
    /// The dimensions.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f32>,
}

impl TryFrom<TensorRecord> for Tensor {
    type Error = TensorError;

    fn try_from(record: TensorRecord) -> Result<Self, TensorError> {
        Tensor::try_from_vec(record.data, &record.shape)
    }
}

impl Serialize for Tensor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        TensorRecord {
            shape: self.shape().to_vec(),
            data: self.to_vec(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Tensor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Tensor::try_from(TensorRecord::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}
