//! The networks a spec describes: what they are made of, that their weights are exactly the
//! ones [`ModelSpec::check_weights`] expects, and that checkpoint metadata rebuilds them, old
//! metadata included.

use std::collections::BTreeMap;
use strata_datasets::Normalize;
use strata_modules::{Checkpoint, Module, Params, Var};
use strata_recipes::{DataSpec, DatasetName, ModelKind, ModelSpec, RunSpec};
use strata_tensor::{Rng, Tensor};

/// A CNN on MNIST-sized images with the given regularisation (LeNet's geometry).
fn cnn(batch_norm: bool, dropout: f32) -> ModelSpec {
    ModelSpec {
        kind: ModelKind::Cnn,
        input_shape: vec![1, 28, 28],
        classes: 10,
        widths: vec![8, 16, 32],
        kernel: 5,
        padding: 0,
        batch_norm,
        dropout,
    }
}

fn mlp(batch_norm: bool, dropout: f32) -> ModelSpec {
    ModelSpec {
        kind: ModelKind::Mlp,
        input_shape: vec![1, 8, 8],
        classes: 10,
        widths: vec![32, 16],
        kernel: 0,
        padding: 0,
        batch_norm,
        dropout,
    }
}

fn run_of(model: ModelSpec) -> RunSpec {
    RunSpec {
        data: DataSpec {
            dataset: DatasetName::Mnist,
            data_dir: None,
            seed: 4,
        },
        model,
        normalize: Normalize::new(0.13, 0.31).expect("a valid standardisation"),
    }
}

/// The parameter names and shapes of the network `spec` builds.
fn parameters(spec: &ModelSpec) -> Vec<(String, Vec<usize>)> {
    let model = spec.build(1).expect("the spec describes a network");
    model
        .named_parameters()
        .into_iter()
        .map(|(name, var)| (name, var.shape().to_vec()))
        .collect()
}

#[test]
fn batch_norm_replaces_the_biases_of_the_hidden_layers_it_follows() {
    let expected = [
        ("0.weight", vec![8, 1, 5, 5]), // conv, no bias
        ("1.weight", vec![8]),          // BatchNorm2d γ, β; ReLU (2) and pooling (3)
        ("1.bias", vec![8]),
        ("4.weight", vec![16, 8, 5, 5]),
        ("5.weight", vec![16]),
        ("5.bias", vec![16]),
        ("9.weight", vec![32, 16 * 4 * 4]), // after flattening (8): dense, no bias
        ("10.weight", vec![32]),            // BatchNorm1d γ, β
        ("10.bias", vec![32]),
        ("13.weight", vec![10, 32]), // after ReLU (11) and dropout (12): the output layer
        ("13.bias", vec![10]),
    ];
    let expected: Vec<(String, Vec<usize>)> = expected
        .into_iter()
        .map(|(name, shape)| (name.to_string(), shape))
        .collect();
    assert_eq!(parameters(&cnn(true, 0.25)), expected);

    // Without either, the network is the one checkpoints described before they existed.
    let names: Vec<String> = parameters(&cnn(false, 0.0))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias"]
    );
}

#[test]
fn every_network_has_exactly_the_weights_its_spec_checks_for() {
    for spec in [
        cnn(true, 0.25),
        cnn(false, 0.5),
        cnn(false, 0.0),
        mlp(true, 0.2),
        mlp(false, 0.2),
        mlp(false, 0.0),
    ] {
        let mut model = spec.build(3).expect("a network");
        let checkpoint = Checkpoint::of_model(&model);
        assert_eq!(spec.check_weights(&checkpoint.params), Ok(()), "{spec:?}");

        // Training mode (batch statistics, dropout masks) and evaluation mode both run.
        let x = Var::constant(Tensor::rand_normal(
            &[[4].as_slice(), &spec.input_shape].concat(),
            0.0,
            1.0,
            &mut Rng::new(0),
        ));
        assert_eq!(model.forward(&x).shape(), &[4, 10]);
        model.eval();
        let first = model.forward(&x).value().to_vec();
        assert_eq!(model.forward(&x).value().to_vec(), first, "{spec:?}");
    }
}

#[test]
fn dropout_masks_come_from_the_seed() {
    let spec = mlp(false, 0.5);
    let x = Var::constant(Tensor::ones(&[2, 1, 8, 8]));
    let output = |seed| spec.build(seed).unwrap().forward(&x).value().to_vec();
    assert_eq!(output(7), output(7));
    assert_ne!(output(7), output(8));
}

#[test]
fn a_dropout_probability_outside_zero_to_one_is_an_error_not_a_panic() {
    for p in [1.0, -0.1, f32::NAN] {
        let Err(err) = mlp(false, p).build(0) else {
            panic!("a network with dropout {p}");
        };
        assert!(
            err.contains("the dropout probability must be in [0, 1), found"),
            "{err}"
        );
        assert!(mlp(false, p).check_weights(&[]).is_err());
    }
}

#[test]
fn the_description_names_the_regularisation() {
    assert_eq!(
        cnn(true, 0.25).describe(),
        "cnn conv5x5(8)-pool-conv5x5(16)-pool-32-10, batch norm, dropout 0.25"
    );
    assert_eq!(
        cnn(false, 0.0).describe(),
        "cnn conv5x5(8)-pool-conv5x5(16)-pool-32-10"
    );
    assert_eq!(mlp(false, 0.2).describe(), "mlp 64-32-16-10, dropout 0.2");
}

#[test]
fn metadata_round_trips_batch_norm_and_dropout() {
    for spec in [cnn(true, 0.25), mlp(false, 0.2), cnn(false, 0.0)] {
        let run = run_of(spec);
        let meta = run.to_metadata();
        assert_eq!(RunSpec::from_metadata(&meta), Ok(run));
    }
}

/// Metadata as written before batch normalisation and dropout were recorded.
fn old_metadata(run: &RunSpec) -> BTreeMap<String, String> {
    let mut meta = run.to_metadata();
    assert!(meta.remove("recipe.batch_norm").is_some());
    assert!(meta.remove("recipe.dropout").is_some());
    meta
}

#[test]
fn metadata_without_batch_norm_or_dropout_describes_the_network_without_them() {
    let old = cnn(false, 0.0);
    let read = RunSpec::from_metadata(&old_metadata(&run_of(old.clone()))).expect("readable");
    assert_eq!(read.model, old);
    let weights = Checkpoint::of_model(&old.build(0).unwrap()).params;
    assert_eq!(read.model.check_weights(&weights), Ok(()));
}

#[test]
fn weights_of_the_other_network_are_refused_naming_expected_and_found() {
    let new = cnn(true, 0.25);
    let old = cnn(false, 0.0);
    let new_weights = Checkpoint::of_model(&new.build(0).unwrap()).params;
    let old_weights = Checkpoint::of_model(&old.build(0).unwrap()).params;

    // A new network under old metadata: the description and the first difference.
    let read = RunSpec::from_metadata(&old_metadata(&run_of(new))).unwrap();
    let err = read.model.check_weights(&new_weights).unwrap_err();
    assert!(
        err.starts_with(
            "the metadata describes cnn conv5x5(8)-pool-conv5x5(16)-pool-32-10 but the weights \
             disagree: there is no parameter `0.bias` [8]"
        ),
        "{err}"
    );
    assert!(
        err.contains("found 0.weight, 1.weight, 1.bias, 4.weight"),
        "{err}"
    );

    // An old network under metadata that says batch norm.
    let err = cnn(true, 0.25).check_weights(&old_weights).unwrap_err();
    assert!(
        err.contains("batch norm, dropout 0.25 but the weights disagree: there is no parameter `1.weight` [8]"),
        "{err}"
    );

    let mut meta = run_of(cnn(true, 0.25)).to_metadata();
    meta.insert("recipe.batch_norm".into(), "yes".into());
    assert_eq!(
        RunSpec::from_metadata(&meta),
        Err("checkpoint entry `recipe.batch_norm`: cannot read \"yes\"".into())
    );
}
