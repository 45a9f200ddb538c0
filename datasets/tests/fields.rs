//! Structured examples: several named inputs and targets, variable-length sequences padded by
//! the loader, and errors for examples that cannot share a batch.

use strata_datasets::{
    stack_examples, DataLoader, DataResult, Dataset, Example, Fields, TensorDataset,
};
use strata_tensor::Tensor;

/// Example `i` of a two-input, two-target dataset: left = [i, i], right = [10 i], sum = 3 i,
/// parity = i mod 2.
fn two_by_two(n: usize) -> TensorDataset {
    let column = |f: fn(f32) -> f32| Tensor::from_vec((0..n).map(|i| f(i as f32)).collect(), &[n]);
    let left = Tensor::from_vec((0..n).flat_map(|i| [i as f32; 2]).collect(), &[n, 2]);
    TensorDataset::from_fields(
        Fields::new()
            .with("left", left)
            .with("right", column(|i| 10.0 * i).unsqueeze(1)),
        Fields::new()
            .with("sum", column(|i| 3.0 * i))
            .with("parity", column(|i| i % 2.0)),
    )
    .unwrap()
}

#[test]
fn loader_batches_every_named_field_with_the_same_rows() {
    let data = two_by_two(10);
    let loader = DataLoader::new(data, 4).shuffle(3).prefetch(1);
    let mut seen = Vec::new();
    for batch in loader.epoch(2) {
        let batch = batch.unwrap();
        assert_eq!(batch.inputs.names().collect::<Vec<_>>(), ["left", "right"]);
        assert_eq!(batch.targets.names().collect::<Vec<_>>(), ["sum", "parity"]);
        for (row, &index) in batch.indices.iter().enumerate() {
            let i = index as f32;
            assert_eq!(batch.inputs["left"].narrow(0, row, 1).to_vec(), [i, i]);
            assert_eq!(batch.inputs[1].get(&[row, 0]), 10.0 * i);
            assert_eq!(batch.targets["sum"].get(&[row]), 3.0 * i);
            assert_eq!(batch.targets["parity"].get(&[row]), i % 2.0);
        }
        seen.extend(batch.indices);
    }
    assert_ne!(seen, (0..10).collect::<Vec<_>>(), "shuffled");
    seen.sort_unstable();
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
}

#[test]
fn sharded_ranks_see_disjoint_multi_field_examples() {
    let shares: Vec<Vec<usize>> = (0..3)
        .map(|rank| {
            let loader = DataLoader::new(two_by_two(10), 2).shuffle(5).shard(rank, 3);
            loader
                .epoch(1)
                .flat_map(|b| {
                    let b = b.unwrap();
                    // Rows still line up across fields on every rank.
                    for (row, &index) in b.indices.iter().enumerate() {
                        assert_eq!(b.targets["sum"].get(&[row]), 3.0 * index as f32);
                    }
                    b.indices
                })
                .collect()
        })
        .collect();
    let mut all: Vec<usize> = shares.concat();
    assert_eq!(
        all.len(),
        9,
        "10 examples over 3 ranks: the last one left out"
    );
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 9, "disjoint shares");
}

/// Sentences of different lengths, each with a label.
struct Sentences(Vec<Vec<f32>>);

impl Dataset for Sentences {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        let tokens = &self.0[index];
        // Two features per token: the id and its position.
        let steps: Vec<f32> = tokens
            .iter()
            .enumerate()
            .flat_map(|(t, &id)| [id, t as f32])
            .collect();
        Ok(Example::from_fields(
            Fields::new().with_sequence(
                "tokens",
                Tensor::from_vec(steps, &[tokens.len(), 2]),
                -1.0,
            ),
            Fields::new()
                .with("label", Tensor::scalar(tokens.len() as f32))
                .with_sequence(
                    "next",
                    Tensor::from_vec(tokens.iter().map(|id| id + 1.0).collect(), &[tokens.len()]),
                    0.0,
                ),
        ))
    }
}

#[test]
fn sequences_are_padded_to_the_longest_of_the_batch_with_lengths_and_mask() {
    let data = Sentences(vec![vec![4.0, 5.0], vec![7.0], vec![1.0, 2.0, 3.0]]);
    let batch = DataLoader::new(data, 3).epoch(0).next().unwrap().unwrap();
    let tokens = &batch.inputs["tokens"];
    assert_eq!(tokens.shape(), &[3, 3, 2]);
    #[rustfmt::skip]
    let expected = [
        4.0, 0.0, 5.0, 1.0, -1.0, -1.0,
        7.0, 0.0, -1.0, -1.0, -1.0, -1.0,
        1.0, 0.0, 2.0, 1.0, 3.0, 2.0,
    ];
    assert_eq!(tokens.to_vec(), expected);
    assert_eq!(batch.inputs.lengths("tokens"), Some(&[2, 1, 3][..]));
    assert_eq!(
        batch.inputs.mask("tokens").unwrap().to_vec(),
        [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    );
    assert_eq!(
        batch.targets["next"].to_vec(),
        [5.0, 6.0, 0.0, 8.0, 0.0, 0.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(batch.targets["label"].to_vec(), [2.0, 1.0, 3.0]);
    assert_eq!(
        batch.targets.lengths("label"),
        None,
        "fixed fields have no lengths"
    );
    assert_eq!(batch.targets.mask("label"), None);
}

#[test]
fn a_batch_of_one_length_has_no_padding() {
    let data = Sentences(vec![vec![4.0, 5.0], vec![7.0, 8.0]]);
    let batch = DataLoader::new(data, 2).epoch(0).next().unwrap().unwrap();
    assert_eq!(batch.inputs["tokens"].shape(), &[2, 2, 2]);
    assert_eq!(batch.inputs.mask("tokens").unwrap().to_vec(), [1.0; 4]);
}

#[test]
fn examples_that_cannot_share_a_batch_give_errors_naming_both_layouts() {
    let one = Example::new(Tensor::zeros(&[2]), Tensor::scalar(0.0));
    let renamed = Example::from_fields(
        Fields::new().with("image", Tensor::zeros(&[2])),
        Fields::new().with("target", Tensor::scalar(0.0)),
    );
    let err = stack_examples(&[0, 1], |i| Ok([one.clone(), renamed.clone()][i].clone()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`input` [2]") && err.contains("`image` [2]"),
        "{err}"
    );

    let wider = Example::new(Tensor::zeros(&[3]), Tensor::scalar(0.0));
    let err = stack_examples(&[5, 6], |i| {
        Ok(if i == 5 { one.clone() } else { wider.clone() })
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("[2]") && err.contains("example 6 with [3]"),
        "{err}"
    );

    let extra = Example::from_fields(
        Fields::new()
            .with("input", Tensor::zeros(&[2]))
            .with("mask", Tensor::zeros(&[2])),
        Fields::new().with("target", Tensor::scalar(0.0)),
    );
    let err = stack_examples(&[0, 1], |i| Ok([one.clone(), extra.clone()][i].clone()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 fields"), "{err}");

    // Sequence steps of different shapes cannot be padded into one tensor.
    let seq = |steps: &[usize]| {
        Example::from_fields(
            Fields::new().with_sequence("s", Tensor::zeros(steps), 0.0),
            Fields::new(),
        )
    };
    let err = stack_examples(&[0, 1], |i| Ok([seq(&[2, 3]), seq(&[4, 2])][i].clone()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("steps shaped [3]") && err.contains("[4, 2]"),
        "{err}"
    );
}

#[test]
fn concat_refuses_parts_with_other_fields() {
    let plain = TensorDataset::new(Tensor::zeros(&[3, 2]), Tensor::zeros(&[3])).unwrap();
    let err = plain.concat(two_by_two(4)).unwrap_err().to_string();
    assert!(err.contains("`left`") && err.contains("`input`"), "{err}");
    let same = TensorDataset::new(Tensor::ones(&[2, 2]), Tensor::ones(&[2])).unwrap();
    let both = TensorDataset::new(Tensor::zeros(&[3, 2]), Tensor::zeros(&[3]))
        .unwrap()
        .concat(same)
        .unwrap();
    assert_eq!(both.get(4).unwrap().input().to_vec(), [1.0, 1.0]);
}

#[test]
fn tensor_dataset_refuses_fields_of_different_lengths() {
    let err = TensorDataset::from_fields(
        Fields::new()
            .with("a", Tensor::zeros(&[4, 2]))
            .with("b", Tensor::zeros(&[3, 2])),
        Fields::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`a` [4, 2]") && err.contains("`b` [3, 2]"),
        "{err}"
    );
    assert!(TensorDataset::from_fields(Fields::new(), Fields::new()).is_err());
}

#[test]
fn a_missing_field_panics_at_the_callers_line_naming_the_fields_there_are() {
    // The only panicking test of this file: the panic hook it sets sees no other test's panic.
    let batch = two_by_two(2).get_batch(&[0, 1]).unwrap();
    // The panic hook sees the caller's location when #[track_caller] holds through the lookup.
    let here = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = std::sync::Arc::clone(&here);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        *seen.lock().unwrap() = info.location().map(|l| (l.file().to_string(), l.line()));
    }));
    let expected_line = line!() + 1;
    let result = std::panic::catch_unwind(|| batch.inputs["caption"].numel());
    std::panic::set_hook(previous);
    let payload = result.expect_err("a missing field panics");
    let message = payload
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert_eq!(
        message,
        "Fields: no field `caption` among [\"left\", \"right\"]"
    );
    let (file, line) = here.lock().unwrap().clone().expect("a location");
    assert!(file.ends_with("tests/fields.rs"), "{file}");
    assert_eq!(line, expected_line);
}
