//! `NamedTensor`, whose deserialisation names the tensor when its shape or values are refused.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use strata_tensor::{Tensor, TensorRecord};

/// A tensor with its dotted name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedTensor {
    /// E.g. `encoder.0.weight`.
    pub name: String,
    /// The values.
    pub tensor: Tensor,
}

impl NamedTensor {
    /// `tensor` under `name`.
    pub fn new(name: impl Into<String>, tensor: Tensor) -> Self {
        Self {
            name: name.into(),
            tensor,
        }
    }
}

/// The tensor of a record, or an error that names it (e.g. ``tensor `0.weight`: from_vec:
/// expected a shape of at most … elements, found [..]``).
fn named<E: de::Error>(name: &str, record: TensorRecord) -> Result<Tensor, E> {
    Tensor::try_from(record).map_err(|err| E::custom(format_args!("tensor `{name}`: {err}")))
}

struct NamedTensorVisitor;

impl<'de> Visitor<'de> for NamedTensorVisitor {
    type Value = NamedTensor;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name and a tensor")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NamedTensor, A::Error> {
        let name: String = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let record = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        let tensor = named(&name, record)?;
        Ok(NamedTensor { name, tensor })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NamedTensor, A::Error> {
        let (mut name, mut record) = (None::<String>, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => name = Some(map.next_value()?),
                "tensor" => record = Some(map.next_value()?),
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            }
        }
        let name = name.ok_or_else(|| de::Error::missing_field("name"))?;
        let record = record.ok_or_else(|| de::Error::missing_field("tensor"))?;
        let tensor = named(&name, record)?;
        Ok(NamedTensor { name, tensor })
    }
}

const FIELDS: &[&str] = &["name", "tensor"];

impl<'de> Deserialize<'de> for NamedTensor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("NamedTensor", FIELDS, NamedTensorVisitor)
    }
}
