//! Errors for misuse, no-grad scopes, detach, leaf updates and anomaly mode.

use strata_autograd::{no_grad, set_anomaly_detection, AutogradError, NoGradGuard, Var};
use strata_tensor::Tensor;

fn leaf(values: &[f32]) -> Var {
    Var::leaf(Tensor::from_slice(values, &[values.len()]))
}

#[test]
fn backward_twice_on_a_freed_graph_is_an_error() {
    let w = leaf(&[1.0, 2.0]);
    let loss = w.exp().sum();
    loss.backward().unwrap();
    let err = loss.backward().unwrap_err();
    assert_eq!(err, AutogradError::GraphFreed { op: "sum" });
    assert!(err.to_string().contains("backward_retain"), "{err}");
}

#[test]
fn backward_retain_allows_a_second_pass_with_equal_gradients() {
    let w = leaf(&[1.0, 2.0]);
    let loss = w.exp().sum();
    let first = loss.backward_retain().unwrap();
    let second = loss.backward().unwrap();
    assert_eq!(first.get(&w), second.get(&w));
}

#[test]
fn backward_on_a_non_scalar_needs_a_seed() {
    let w = leaf(&[1.0, 2.0]);
    let y = w.mul_scalar(3.0);
    let err = y.backward().unwrap_err();
    assert_eq!(err, AutogradError::NotScalar { shape: vec![2] });
    assert!(err.to_string().contains("backward_with_seed"));
    let grads = y
        .backward_with_seed(&Tensor::from_slice(&[1.0, -1.0], &[2]))
        .unwrap();
    assert_eq!(grads.get(&w).unwrap().to_vec(), vec![3.0, -3.0]);
    let err = y.backward_with_seed(&Tensor::ones(&[3])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "backward: the seed gradient should have shape [2], found [3]"
    );
}

#[test]
fn reading_the_gradient_of_an_untracked_value_is_an_error() {
    let w = leaf(&[1.0]);
    let x = Var::constant(Tensor::from_slice(&[2.0], &[1]));
    let hidden = w.mul(&x);
    let grads = hidden.sum().backward().unwrap();
    assert_eq!(
        grads.try_get(&x).unwrap_err(),
        AutogradError::NotTrackedLeaf
    );
    assert_eq!(
        grads.try_get(&hidden).unwrap_err(),
        AutogradError::NotTrackedLeaf
    );
    let unused = leaf(&[5.0]);
    assert_eq!(
        grads.try_get(&unused).unwrap_err(),
        AutogradError::NoGradient
    );
    assert_eq!(grads.try_get(&w).unwrap().to_vec(), vec![2.0]);
}

#[test]
fn backward_of_a_constant_is_an_error() {
    let x = Var::constant(Tensor::scalar(1.0));
    assert_eq!(x.exp().backward().unwrap_err(), AutogradError::Untracked);
}

#[test]
fn no_grad_records_nothing_and_restores_the_mode() {
    let w = leaf(&[1.0, 2.0]);
    let y = no_grad(|| w.exp().sum());
    assert!(!y.is_tracked());
    assert_eq!(y.op_name(), "constant");
    {
        let _guard = NoGradGuard::new();
        assert!(!w.mul_scalar(2.0).is_tracked());
    }
    assert!(w.mul_scalar(2.0).is_tracked());
}

#[test]
fn detach_stops_the_gradient() {
    let w = leaf(&[3.0]);
    // L = w · detach(w): only the first factor carries gradient, dL/dw = detach(w) = 3.
    let loss = w.mul(&w.detach()).sum();
    assert_eq!(
        loss.backward().unwrap().get(&w).unwrap().to_vec(),
        vec![3.0]
    );
}

#[test]
fn untracked_operands_get_no_gradient_work() {
    let w = leaf(&[1.0, 2.0]);
    let x = Var::constant(Tensor::from_slice(&[3.0, 4.0], &[2]));
    // A branch of constants only: not recorded at all.
    let constant_branch = x.exp().log();
    assert!(!constant_branch.is_tracked());
    let grads = w.mul(&constant_branch).sum().backward().unwrap();
    assert_eq!(grads.len(), 1);
}

#[test]
fn update_keeps_identity_and_does_not_disturb_a_live_graph() {
    let mut w = leaf(&[1.0]);
    let before = w.id();
    let y = w.mul_scalar(2.0);
    w.update(|t| t.data_mut()[0] = 10.0);
    assert_eq!(w.id(), before);
    assert_eq!(w.value().to_vec(), vec![10.0]);
    // The recorded graph still sees the old value.
    assert_eq!(y.value().to_vec(), vec![2.0]);
    let grads = y.square().sum().backward().unwrap();
    // d(2w)²/dw = 8w at the recorded w = 1.
    assert_eq!(grads.get(&w).unwrap().to_vec(), vec![8.0]);
}

#[test]
fn anomaly_mode_names_the_op_in_forward() {
    let w = leaf(&[-1.0]);
    set_anomaly_detection(true);
    let result = std::panic::catch_unwind(|| w.log());
    set_anomaly_detection(false);
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert_eq!(
        message,
        "anomaly: the forward of `log` (inputs [[1]]) produced NaN or infinity"
    );
}

#[test]
fn anomaly_mode_names_the_op_in_backward() {
    // sqrt(0) is finite but its gradient 1/(2·0) is not.
    let w = leaf(&[0.0, 4.0]);
    set_anomaly_detection(true);
    let result = w.sqrt().sum().backward();
    set_anomaly_detection(false);
    let err = result.unwrap_err();
    assert_eq!(
        err,
        AutogradError::Anomaly {
            op: "sqrt",
            input_shapes: vec![vec![2]]
        }
    );
    // Off by default: the same computation returns the infinite gradient.
    let grads = w.sqrt().sum().backward().unwrap();
    assert!(grads.get(&w).unwrap().to_vec()[0].is_infinite());
}

#[test]
fn shape_errors_name_op_and_shapes() {
    let a = Var::leaf(Tensor::zeros(&[32, 784]));
    let b = Var::leaf(Tensor::zeros(&[512, 256]));
    assert_eq!(
        a.try_matmul(&b).unwrap_err().to_string(),
        "matmul: inner dimensions differ: [32, 784] x [512, 256]"
    );
    assert_eq!(
        a.try_linear(&b, None).unwrap_err().to_string(),
        "linear: input [32, 784] needs [..., in] and weight [out, in], found weight [512, 256]"
    );
    let result = std::panic::catch_unwind(|| a.add(&b));
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert_eq!(
        message,
        "add: shapes [32, 784] and [512, 256] cannot be broadcast together"
    );
}
