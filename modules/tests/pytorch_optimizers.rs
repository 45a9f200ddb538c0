//! SGD with dampening and Adam/AdamW with AMSGrad against `torch.optim` over eight steps
//! (`fixtures/make_optimizer_fixture.py` writes `fixtures/optimizers.safetensors`): the same
//! gradients give the same parameters after every step, also when the optimizer's state is
//! saved and restored half-way.

#[path = "common/pytorch_fixture.rs"]
mod pytorch_fixture;

use pytorch_fixture::{assert_matches_pytorch, Fixture};
use strata_autograd::Var;
use strata_modules::{Adam, AdamW, Optimizer, Sgd};
use strata_tensor::Tensor;

/// Gives `w` the gradient `grad` (the gradient of `Σ w·grad`) and steps `optimizer`.
fn step_with(optimizer: &mut dyn Optimizer, w: &mut Var, grad: &Tensor) {
    let grads = w
        .mul(&Var::constant(grad.clone()))
        .sum()
        .backward()
        .unwrap();
    optimizer.step(w, &grads);
}

/// Row `i` of a `[steps, len]` tensor.
fn row(t: &Tensor, i: usize) -> Tensor {
    let len = t.shape()[1];
    Tensor::from_slice(&t.to_vec()[i * len..(i + 1) * len], &[len])
}

/// Steps a fresh optimizer from `make` through the fixture's gradients, checking every
/// step's parameter against PyTorch's; after step `restore_after` (if any) the state is
/// saved and loaded into another fresh optimizer, which continues.
fn follows_pytorch(
    name: &str,
    make: impl Fn() -> Box<dyn Optimizer>,
    restore_after: Option<usize>,
) {
    let fixture = Fixture::read("optimizers.safetensors");
    let grads = fixture.get("grads");
    let expected = fixture.get(&format!("{name}.params"));
    let mut w = Var::leaf(fixture.get("start"));
    let mut optimizer = make();
    for step in 0..grads.shape()[0] {
        step_with(optimizer.as_mut(), &mut w, &row(&grads, step));
        let what = format!("{name} step {}", step + 1);
        assert_matches_pytorch(&what, w.value(), &row(&expected, step));
        if restore_after == Some(step + 1) {
            let state = optimizer.state();
            optimizer = make();
            optimizer.load_state(&state).unwrap();
        }
    }
}

#[test]
fn sgd_with_dampening_follows_pytorch() {
    let make = || -> Box<dyn Optimizer> {
        Box::new(
            Sgd::new(0.1)
                .momentum(0.9)
                .dampening(0.3)
                .weight_decay(0.01),
        )
    };
    follows_pytorch("sgd_dampening", make, None);
    // A restored buffer is not a first step: dampening applies right after the load.
    follows_pytorch("sgd_dampening", make, Some(3));
}

#[test]
fn adam_with_amsgrad_follows_pytorch() {
    let make = || -> Box<dyn Optimizer> { Box::new(Adam::new(0.05).betas(0.9, 0.9).amsgrad(true)) };
    follows_pytorch("adam_amsgrad", make, None);
    follows_pytorch("adam_amsgrad", make, Some(4));

    // The gradients shrink enough for the maximum to matter: plain Adam ends elsewhere.
    let fixture = Fixture::read("optimizers.safetensors");
    let (grads, expected) = (fixture.get("grads"), fixture.get("adam_amsgrad.params"));
    let steps = grads.shape()[0];
    let mut w = Var::leaf(fixture.get("start"));
    let mut plain = Adam::new(0.05).betas(0.9, 0.9);
    for step in 0..steps {
        step_with(&mut plain, &mut w, &row(&grads, step));
    }
    let last = row(&expected, steps - 1).to_vec();
    let gap = w
        .value()
        .to_vec()
        .iter()
        .zip(&last)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(
        gap > 1e-3,
        "plain Adam ends within {gap} of AMSGrad: the fixture does not tell them apart"
    );
}

#[test]
fn adamw_with_amsgrad_follows_pytorch() {
    let make = || -> Box<dyn Optimizer> {
        Box::new(
            AdamW::new(0.05)
                .betas(0.9, 0.9)
                .weight_decay(0.1)
                .amsgrad(true),
        )
    };
    follows_pytorch("adamw_amsgrad", make, None);
    follows_pytorch("adamw_amsgrad", make, Some(4));
}

#[test]
fn amsgrad_state_does_not_load_into_plain_adam() {
    let mut w = Var::leaf(Tensor::from_vec(vec![1.0, 2.0], &[2]));
    let mut amsgrad = Adam::new(0.1).amsgrad(true);
    step_with(
        &mut amsgrad,
        &mut w,
        &Tensor::from_vec(vec![1.0, -1.0], &[2]),
    );
    let err = Adam::new(0.1).load_state(&amsgrad.state()).unwrap_err();
    assert_eq!(err.expected, "2 state tensors for ``");
    assert_eq!(err.found, "3");
}

#[test]
#[should_panic(expected = "Nesterov momentum needs a positive momentum and zero dampening")]
fn nesterov_with_dampening_is_refused() {
    let mut w = Var::leaf(Tensor::from_vec(vec![1.0], &[1]));
    let mut sgd = Sgd::new(0.1).momentum(0.9).dampening(0.1).nesterov(true);
    step_with(&mut sgd, &mut w, &Tensor::from_vec(vec![1.0], &[1]));
}
