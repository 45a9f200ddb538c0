//! The description of a run stored in its checkpoint: enough to rebuild its network and its
//! test split.

use crate::data::{self, DataSpec, DatasetName};
use crate::model::{ModelKind, ModelSpec};
use std::collections::BTreeMap;
use strata_datasets::Normalize;

/// A run, as far as rebuilding its network and its test split goes.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// The data and its split.
    pub data: DataSpec,
    /// The network.
    pub model: ModelSpec,
    /// The standardisation of the inputs, measured on the training split.
    pub normalize: Normalize,
}

/// Checkpoint metadata keys. The data is identified by the dataset's name (the fetched files
/// are checked against their published SHA-256 when downloaded), never by the folder it was
/// read from on one machine: `eval` finds it through `--data-dir` or the fetch cache.
const DATASET: &str = "recipe.dataset";
const SEED: &str = "recipe.seed";
const TEST_FRACTION: &str = "recipe.test_fraction";
const MODEL: &str = "recipe.model";
const INPUT_SHAPE: &str = "recipe.input_shape";
const CLASSES: &str = "recipe.classes";
const WIDTHS: &str = "recipe.widths";
const KERNEL: &str = "recipe.kernel";
const PADDING: &str = "recipe.padding";
/// Written since batch normalisation and dropout entered the recipes; a checkpoint without
/// them holds a network without either, which is how it is rebuilt.
const BATCH_NORM: &str = "recipe.batch_norm";
const DROPOUT: &str = "recipe.dropout";
const NORMALIZE_MEAN: &str = "recipe.normalize_mean";
const NORMALIZE_STD: &str = "recipe.normalize_std";

impl RunSpec {
    /// The run as checkpoint metadata (numbers in their shortest exact decimal form).
    pub fn to_metadata(&self) -> BTreeMap<String, String> {
        let mut meta = BTreeMap::new();
        let mut put = |key: &str, value: String| {
            meta.insert(key.to_string(), value);
        };
        put(DATASET, self.data.dataset.name().into());
        put(SEED, self.data.seed.to_string());
        put(TEST_FRACTION, data::TEST_FRACTION.to_string());
        put(MODEL, self.model.kind.name().into());
        put(INPUT_SHAPE, join(&self.model.input_shape));
        put(CLASSES, self.model.classes.to_string());
        put(WIDTHS, join(&self.model.widths));
        put(KERNEL, self.model.kernel.to_string());
        put(PADDING, self.model.padding.to_string());
        put(BATCH_NORM, self.model.batch_norm.to_string());
        put(DROPOUT, self.model.dropout.to_string());
        put(NORMALIZE_MEAN, join(self.normalize.mean()));
        put(NORMALIZE_STD, join(self.normalize.std()));
        meta
    }

    /// Reads a run back from checkpoint metadata (a checkpoint written before batch
    /// normalisation and dropout were recorded describes a network without them).
    pub fn from_metadata(meta: &BTreeMap<String, String>) -> Result<Self, String> {
        let get = |key: &str| {
            meta.get(key).map(String::as_str).ok_or_else(|| {
                format!("the checkpoint has no `{key}` entry: it was not written by `cargo xtask train-demo` or `strata-mpi-train`")
            })
        };
        let optional =
            |key: &str, absent: &'static str| meta.get(key).map_or(absent, String::as_str);
        let test_fraction: f64 = parse(TEST_FRACTION, get(TEST_FRACTION)?)?;
        if test_fraction != data::TEST_FRACTION {
            return Err(format!(
                "the checkpoint's test split holds {test_fraction} of the data, this build holds out {}",
                data::TEST_FRACTION
            ));
        }
        let normalize = Normalize::per_channel(
            parse_list(NORMALIZE_MEAN, get(NORMALIZE_MEAN)?)?,
            parse_list(NORMALIZE_STD, get(NORMALIZE_STD)?)?,
        )
        .map_err(|err| err.to_string())?;
        Ok(Self {
            data: DataSpec {
                dataset: DatasetName::parse(get(DATASET)?)?,
                data_dir: None,
                seed: parse(SEED, get(SEED)?)?,
            },
            model: ModelSpec {
                kind: ModelKind::parse(get(MODEL)?)?,
                input_shape: parse_list(INPUT_SHAPE, get(INPUT_SHAPE)?)?,
                classes: parse(CLASSES, get(CLASSES)?)?,
                widths: parse_list(WIDTHS, get(WIDTHS)?)?,
                kernel: parse(KERNEL, get(KERNEL)?)?,
                padding: parse(PADDING, get(PADDING)?)?,
                batch_norm: parse(BATCH_NORM, optional(BATCH_NORM, "false"))?,
                dropout: parse(DROPOUT, optional(DROPOUT, "0"))?,
            },
            normalize,
        })
    }
}

fn join<T: ToString>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse<T: std::str::FromStr>(key: &str, text: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("checkpoint entry `{key}`: cannot read {text:?}"))
}

fn parse_list<T: std::str::FromStr>(key: &str, text: &str) -> Result<Vec<T>, String> {
    text.split(',')
        .filter(|item| !item.is_empty())
        .map(|item| parse(key, item))
        .collect()
}
