//! Save/load: bit-exact round trips, atomic writes, and every error path of loading.

mod common;

use common::mlp;
use strata_modules::{
    load_model, save_model, Adam, Checkpoint, CheckpointError, Dense, Module, Optimizer, Params,
    Sgd, Var,
};
use strata_tensor::{Rng, Tensor};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-ckpt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn outputs(model: &dyn Module) -> Vec<f32> {
    let x = Tensor::rand_normal(&[7, 2], 0.0, 1.0, &mut Rng::new(99));
    model.forward(&Var::constant(x)).value().to_vec()
}

#[test]
fn save_then_load_reproduces_outputs_bit_for_bit() {
    let dir = temp_dir("roundtrip");
    let path = dir.join("model.ckpt");
    let model = mlp(8, 3, &mut Rng::new(1));
    save_model(&model, &path).unwrap();
    let mut other = mlp(8, 3, &mut Rng::new(2));
    assert_ne!(outputs(&model), outputs(&other));
    load_model(&mut other, &path).unwrap();
    let (a, b) = (outputs(&model), outputs(&other));
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn optimizer_state_round_trips() {
    let mut model = mlp(4, 2, &mut Rng::new(3));
    let mut adam = Adam::new(0.01);
    let x = Var::constant(Tensor::ones(&[2, 2]));
    let grads = model.forward(&x).square().sum().backward().unwrap();
    adam.step(&mut model, &grads);
    let bytes = Checkpoint::of_model(&model)
        .with_optimizer(&adam)
        .to_bytes()
        .unwrap();
    let restored = Checkpoint::from_bytes(&bytes).unwrap();
    let mut fresh = Adam::new(0.5);
    restored.apply_to_optimizer(&mut fresh, &model).unwrap();
    assert_eq!(fresh.state(), adam.state());
    // A state of another kind is refused with both kinds named.
    let err = restored
        .apply_to_optimizer(&mut Sgd::new(0.1), &model)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint: optimizer state: expected a `sgd` state, found a `adam` state"
    );
}

#[test]
fn saving_over_an_existing_checkpoint_replaces_it_and_leaves_no_temporary_files() {
    let dir = temp_dir("replace");
    let path = dir.join("model.ckpt");
    save_model(&mlp(4, 2, &mut Rng::new(1)), &path).unwrap();
    let newer = mlp(4, 2, &mut Rng::new(2));
    save_model(&newer, &path).unwrap();
    let mut loaded = mlp(4, 2, &mut Rng::new(3));
    load_model(&mut loaded, &path).unwrap();
    assert_eq!(outputs(&loaded), outputs(&newer));
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, vec!["model.ckpt"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_save_reports_the_path_and_cleans_up() {
    let dir = temp_dir("failed");
    // The target is a directory, so the final rename fails after the data was written.
    let target = dir.join("occupied");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"x").unwrap();
    let err = save_model(&mlp(4, 2, &mut Rng::new(1)), &target).unwrap_err();
    assert!(
        matches!(err, CheckpointError::Io { ref path, .. } if path == &target),
        "{err}"
    );
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["occupied"],
        "no temporary file may be left behind"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn load_errors_name_what_was_expected_and_found() {
    let model = mlp(4, 2, &mut Rng::new(1));
    let good = Checkpoint::of_model(&model).to_bytes().unwrap();

    let err = Checkpoint::from_bytes(b"PK\x03\x04 a zip file").unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a Strata checkpoint: expected the magic bytes \"STRATAck\", found [80, 75, 3, 4, 32, 97, 32, 122]"
    );

    let err = Checkpoint::from_bytes(&good[..good.len() - 10]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "checkpoint is truncated or padded: expected {} bytes, found {}",
            good.len(),
            good.len() - 10
        )
    );
    assert!(matches!(
        Checkpoint::from_bytes(&good[..15]),
        Err(CheckpointError::Truncated { .. })
    ));

    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x40;
    assert!(matches!(
        Checkpoint::from_bytes(&flipped),
        Err(CheckpointError::Corrupted { .. })
    ));

    let mut future = good.clone();
    future[8..12].copy_from_slice(&7u32.to_le_bytes());
    assert_eq!(
        Checkpoint::from_bytes(&future).unwrap_err().to_string(),
        "checkpoint format version 7 is not supported (this build reads version 3)"
    );

    let err = Checkpoint::load("/nonexistent/strata/model.ckpt").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("checkpoint /nonexistent/strata/model.ckpt: "),
        "{err}"
    );
}

#[test]
fn loading_into_a_different_model_names_the_first_mismatch_and_changes_nothing() {
    let saved = Checkpoint::of_model(&mlp(4, 2, &mut Rng::new(1)));

    let mut wider = mlp(5, 2, &mut Rng::new(2));
    let before = outputs(&wider);
    let err = saved.apply_to(&mut wider).unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint does not fit the model: parameter `0.weight` has shape [5, 2] in the model but [4, 2] in the checkpoint"
    );
    assert_eq!(
        outputs(&wider),
        before,
        "a failed load must leave the model untouched"
    );

    let mut single = Dense::new(2, 4, &mut Rng::new(3));
    let err = saved.apply_to(&mut single).unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint does not fit the model: parameter `weight` is missing from the checkpoint"
    );

    let mut no_bias =
        strata_modules::Sequential::new().push(Dense::without_bias(2, 4, &mut Rng::new(4)));
    let one_layer = Checkpoint::of_model(&strata_modules::Sequential::new().push(Dense::new(
        2,
        4,
        &mut Rng::new(5),
    )));
    let err = one_layer.apply_to(&mut no_bias).unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint does not fit the model: the checkpoint has parameter `0.bias`, which the model lacks"
    );

    let err = saved
        .apply_to_optimizer(&mut Adam::new(0.1), &single)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint does not fit the model: expected an optimizer state, found none"
    );
    assert_eq!(single.num_parameters(), 12);
}

#[test]
fn a_length_field_claiming_an_exabyte_is_refused_before_anything_is_allocated() {
    // One parameter whose name claims 2^60 bytes (varint tag 0xFD: a u64 follows): 10 bytes
    // of payload, 38 with the header, behind a valid checksum.
    let mut payload = vec![1u8, 0xFD];
    payload.extend_from_slice(&(1u64 << 60).to_le_bytes());
    let file = common::checkpoint_file(&payload);
    assert_eq!(file.len(), 38);
    let err = Checkpoint::from_bytes(&file).unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint could not be decoded: expected lengths within the 10-byte payload, found a \
         length field claiming more"
    );
    // The same claim sized to what is present decodes as far as the payload goes.
    let mut honest = vec![1u8, 3];
    honest.extend_from_slice(b"abc");
    let err = Checkpoint::from_bytes(&common::checkpoint_file(&honest)).unwrap_err();
    assert!(
        matches!(err, CheckpointError::Decode(ref msg)
            if msg == "expected 1 more bytes, found the end of the payload"),
        "{err}"
    );
}

#[test]
fn a_large_checkpoint_still_decodes_under_the_limit() {
    // 1.2 M parameters: a payload of ~4.8 MB, well past the smallest decoding limit.
    let model = Dense::new(1200, 1000, &mut Rng::new(4));
    let bytes = Checkpoint::of_model(&model).to_bytes().unwrap();
    assert!(bytes.len() > 4_800_000);
    let loaded = Checkpoint::from_bytes(&bytes).unwrap();
    assert_eq!(loaded.params[0].tensor, *model.weight.value());
}

#[test]
fn a_tensor_with_an_impossible_shape_fails_to_load_with_its_name() {
    use common::raw_payload::{RawCheckpoint, RawOptimizerState};
    let huge = 1usize << 32;
    let fine = (vec![2], vec![1.0, 2.0]);
    let file = RawCheckpoint {
        params: vec![
            ("0.bias".into(), fine.clone()),
            ("0.weight".into(), (vec![huge, huge], vec![])),
        ],
        ..RawCheckpoint::default()
    }
    .to_file();
    let err = Checkpoint::from_bytes(&file).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "checkpoint could not be decoded: tensor `0.weight`: from_vec: expected a shape of at \
             most {} elements, found [{huge}, {huge}]",
            strata_tensor::MAX_NUMEL
        )
    );

    let file = RawCheckpoint {
        params: vec![("w".into(), fine.clone())],
        optimizer: Some(RawOptimizerState {
            kind: "sgd".into(),
            steps: 1,
            learning_rate: 0.1,
            slots: [("w".to_string(), vec![(vec![huge, huge, 0], vec![])])].into(),
        }),
        ..RawCheckpoint::default()
    }
    .to_file();
    let err = Checkpoint::from_bytes(&file).unwrap_err().to_string();
    assert!(
        err.contains("optimizer slot `w`: from_vec: expected a shape"),
        "{err}"
    );

    // The same layout with possible shapes loads: the mirror is faithful.
    let file = RawCheckpoint {
        params: vec![("w".into(), fine)],
        ..RawCheckpoint::default()
    }
    .to_file();
    let loaded = Checkpoint::from_bytes(&file).unwrap();
    assert_eq!(loaded.params[0].tensor.to_vec(), vec![1.0, 2.0]);
}
