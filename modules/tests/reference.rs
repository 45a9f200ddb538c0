//! The portable data and initialisation against the check values of the PyTorch harness
//! (`bench-reference/src/lib.rs`, mirrored by `xtask/pytorch/compare.py`), which were computed by PyTorch and NumPy.

use strata_bench_reference as reference;
use strata_modules::{cross_entropy, Dense, Module, Params, Relu, Sequential, Var};
use strata_tensor::Rng;

#[test]
fn inputs_labels_and_weights_match_the_harness() {
    let x = reference::inputs(8, 784);
    let row: Vec<f64> = x.narrow(0, 0, 1).to_vec()[..3]
        .iter()
        .map(|&v| v as f64)
        .collect();
    assert_eq!(
        row,
        [0.9138087034225464, 0.24708282947540283, 0.33133965730667114]
    );
    let labels = reference::labels(8, 784, 10).to_vec();
    assert_eq!(labels, [8.0, 3.0, 0.0, 3.0, 4.0, 7.0, 4.0, 2.0]);

    let mut rng = Rng::new(0);
    let mut mlp = Sequential::new()
        .push(Dense::new(784, 512, &mut rng))
        .push(Relu)
        .push(Dense::new(512, 256, &mut rng))
        .push(Relu)
        .push(Dense::new(256, 10, &mut rng));
    reference::initialise(&mut mlp);
    let w1: Vec<f64> = mlp.parameters()[0].value().to_vec()[..3]
        .iter()
        .map(|&v| v as f64)
        .collect();
    assert_eq!(
        w1,
        [
            0.0254658255726099,
            0.01919662579894066,
            -0.0009608311229385436
        ]
    );

    // The first-batch loss (batch 128, before any update): PyTorch gives 2.2982494831085205.
    let x = reference::inputs(128, 784);
    let y = reference::labels(128, 784, 10);
    let loss = cross_entropy(&mlp.forward(&Var::constant(x)), &y).item();
    assert!(
        (loss as f64 - 2.2982494831085205).abs() < 2e-6,
        "first loss {loss}"
    );
}

#[test]
fn five_sgd_steps_follow_the_pytorch_loss_trace() {
    // The harness's MLP + SGD (lr 0.01, momentum 0.9) loss_first5, batch s = rows [128s, 128s + 128).
    let expected = [2.29825, 2.31511, 2.30108, 2.30088, 2.30240];
    let mut rng = Rng::new(0);
    let mut mlp = Sequential::new()
        .push(Dense::new(784, 512, &mut rng))
        .push(Relu)
        .push(Dense::new(512, 256, &mut rng))
        .push(Relu)
        .push(Dense::new(256, 10, &mut rng));
    reference::initialise(&mut mlp);
    let x = reference::inputs(640, 784);
    let y = reference::labels(640, 784, 10);
    let mut sgd = strata_modules::Sgd::new(0.01).momentum(0.9);
    for (step, want) in expected.iter().enumerate() {
        let xb = Var::constant(x.narrow(0, step * 128, 128));
        let yb = y.narrow(0, step * 128, 128);
        let loss = cross_entropy(&mlp.forward(&xb), &yb);
        assert!(
            (loss.item() - want).abs() < 1e-5,
            "step {step}: loss {} vs PyTorch {want}",
            loss.item()
        );
        let grads = loss.backward().unwrap();
        strata_modules::Optimizer::step(&mut sgd, &mut mlp, &grads);
    }
}
