//! Named tensors: the inputs (or the targets) of one example or of one batch.
//!
//! A model with several inputs reads them by name (`batch.inputs["image"]`) or by position
//! (`batch.inputs[1]`). A field can be a variable-length sequence along its first axis: when
//! examples are batched it is padded to the longest one, and the batch keeps each row's length
//! ([`Fields::lengths`]) and a 0/1 mask ([`Fields::mask`]).

use std::fmt;
use std::ops::Index;
use strata_tensor::Tensor;

/// One named tensor, and whether it is a variable-length sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    name: String,
    value: Tensor,
    /// Set for a sequence: the value padding fills when examples of other lengths are batched.
    padding: Option<f32>,
    /// In a batch of sequences: the length of each row before padding.
    lengths: Option<Vec<usize>>,
}

impl Field {
    /// The field's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field's tensor.
    pub fn value(&self) -> &Tensor {
        &self.value
    }

    /// For a variable-length sequence, the value padding fills (`None` for a fixed shape).
    pub fn padding(&self) -> Option<f32> {
        self.padding
    }

    /// In a batch of sequences, the length of each row before padding.
    pub fn lengths(&self) -> Option<&[usize]> {
        self.lengths.as_deref()
    }
}

/// Something that picks a field: its name (`&str`) or its position (`usize`).
pub trait FieldKey: fmt::Display + Copy {
    /// The position of the field this key names in `fields`.
    fn position(self, fields: &Fields) -> Option<usize>;
}

impl FieldKey for usize {
    fn position(self, fields: &Fields) -> Option<usize> {
        (self < fields.len()).then_some(self)
    }
}

impl FieldKey for &str {
    fn position(self, fields: &Fields) -> Option<usize> {
        fields.entries.iter().position(|f| f.name == self)
    }
}

/// Named tensors in order: the inputs or the targets of an [`crate::Example`] or a
/// [`crate::Batch`].
///
/// ```
/// use strata_datasets::Fields;
/// use strata_tensor::Tensor;
/// let fields = Fields::new()
///     .with("image", Tensor::zeros(&[1, 8, 8]))
///     .with_sequence("caption", Tensor::from_vec(vec![4.0, 2.0, 7.0], &[3]), 0.0);
/// assert_eq!(fields.len(), 2);
/// assert_eq!(fields["caption"].shape(), &[3]);
/// assert_eq!(fields[0].shape(), &[1, 8, 8]);
/// assert_eq!(fields.names().collect::<Vec<_>>(), ["image", "caption"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields {
    entries: Vec<Field>,
}

impl Fields {
    /// No field yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a fixed-shape field (builder style). Panics if a field of that name exists.
    #[track_caller]
    pub fn with(self, name: &str, value: Tensor) -> Self {
        self.with_field(name, value, None)
    }

    /// Adds a variable-length sequence along the first axis: batching pads it with `padding`
    /// to the longest example of the batch and records each row's length. Panics if a field of
    /// that name exists, or if `value` has no axis.
    #[track_caller]
    pub fn with_sequence(self, name: &str, value: Tensor, padding: f32) -> Self {
        assert!(
            value.ndim() > 0,
            "Fields::with_sequence: expected a tensor [T, ...] for `{name}`, found a scalar"
        );
        self.with_field(name, value, Some(padding))
    }

    #[track_caller]
    fn with_field(mut self, name: &str, value: Tensor, padding: Option<f32>) -> Self {
        assert!(
            self.entries.iter().all(|f| f.name != name),
            "Fields: a field named `{name}` already exists"
        );
        self.entries.push(Field {
            name: name.to_string(),
            value,
            padding,
            lengths: None,
        });
        self
    }

    /// A batched field (used by collation): the stacked tensor and, for sequences, the lengths.
    pub(crate) fn push_batched(
        &mut self,
        like: &Field,
        value: Tensor,
        lengths: Option<Vec<usize>>,
    ) {
        self.entries.push(Field {
            name: like.name.clone(),
            value,
            padding: like.padding,
            lengths,
        });
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The field names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|f| f.name.as_str())
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Field> {
        self.entries.iter()
    }

    /// Whether `other` has fields of the same names, kinds and shapes (sequences: the same
    /// shape of one step), in the same order: whether examples of both can share a batch.
    pub fn same_layout(&self, other: &Fields) -> bool {
        let layout = |f: &Field| {
            let shape = f.value.shape();
            let fixed = if f.padding.is_some() {
                &shape[1..]
            } else {
                shape
            };
            (f.name.clone(), f.padding.map(f32::to_bits), fixed.to_vec())
        };
        self.len() == other.len() && self.iter().map(layout).eq(other.iter().map(layout))
    }

    /// The tensor of the field named or numbered `key`, if there is one.
    pub fn get(&self, key: impl FieldKey) -> Option<&Tensor> {
        self.field(key).map(Field::value)
    }

    /// The field named or numbered `key`, if there is one.
    pub fn field(&self, key: impl FieldKey) -> Option<&Field> {
        key.position(self).map(|i| &self.entries[i])
    }

    /// For a batched sequence field, the length of each row before padding.
    pub fn lengths(&self, key: impl FieldKey) -> Option<&[usize]> {
        self.field(key).and_then(Field::lengths)
    }

    /// For a batched sequence field `[B, T, ...]`, a `[B, T]` mask: 1 at the positions each
    /// row really has, 0 at padding.
    ///
    /// ```
    /// use strata_datasets::{stack_examples, Example, Fields};
    /// use strata_tensor::Tensor;
    /// let example = |tokens: Vec<f32>| {
    ///     let n = tokens.len();
    ///     let inputs = Fields::new().with_sequence("tokens", Tensor::from_vec(tokens, &[n]), -1.0);
    ///     Example::from_fields(inputs, Fields::new().with("label", Tensor::scalar(0.0)))
    /// };
    /// let examples = [example(vec![5.0, 6.0, 7.0]), example(vec![8.0])];
    /// let batch = stack_examples(&[0, 1], |i| Ok(examples[i].clone())).unwrap();
    /// assert_eq!(batch.inputs["tokens"].to_vec(), vec![5.0, 6.0, 7.0, 8.0, -1.0, -1.0]);
    /// assert_eq!(batch.inputs.lengths("tokens"), Some(&[3, 1][..]));
    /// assert_eq!(batch.inputs.mask("tokens").unwrap().to_vec(), vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
    /// ```
    pub fn mask(&self, key: impl FieldKey) -> Option<Tensor> {
        let field = self.field(key)?;
        let lengths = field.lengths.as_ref()?;
        let steps = field.value.shape().get(1).copied().unwrap_or(0);
        let mut mask = vec![0.0; lengths.len() * steps];
        for (row, &len) in mask.chunks_mut(steps.max(1)).zip(lengths) {
            row[..len.min(steps)].fill(1.0);
        }
        Some(Tensor::from_vec(mask, &[lengths.len(), steps]))
    }

    /// The same fields with each tensor replaced by `f(tensor)` (names and kinds kept).
    pub fn map(&self, mut f: impl FnMut(&Tensor) -> Tensor) -> Fields {
        let entries = self
            .entries
            .iter()
            .map(|field| Field {
                value: f(&field.value),
                ..field.clone()
            })
            .collect();
        Fields { entries }
    }

    /// Replaces the tensor of the field named or numbered `key`, keeping its name and kind.
    /// Panics if there is no such field.
    #[track_caller]
    pub fn set(&mut self, key: impl FieldKey, value: Tensor) {
        let position = self.expect_position(key);
        self.entries[position].value = value;
    }

    /// The position of `key`'s field; panics at the caller's line (a closure would not carry
    /// `#[track_caller]`, hence the `match`) naming the fields there are.
    #[track_caller]
    fn expect_position(&self, key: impl FieldKey) -> usize {
        match key.position(self) {
            Some(position) => position,
            None => panic!(
                "Fields: no field `{key}` among {:?}",
                self.names().collect::<Vec<_>>()
            ),
        }
    }
}

impl fmt::Display for Field {
    /// `name [shape]`, or `sequence name [shape]` for a variable-length one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.padding.is_some() {
            "sequence "
        } else {
            ""
        };
        write!(f, "{kind}`{}` {:?}", self.name, self.value.shape())
    }
}

impl fmt::Display for Fields {
    /// The fields, comma-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.iter().map(Field::to_string).collect();
        write!(f, "[{}]", parts.join(", "))
    }
}

impl<K: FieldKey> Index<K> for Fields {
    type Output = Tensor;

    /// The tensor of the field named or numbered `key`; panics (at the caller's line) naming
    /// the fields there are if there is none.
    #[track_caller]
    fn index(&self, key: K) -> &Tensor {
        &self.entries[self.expect_position(key)].value
    }
}
