//! Optimizer state against the parameters it belongs to: a loaded state is checked before
//! anything is applied, a wrong-length state never silently skips parameters, and one
//! optimizer never mixes the states of two parameters that share a name.

mod common;

use common::{mlp, panic_site};
use strata_autograd::Gradients;
use strata_modules::{
    Adam, Checkpoint, CheckpointError, Dense, Module, Optimizer, Params, RmsProp, Sequential, Sgd,
    Var,
};
use strata_tensor::{Rng, Tensor};

fn grads_of(model: &dyn Module) -> Gradients {
    let x = Var::constant(Tensor::rand_normal(&[5, 2], 0.0, 1.0, &mut Rng::new(11)));
    model.forward(&x).square().sum().backward().unwrap()
}

fn values(model: &dyn Params) -> Vec<Vec<f32>> {
    model
        .parameters()
        .iter()
        .map(|p| p.value().to_vec())
        .collect()
}

/// An Adam checkpoint of `mlp(4, 2)` after one step.
fn adam_checkpoint() -> (Sequential, Checkpoint) {
    let mut model = mlp(4, 2, &mut Rng::new(1));
    let mut adam = Adam::new(0.01);
    let grads = grads_of(&model);
    adam.step(&mut model, &grads);
    let checkpoint = Checkpoint::of_model(&model).with_optimizer(&adam);
    (model, checkpoint)
}

#[test]
fn a_state_that_does_not_fit_the_parameters_is_refused_and_loads_nothing() {
    let (model, mut checkpoint) = adam_checkpoint();
    let state = checkpoint.optimizer.as_mut().unwrap();
    state.slots.get_mut("0.weight").unwrap()[1] = Tensor::zeros(&[3]);
    let mut adam = Adam::new(0.5);
    let before = adam.state();
    let err = checkpoint
        .apply_to_optimizer(&mut adam, &model)
        .unwrap_err();
    assert!(matches!(err, CheckpointError::Optimizer(_)));
    assert_eq!(
        err.to_string(),
        "checkpoint: optimizer state: expected state tensors of 8 values for parameter \
         `0.weight` (shape [4, 2]), found a tensor of shape [3]"
    );
    assert_eq!(
        adam.state(),
        before,
        "a refused state must leave the optimizer as it was"
    );

    let (model, mut checkpoint) = adam_checkpoint();
    let state = checkpoint.optimizer.as_mut().unwrap();
    let moments = state.slots.remove("2.bias").unwrap();
    state.slots.insert("2.gamma".into(), moments);
    let err = checkpoint
        .apply_to_optimizer(&mut adam, &model)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint: optimizer state: expected slots named after the model's parameters \
         [\"0.bias\", \"0.weight\", \"2.bias\", \"2.weight\", \"4.bias\", \"4.weight\"], \
         found a slot for `2.gamma`"
    );
    assert_eq!(adam.state(), before);
}

#[test]
fn a_wrong_length_state_loaded_directly_panics_at_the_step_and_changes_nothing() {
    // SGD momentum of the wrong length used to update only the first few values (the zip of
    // the buffer with the parameter stopped early) and Adam's to panic on a slice index.
    let mut model = mlp(4, 2, &mut Rng::new(1));
    let grads = grads_of(&model);
    let mut sgd = Sgd::new(0.1).momentum(0.9);
    sgd.step(&mut model, &grads);
    let mut state = sgd.state();
    state
        .slots
        .insert("0.weight".into(), vec![Tensor::zeros(&[2])]);
    let mut resumed = Sgd::new(0.1).momentum(0.9);
    resumed.load_state(&state).unwrap();
    let before = values(&model);
    let site = panic_site(|| resumed.step(&mut model, &grads));
    assert_eq!(
        site.message,
        "Sgd::step: parameter `0.weight` has 8 values, but its loaded state holds 1 vectors of \
         lengths [2] (check a state with OptimizerState::check_fits before loading it)"
    );
    assert_eq!(site.file, file!(), "the panic points at the caller of step");
    assert_eq!(values(&model), before, "no parameter may change");

    let mut state = Adam::new(0.1).state();
    state
        .slots
        .insert("0.bias".into(), vec![Tensor::zeros(&[1]); 2]);
    let mut adam = Adam::new(0.1);
    adam.load_state(&state).unwrap();
    let site = panic_site(|| adam.step(&mut model, &grads));
    assert!(site
        .message
        .starts_with("Adam::step: parameter `0.bias` has 4 values"));
    assert_eq!(site.file, file!());
    assert_eq!(values(&model), before);
}

#[test]
fn one_optimizer_never_mixes_two_parameters_that_share_a_name() {
    let (mut a, mut b) = (mlp(4, 2, &mut Rng::new(1)), mlp(4, 2, &mut Rng::new(2)));
    let (grads_a, grads_b) = (grads_of(&a), grads_of(&b));
    let mut adam = Adam::new(0.01);
    adam.step(&mut a, &grads_a);
    let before = values(&b);
    let site = panic_site(|| adam.step(&mut b, &grads_b));
    assert_eq!(
        site.message,
        "Adam::step: parameter `0.weight` is not the parameter this optimizer stepped under \
         that name before, and their states would mix: use one optimizer per model, or \
         distinct parameter names"
    );
    assert_eq!(site.file, file!());
    assert_eq!(values(&b), before);

    // Two standalone Vars are both named "".
    let mut u = Var::leaf(Tensor::ones(&[2]));
    let mut w = Var::leaf(Tensor::ones(&[2]));
    let mut rmsprop = RmsProp::new(0.1);
    let grads = u.square().sum().backward().unwrap();
    rmsprop.step(&mut u, &grads);
    let grads = w.square().sum().backward().unwrap();
    let site = panic_site(|| rmsprop.step(&mut w, &grads));
    assert!(
        site.message
            .starts_with("RmsProp::step: the unnamed parameter (a standalone `Var`) is not"),
        "{}",
        site.message
    );
    // Plain SGD keeps no state, so there is nothing to mix.
    let mut sgd = Sgd::new(0.1);
    for v in [&mut u, &mut w] {
        let grads = v.square().sum().backward().unwrap();
        sgd.step(v, &grads);
    }
}

#[test]
fn models_with_distinct_names_keep_separate_states_under_one_optimizer() {
    // An encoder named `weight`, `bias` and a decoder named `0.weight`, `0.bias`, stepped by
    // one SGD with momentum, end exactly where each would with its own.
    let run = |shared: bool| {
        let mut encoder = Dense::new(3, 2, &mut Rng::new(5));
        let mut decoder = Sequential::new().push(Dense::new(2, 3, &mut Rng::new(6)));
        let mut first = Sgd::new(0.05).momentum(0.9);
        let mut second = Sgd::new(0.05).momentum(0.9);
        for _ in 0..3 {
            let x = Var::constant(Tensor::ones(&[1, 3]));
            let grads = decoder.forward(&encoder.forward(&x)).square().sum();
            let grads = grads.backward().unwrap();
            first.step(&mut encoder, &grads);
            let for_decoder = if shared { &mut first } else { &mut second };
            for_decoder.step(&mut decoder, &grads);
        }
        (values(&encoder), values(&decoder))
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn loading_into_the_model_and_restoring_a_state_both_keep_stepping() {
    let (mut model, checkpoint) = adam_checkpoint();
    // Values loaded into the same parameters keep their identity, so the binding holds.
    let mut adam = Adam::new(0.01);
    let grads = grads_of(&model);
    adam.step(&mut model, &grads);
    checkpoint.apply_to(&mut model).unwrap();
    let grads = grads_of(&model);
    adam.step(&mut model, &grads);

    // A restored state binds to whatever model the next step is given: a fresh instance
    // resumes exactly like the saved one.
    let mut saved_model = mlp(4, 2, &mut Rng::new(9));
    checkpoint.apply_to(&mut saved_model).unwrap();
    let mut fresh = mlp(4, 2, &mut Rng::new(8));
    checkpoint.apply_to(&mut fresh).unwrap();
    let (mut adam_a, mut adam_b) = (Adam::new(1.0), Adam::new(1.0));
    checkpoint
        .apply_to_optimizer(&mut adam_a, &saved_model)
        .unwrap();
    checkpoint.apply_to_optimizer(&mut adam_b, &fresh).unwrap();
    let grads = grads_of(&saved_model);
    adam_a.step(&mut saved_model, &grads);
    let grads = grads_of(&fresh);
    adam_b.step(&mut fresh, &grads);
    assert_eq!(values(&saved_model), values(&fresh));
    assert_eq!(adam_a.state(), adam_b.state());
}
