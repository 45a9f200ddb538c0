//! BatchNorm1d/2d and LayerNorm: statistics and running updates by hand, evaluation mode on
//! the running statistics, the fused op against a composition of recorded ops, and gradients
//! against finite differences in both modes.

#[path = "support/composed_batch_norm.rs"]
mod composed;

use composed::composed_batch_norm;
use strata_autograd::gradcheck;
use strata_modules::{BatchNorm1d, BatchNorm2d, LayerNorm, Module, Params, Var};
use strata_tensor::{Rng, Tensor};

/// See conv_pool_layers.rs: f32 central differences reach a few 1e-3.
const TOL: f64 = 1e-2;

fn normal(shape: &[usize], mean: f32, std: f32, seed: u64) -> Tensor {
    Tensor::rand_normal(shape, mean, std, &mut Rng::new(seed))
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    a.sub(b).abs().max().item()
}

#[test]
fn training_mode_normalises_with_batch_statistics_and_updates_running_ones_by_hand() {
    // One channel, values 1, 2, 3, 6 (N = 4): mean 3, biased variance (4+1+0+9)/4 = 3.5,
    // unbiased 14/3.
    let mut bn = BatchNorm1d::new(1);
    bn.weight = Some(Var::leaf(Tensor::from_vec(vec![2.0], &[1])));
    bn.bias = Some(Var::leaf(Tensor::from_vec(vec![0.5], &[1])));
    let x = Var::constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 6.0], &[4, 1]));
    let y = bn.forward(&x).value().to_vec();
    let inv_std = 1.0 / (3.5f32 + 1e-5).sqrt();
    for (got, v) in y.iter().zip([1.0f32, 2.0, 3.0, 6.0]) {
        let expected = 2.0 * (v - 3.0) * inv_std + 0.5;
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }
    // running ← 0.9·running + 0.1·batch: mean 0 → 0.3, variance 1 → 0.9 + 0.1·14/3.
    assert!((bn.running_mean.get().item() - 0.3).abs() < 1e-6);
    let expected_var = 0.9 + 0.1 * 14.0 / 3.0;
    assert!((bn.running_var.get().item() - expected_var).abs() < 1e-6);
}

#[test]
fn evaluation_mode_uses_the_running_statistics() {
    let mut bn = BatchNorm2d::new(2).with_momentum(0.5).with_eps(1e-3);
    bn.running_mean.set(Tensor::from_vec(vec![1.0, -2.0], &[2]));
    bn.running_var.set(Tensor::from_vec(vec![4.0, 0.25], &[2]));
    bn.weight = Some(Var::leaf(Tensor::from_vec(vec![3.0, -1.0], &[2])));
    bn.bias = Some(Var::leaf(Tensor::from_vec(vec![0.0, 10.0], &[2])));
    bn.eval();
    assert!(!bn.is_training());
    let x = Tensor::from_vec(vec![5.0, 1.0, -2.0, -1.5], &[1, 2, 2, 1]);
    let y = bn.forward(&Var::constant(x)).value().to_vec();
    // Channel 0: 3·(x − 1)/√4.001; channel 1: −(x + 2)/√0.251 + 10.
    let expected = [
        3.0 * 4.0 / 4.001f32.sqrt(),
        0.0,
        10.0,
        -0.5 / 0.251f32.sqrt() + 10.0,
    ];
    for (got, want) in y.iter().zip(expected) {
        assert!((got - want).abs() < 1e-5, "{y:?} vs {expected:?}");
    }
    // Evaluation leaves the running statistics alone.
    assert_eq!(bn.running_mean.get().to_vec(), vec![1.0, -2.0]);
    // Back in training mode, the batch statistics are used and the running ones move.
    bn.train();
    let batch = normal(&[8, 2, 3, 3], 4.0, 2.0, 1);
    let y = bn.forward(&Var::constant(batch));
    let channel_means = y.value().mean_axes(&[0, 2, 3], false).to_vec();
    assert!((channel_means[0] - 0.0).abs() < 1e-4 && (channel_means[1] - 10.0).abs() < 1e-4);
    assert_ne!(bn.running_mean.get().to_vec(), vec![1.0, -2.0]);
}

#[test]
fn fused_batch_norm_matches_the_composed_ops_in_value_and_gradient() {
    for shape in [vec![6, 3], vec![4, 3, 5], vec![3, 3, 4, 2]] {
        let x = Var::leaf(normal(&shape, 1.0, 3.0, 2));
        let gamma = Var::leaf(normal(&[3], 1.0, 0.5, 3));
        let beta = Var::leaf(normal(&[3], 0.0, 0.5, 4));
        let fused = if shape.len() == 4 {
            let mut bn = BatchNorm2d::new(3);
            bn.weight = Some(gamma.clone());
            bn.bias = Some(beta.clone());
            bn.forward(&x)
        } else {
            let mut bn = BatchNorm1d::new(3);
            bn.weight = Some(gamma.clone());
            bn.bias = Some(beta.clone());
            bn.forward(&x)
        };
        let composed = composed_batch_norm(&x, &gamma, &beta, 1e-5);
        assert!(
            max_diff(fused.value(), composed.value()) < 1e-5,
            "{shape:?}"
        );
        let seed = normal(&shape, 0.0, 1.0, 5);
        let g1 = fused.backward_with_seed(&seed).unwrap();
        let g2 = composed.backward_with_seed(&seed).unwrap();
        for v in [&x, &gamma, &beta] {
            let diff = max_diff(g1.get(v).unwrap(), g2.get(v).unwrap());
            assert!(diff < 1e-4, "{shape:?}: gradient differs by {diff}");
        }
    }
}

/// A BatchNorm2d over 3 channels with the given γ, β and running statistics.
fn bn2d(gamma: &Var, beta: &Var, training: bool) -> BatchNorm2d {
    let mut bn = BatchNorm2d::new(3);
    bn.weight = Some(gamma.clone());
    bn.bias = Some(beta.clone());
    bn.running_mean
        .set(Tensor::from_vec(vec![0.5, -0.2, 0.1], &[3]));
    bn.running_var
        .set(Tensor::from_vec(vec![1.5, 0.7, 2.0], &[3]));
    bn.set_training(training);
    bn
}

#[test]
fn batch_norm_gradients_match_finite_differences_in_both_modes() {
    let inputs = [
        normal(&[4, 3, 2, 3], 0.3, 1.5, 6),
        normal(&[3], 1.0, 0.5, 7),
        normal(&[3], 0.0, 0.5, 8),
    ];
    for training in [true, false] {
        let report = gradcheck(|v| bn2d(&v[1], &v[2], training).forward(&v[0]), &inputs).unwrap();
        assert_eq!(report.max_relative_error.len(), 3);
        report.assert_within(TOL);
    }
    // BatchNorm1d on [N, C] and [N, C, L], and without affine parameters.
    for shape in [vec![5, 3], vec![3, 3, 4]] {
        let x = normal(&shape, -0.5, 2.0, 9);
        for training in [true, false] {
            gradcheck(
                |v| {
                    let mut bn = BatchNorm1d::new(3);
                    bn.weight = Some(v[1].clone());
                    bn.bias = Some(v[2].clone());
                    bn.set_training(training);
                    bn.forward(&v[0])
                },
                &[x.clone(), inputs[1].clone(), inputs[2].clone()],
            )
            .unwrap()
            .assert_within(TOL);
            gradcheck(
                |v| {
                    let mut bn = BatchNorm1d::without_affine(3);
                    bn.set_training(training);
                    bn.forward(&v[0])
                },
                std::slice::from_ref(&x),
            )
            .unwrap()
            .assert_within(TOL);
        }
    }
}

#[test]
fn batch_norm_names_and_shapes_follow_pytorch() {
    let bn = BatchNorm2d::new(4);
    let names: Vec<String> = bn.parameter_names();
    assert_eq!(names, ["weight", "bias"]);
    let buffers: Vec<(String, Vec<f32>)> = bn
        .named_buffers()
        .into_iter()
        .map(|(n, t)| (n, t.to_vec()))
        .collect();
    assert_eq!(
        buffers,
        [
            ("running_mean".to_string(), vec![0.0; 4]),
            ("running_var".to_string(), vec![1.0; 4])
        ]
    );
    assert_eq!(bn.num_features(), 4);
    assert!(BatchNorm1d::without_affine(4).parameters().is_empty());
}

#[test]
#[should_panic(expected = "expects [N, C, H, W] with C = 4")]
fn batch_norm_2d_rejects_other_shapes() {
    BatchNorm2d::new(4).forward(&Var::constant(Tensor::zeros(&[2, 4, 3])));
}

#[test]
#[should_panic(expected = "more than one value per channel")]
fn batch_norm_training_needs_more_than_one_value_per_channel() {
    BatchNorm1d::new(2).forward(&Var::constant(Tensor::zeros(&[1, 2])));
}

#[test]
fn layer_norm_normalises_each_example_over_the_trailing_dimensions() {
    let mut norm = LayerNorm::new(&[2, 3]);
    norm.weight = Some(Var::leaf(normal(&[2, 3], 1.0, 0.5, 10)));
    norm.bias = Some(Var::leaf(normal(&[2, 3], 0.0, 0.5, 11)));
    let x = normal(&[4, 2, 3], 2.0, 3.0, 12);
    let y = norm.forward(&Var::constant(x.clone()));
    // By hand, one example at a time.
    let gamma = norm.weight.as_ref().unwrap().value().to_vec();
    let beta = norm.bias.as_ref().unwrap().value().to_vec();
    for n in 0..4 {
        let row = x.narrow(0, n, 1).to_vec();
        let mean = row.iter().sum::<f32>() / 6.0;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 6.0;
        let got = y.value().narrow(0, n, 1).to_vec();
        for k in 0..6 {
            let want = (row[k] - mean) / (var + 1e-5).sqrt() * gamma[k] + beta[k];
            assert!((got[k] - want).abs() < 1e-5, "example {n}, element {k}");
        }
    }
    let names: Vec<String> = norm.parameter_names();
    assert_eq!(names, ["weight", "bias"]);
    assert_eq!(norm.normalized_shape(), &[2, 3]);
}

#[test]
fn layer_norm_gradients_match_finite_differences() {
    let inputs = [
        normal(&[3, 2, 4], 0.5, 2.0, 13),
        normal(&[4], 1.0, 0.5, 14),
        normal(&[4], 0.0, 0.5, 15),
    ];
    gradcheck(
        |v| {
            let mut norm = LayerNorm::new(&[4]);
            norm.weight = Some(v[1].clone());
            norm.bias = Some(v[2].clone());
            norm.forward(&v[0])
        },
        &inputs,
    )
    .unwrap()
    .assert_within(TOL);
}
