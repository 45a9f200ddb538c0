//! LeNet-5 on the PyTorch harness's portable data and initialisation: the parameter names
//! and order are PyTorch's, and the first-batch loss matches the harness's CNN value.

#[path = "support/lenet5.rs"]
mod lenet5;

use lenet5::{images_and_labels, PYTORCH_FIRST_LOSS};
use strata_bench_reference::lenet5;
use strata_modules::{cross_entropy, Module, Params, Var};

/// PyTorch and Strata sum the convolutions in different orders; f32 rounding over the
/// network moves the loss by about 1e-7, and any wrong layer by far more than 1e-5.
const LOSS_TOL: f64 = 1e-5;

#[test]
fn lenet5_has_pytorchs_parameter_names_and_shapes() {
    let names: Vec<(String, Vec<usize>)> = lenet5()
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, p.shape().to_vec()))
        .collect();
    let expected: Vec<(String, Vec<usize>)> = [
        ("0.weight", vec![6, 1, 5, 5]),
        ("0.bias", vec![6]),
        ("3.weight", vec![16, 6, 5, 5]),
        ("3.bias", vec![16]),
        ("7.weight", vec![120, 256]),
        ("7.bias", vec![120]),
        ("9.weight", vec![84, 120]),
        ("9.bias", vec![84]),
        ("11.weight", vec![10, 84]),
        ("11.bias", vec![10]),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), s))
    .collect();
    assert_eq!(names, expected);
}

#[test]
fn first_batch_loss_matches_the_pytorch_harness() {
    let (images, labels) = images_and_labels(64);
    let logits = lenet5().forward(&Var::constant(images));
    let loss = cross_entropy(&logits, &labels).item() as f64;
    assert!(
        (loss - PYTORCH_FIRST_LOSS).abs() < LOSS_TOL,
        "first-batch loss {loss}, PyTorch {PYTORCH_FIRST_LOSS}"
    );
}
