//! Character-level text: a vocabulary of the distinct characters, encode/decode, and a
//! dataset of fixed-length windows for next-character prediction.

use crate::dataset::{check_index, Batch, Dataset, Example};
use crate::error::{DataError, DataResult};
use std::collections::HashMap;
use strata_tensor::Tensor;

/// The distinct characters of a text, sorted; character `vocabulary.chars()[k]` has id `k`.
///
/// ```
/// use strata_datasets::Vocabulary;
/// let vocab = Vocabulary::from_text("hello");
/// assert_eq!(vocab.chars(), &['e', 'h', 'l', 'o']);
/// let ids = vocab.encode("hole").unwrap();
/// assert_eq!(ids, vec![1, 3, 2, 0]);
/// assert_eq!(vocab.decode(&ids).unwrap(), "hole");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    chars: Vec<char>,
    ids: HashMap<char, usize>,
}

impl Vocabulary {
    /// The sorted distinct characters (Unicode scalar values) of `text`.
    pub fn from_text(text: &str) -> Self {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        let ids = chars.iter().enumerate().map(|(id, &c)| (c, id)).collect();
        Self { chars, ids }
    }

    /// Number of distinct characters.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Whether the vocabulary is empty.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters, by id.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The id of `c`, if it is in the vocabulary.
    pub fn id(&self, c: char) -> Option<usize> {
        self.ids.get(&c).copied()
    }

    /// The ids of the characters of `text`; an error names the first unknown character.
    pub fn encode(&self, text: &str) -> DataResult<Vec<usize>> {
        text.chars()
            .enumerate()
            .map(|(at, c)| {
                self.id(c).ok_or_else(|| {
                    DataError::invalid(
                        "Vocabulary::encode",
                        format!("characters of the {}-character vocabulary", self.len()),
                        format!("{c:?} at character {at}"),
                    )
                })
            })
            .collect()
    }

    /// The text of `ids`; an error names the first id outside the vocabulary.
    pub fn decode(&self, ids: &[usize]) -> DataResult<String> {
        ids.iter()
            .map(|&id| {
                self.chars.get(id).copied().ok_or_else(|| {
                    DataError::invalid(
                        "Vocabulary::decode",
                        format!("ids in 0..{}", self.len()),
                        id.to_string(),
                    )
                })
            })
            .collect()
    }
}

/// Every window of `window` characters of a text: example `i` has input ids
/// `text[i..i + T]` and target ids `text[i + 1..i + T + 1]` (the next character at each
/// position), both `[T]` as whole-number `f32`.
///
/// ```
/// use strata_datasets::{CharDataset, Dataset};
/// let data = CharDataset::new("abcab", 2).unwrap();
/// assert_eq!(data.len(), 3);
/// let example = data.get(1).unwrap();       // "bc" → "ca"
/// assert_eq!(example.input().to_vec(), vec![1.0, 2.0]);
/// assert_eq!(example.target().to_vec(), vec![2.0, 0.0]);
/// ```
#[derive(Clone, Debug)]
pub struct CharDataset {
    vocabulary: Vocabulary,
    ids: Vec<f32>,
    window: usize,
}

impl CharDataset {
    /// Windows of `window` characters over `text`, with the text's own vocabulary. The text
    /// must be longer than the window.
    pub fn new(text: &str, window: usize) -> DataResult<Self> {
        Self::with_vocabulary(text, window, Vocabulary::from_text(text))
    }

    /// Windows over `text` encoded with a given vocabulary (e.g. a training set's, for its
    /// validation text).
    pub fn with_vocabulary(text: &str, window: usize, vocabulary: Vocabulary) -> DataResult<Self> {
        let ids: Vec<f32> = vocabulary
            .encode(text)?
            .into_iter()
            .map(|id| id as f32)
            .collect();
        if window == 0 || ids.len() <= window {
            return Err(DataError::invalid(
                "CharDataset",
                "a positive window shorter than the text",
                format!("window {window} over {} characters", ids.len()),
            ));
        }
        Ok(Self {
            vocabulary,
            ids,
            window,
        })
    }

    /// The vocabulary.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// The window length `T`.
    pub fn window(&self) -> usize {
        self.window
    }
}

impl Dataset for CharDataset {
    fn len(&self) -> usize {
        self.ids.len() - self.window
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        let batch = self.get_batch(&[index])?;
        let row = |t: &Tensor| t.squeeze(0);
        Ok(Example::from_fields(
            batch.inputs.map(row),
            batch.targets.map(row),
        ))
    }

    fn get_batch(&self, indices: &[usize]) -> DataResult<Batch> {
        let mut inputs = Vec::with_capacity(indices.len() * self.window);
        let mut targets = Vec::with_capacity(indices.len() * self.window);
        for &index in indices {
            check_index(index, self.len())?;
            inputs.extend_from_slice(&self.ids[index..index + self.window]);
            targets.extend_from_slice(&self.ids[index + 1..index + self.window + 1]);
        }
        let shape = [indices.len(), self.window];
        Ok(Batch::new(
            Tensor::from_vec(inputs, &shape),
            Tensor::from_vec(targets, &shape),
            indices.to_vec(),
        ))
    }
}

/// Token ids as the whole-number `f32` tensor of `shape` that embeddings and losses read.
///
/// Panics (at the caller's line) if `shape` does not hold exactly the ids given.
///
/// ```
/// use strata_datasets::token_tensor;
/// let t = token_tensor([3, 1, 4, 1, 5, 9], &[2, 3]);
/// assert_eq!(t.to_vec(), vec![3.0, 1.0, 4.0, 1.0, 5.0, 9.0]);
/// ```
#[track_caller]
pub fn token_tensor(ids: impl IntoIterator<Item = usize>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(ids.into_iter().map(|id| id as f32).collect(), shape)
}
