//! Serde support: a tensor is written as its shape and its row-major values; reading checks
//! that they agree.

use crate::Tensor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
struct TensorRecord {
    shape: Vec<usize>,
    data: Vec<f32>,
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
        let record = TensorRecord::deserialize(deserializer)?;
        Tensor::try_from_vec(record.data, &record.shape).map_err(serde::de::Error::custom)
    }
}
