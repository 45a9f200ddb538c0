//! Collation: examples stacked into a batch, field by field, with variable-length sequences
//! padded to the longest one.

use crate::dataset::{Batch, Example};
use crate::error::{DataError, DataResult};
use crate::fields::{Field, Fields};
use strata_tensor::Tensor;

/// Stacks the examples produced for `indices` into one batch: each field becomes
/// `[B, ...shape]`, copied into one buffer. Every example must have the fields of the first
/// (same names, in the same order) with the same shapes, except sequence fields
/// ([`Fields::with_sequence`]), which may differ in length: they are padded to the longest
/// of the batch and their lengths kept ([`Fields::lengths`]).
pub fn stack_examples(
    indices: &[usize],
    example: impl FnMut(usize) -> DataResult<Example>,
) -> DataResult<Batch> {
    if indices.is_empty() {
        return Err(DataError::invalid(
            "stack_examples",
            "at least one index",
            "an empty list",
        ));
    }
    let examples = indices
        .iter()
        .copied()
        .map(example)
        .collect::<DataResult<Vec<_>>>()?;
    let stack = |side: &str, fields_of: fn(&Example) -> &Fields| {
        let rows: Vec<&Fields> = examples.iter().map(fields_of).collect();
        stack_fields(side, &rows, indices)
    };
    Ok(Batch::from_fields(
        stack("inputs", |e| &e.inputs)?,
        stack("targets", |e| &e.targets)?,
        indices.to_vec(),
    ))
}

/// The fields of `rows` (one per example, dataset indices `indices`) stacked.
fn stack_fields(side: &str, rows: &[&Fields], indices: &[usize]) -> DataResult<Fields> {
    let first = rows[0];
    if let Some(other) = rows.iter().position(|r| r.len() != first.len()) {
        return Err(mismatch(
            side,
            (indices[0], first),
            indices[other],
            format!("{} fields", rows[other].len()),
        ));
    }
    let mut out = Fields::new();
    for (position, field) in first.iter().enumerate() {
        let mut values = Vec::with_capacity(rows.len());
        for (row, &index) in rows.iter().zip(indices) {
            match row.field(position) {
                Some(f) if f.name() == field.name() && f.padding() == field.padding() => {
                    values.push(f.value());
                }
                found => {
                    return Err(mismatch(
                        side,
                        (indices[0], first),
                        index,
                        format!(
                            "{} at position {position}",
                            found.map_or("nothing".to_string(), Field::to_string)
                        ),
                    ))
                }
            }
        }
        let (value, lengths) = match field.padding() {
            None => (
                stack_same_shape(side, field.name(), &values, indices)?,
                None,
            ),
            Some(padding) => {
                let (value, lengths) =
                    pad_sequences(side, field.name(), &values, indices, padding)?;
                (value, Some(lengths))
            }
        };
        out.push_batched(field, value, lengths);
    }
    Ok(out)
}

/// The error for an example whose fields do not line up with the first example's.
fn mismatch(
    side: &str,
    (first_index, first): (usize, &Fields),
    index: usize,
    found: String,
) -> DataError {
    DataError::invalid(
        "stack_examples",
        format!("{side} like example {first_index}'s: {first}"),
        format!("example {index} with {found}"),
    )
}

/// Fixed-shape values stacked to `[B, ...shape]`.
fn stack_same_shape(
    side: &str,
    name: &str,
    values: &[&Tensor],
    indices: &[usize],
) -> DataResult<Tensor> {
    let shape = values[0].shape();
    let mut data = Vec::with_capacity(values.len() * values[0].numel());
    for (value, &index) in values.iter().zip(indices) {
        if value.shape() != shape {
            return Err(DataError::invalid(
                "stack_examples",
                format!(
                    "{side} `{name}` shaped {shape:?} in every example (like example {})",
                    indices[0]
                ),
                format!("example {index} with {:?}", value.shape()),
            ));
        }
        data.extend_from_slice(&value.values());
    }
    Ok(Tensor::from_vec(data, &[&[values.len()], shape].concat()))
}

/// Sequences `[T_i, ...]` padded with `padding` to `[B, max T_i, ...]`, and the `T_i`.
fn pad_sequences(
    side: &str,
    name: &str,
    values: &[&Tensor],
    indices: &[usize],
    padding: f32,
) -> DataResult<(Tensor, Vec<usize>)> {
    let step_shape = &values[0].shape()[1..];
    let step_len: usize = step_shape.iter().product();
    let lengths: Vec<usize> = values.iter().map(|v| v.shape()[0]).collect();
    let longest = lengths.iter().copied().max().unwrap_or(0);
    let mut data = vec![padding; values.len() * longest * step_len];
    for ((value, &index), row) in values
        .iter()
        .zip(indices)
        .zip(data.chunks_mut((longest * step_len).max(1)))
    {
        if &value.shape()[1..] != step_shape {
            return Err(DataError::invalid(
                "stack_examples",
                format!(
                    "{side} sequence `{name}` with steps shaped {step_shape:?} in every example \
                     (like example {})",
                    indices[0]
                ),
                format!("example {index} with {:?}", value.shape()),
            ));
        }
        let values = value.values();
        row[..values.len()].copy_from_slice(&values);
    }
    let shape = [&[values.len(), longest], step_shape].concat();
    Ok((Tensor::from_vec(data, &shape), lengths))
}
