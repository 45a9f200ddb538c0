//! Conv2d and the pooling layers: values against naive loops, shapes, initialisation bounds,
//! and gradients (inputs and parameters) against finite differences, with padding, stride,
//! dilation and groups, and pooling with `ceil_mode` and `count_include_pad`.

use strata_autograd::gradcheck;
use strata_modules::{
    AvgPool2d, Conv1d, Conv1dConfig, Conv2d, Conv2dConfig, ConvTranspose2d, GlobalAvgPool2d,
    MaxPool2d, Module, Params, Var,
};
use strata_tensor::{set_num_threads, Conv2dSpec, Pool2dSpec, Rng, Tensor};

/// Finite differences in f32 (step 1e-3) reach relative errors of a few 1e-3 on these
/// inputs; a wrong gradient gives errors of order 1. 1e-2 separates the two.
const TOL: f64 = 1e-2;

fn normal(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_normal(shape, 0.0, 1.0, &mut Rng::new(seed))
}

/// Cross-correlation by the definition, one output at a time.
fn naive_conv(x: &Tensor, w: &Tensor, b: Option<&Tensor>, spec: Conv2dSpec) -> Tensor {
    let (n, c, h, wd) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let (o, cg, kh, kw) = (w.shape()[0], w.shape()[1], w.shape()[2], w.shape()[3]);
    let og = o / spec.groups;
    assert_eq!(cg * spec.groups, c);
    let [dh, dw] = spec.dilation;
    let oh = (h + 2 * spec.padding[0] - dh * (kh - 1) - 1) / spec.stride[0] + 1;
    let ow = (wd + 2 * spec.padding[1] - dw * (kw - 1) - 1) / spec.stride[1] + 1;
    let mut out = vec![0.0f32; n * o * oh * ow];
    for ni in 0..n {
        for oi in 0..o {
            let group = oi / og;
            for y in 0..oh {
                for xo in 0..ow {
                    let mut sum = b.map_or(0.0, |b| b.get(&[oi]));
                    for ci in 0..cg {
                        for i in 0..kh {
                            for j in 0..kw {
                                let r = (y * spec.stride[0] + i * dh) as isize
                                    - spec.padding[0] as isize;
                                let s = (xo * spec.stride[1] + j * dw) as isize
                                    - spec.padding[1] as isize;
                                if r >= 0 && s >= 0 && (r as usize) < h && (s as usize) < wd {
                                    sum += x.get(&[ni, group * cg + ci, r as usize, s as usize])
                                        * w.get(&[oi, ci, i, j]);
                                }
                            }
                        }
                    }
                    out[((ni * o + oi) * oh + y) * ow + xo] = sum;
                }
            }
        }
    }
    Tensor::from_vec(out, &[n, o, oh, ow])
}

fn configs() -> Vec<(usize, usize, Conv2dConfig)> {
    vec![
        (2, 3, Conv2dConfig::new(3)),
        (2, 4, Conv2dConfig::new(3).padding(1).stride(2)),
        (4, 6, Conv2dConfig::new(2).groups(2).bias(false)),
        (
            4,
            4,
            Conv2dConfig {
                kernel: [3, 1],
                stride: [1, 2],
                padding: [2, 0],
                dilation: [2, 1],
                groups: 4,
                bias: true,
            },
        ),
        (
            4,
            6,
            Conv2dConfig::new(3)
                .dilation(2)
                .stride(2)
                .padding(2)
                .groups(2),
        ),
    ]
}

#[test]
fn conv2d_matches_the_definition_with_padding_stride_dilation_and_groups() {
    for (i, (cin, cout, config)) in configs().into_iter().enumerate() {
        let conv = Conv2d::with_config(cin, cout, config, &mut Rng::new(i as u64));
        let x = normal(&[2, cin, 7, 6], 10 + i as u64);
        let y = conv.forward(&Var::constant(x.clone()));
        let expected = naive_conv(
            &x,
            conv.weight.value(),
            conv.bias.as_ref().map(Var::value),
            config.spec(),
        );
        assert_eq!(y.shape(), expected.shape(), "config {config:?}");
        let worst = y.value().sub(&expected).abs().max().item();
        assert!(worst < 1e-5, "config {config:?}: differs by {worst}");
    }
}

#[test]
fn conv2d_has_pytorch_shapes_names_and_init_bounds() {
    let conv = Conv2d::with_config(6, 8, Conv2dConfig::new(5).groups(2), &mut Rng::new(3));
    let names: Vec<String> = conv.parameter_names();
    assert_eq!(names, ["weight", "bias"]);
    assert_eq!(conv.weight.shape(), &[8, 3, 5, 5]);
    assert_eq!((conv.in_channels(), conv.out_channels()), (6, 8));
    // fan_in = 3·5·5 = 75: both tensors within ±1/√75 and spread over most of that range.
    let bound = 1.0 / 75f32.sqrt();
    for p in conv.parameters() {
        let (lo, hi) = (p.value().min().item(), p.value().max().item());
        assert!(lo >= -bound && hi <= bound, "{lo}..{hi} outside ±{bound}");
    }
    let w = conv.weight.value();
    assert!(w.min().item() < -0.8 * bound && w.max().item() > 0.8 * bound);
}

#[test]
#[should_panic(expected = "groups must divide")]
fn conv2d_rejects_groups_that_do_not_divide_the_channels() {
    Conv2d::with_config(3, 4, Conv2dConfig::new(3).groups(2), &mut Rng::new(0));
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    for (i, (cin, cout, config)) in configs().into_iter().enumerate() {
        let conv = Conv2d::with_config(cin, cout, config, &mut Rng::new(i as u64));
        let mut inputs = vec![
            normal(&[2, cin, 5, 6], 20 + i as u64),
            conv.weight.value().clone(),
        ];
        inputs.extend(conv.bias.as_ref().map(|b| b.value().clone()));
        let spec = conv.spec;
        let report = gradcheck(
            |v| {
                let layer = Conv2d {
                    weight: v[1].clone(),
                    bias: v.get(2).cloned(),
                    spec,
                };
                layer.forward(&v[0])
            },
            &inputs,
        )
        .unwrap();
        assert_eq!(report.max_relative_error.len(), inputs.len());
        report.assert_within(TOL);
    }
}

#[test]
fn invalid_dilation_and_pooling_options_are_errors_that_name_them() {
    let rng = &mut Rng::new(0);
    let x = Var::constant(Tensor::zeros(&[1, 2, 8, 8]));
    let error = |layer: &dyn Module, x: &Var| layer.try_forward(x).unwrap_err().to_string();
    let no_dilation = Conv2dConfig::new(3).dilation(0);
    assert_eq!(
        error(&Conv2d::with_config(2, 2, no_dilation, rng), &x),
        "conv2d: dilation should be at least 1, found [0, 0]"
    );
    assert_eq!(
        error(&ConvTranspose2d::with_config(2, 2, no_dilation, rng), &x),
        "conv_transpose2d: dilation should be at least 1, found [0, 0]"
    );
    // Conv1d runs as a 2-D convolution over rows of height 1.
    let signal = Var::constant(Tensor::zeros(&[1, 2, 8]));
    let conv1d = Conv1d::with_config(2, 2, Conv1dConfig::new(3).dilation(0), rng);
    assert_eq!(
        error(&conv1d, &signal),
        "conv2d: dilation should be at least 1, found [1, 0]"
    );
    // Dilation 4 spreads a 3×3 kernel over 9×9, more than the 8×8 input.
    let too_wide = Conv2d::with_config(2, 2, Conv2dConfig::new(3).dilation(4), rng);
    assert_eq!(
        error(&too_wide, &x),
        "conv2d: kernel 3x3 with stride [1, 1], padding [0, 0] and dilation [4, 4] does not fit input [1, 2, 8, 8]"
    );
    let over_padded = AvgPool2d::with_spec(Pool2dSpec::new(3, 2, 2)).ceil_mode(true);
    assert_eq!(
        error(&over_padded, &x),
        "avg_pool2d: padding should be at most half the window [3, 3], found [2, 2]"
    );
}

#[test]
#[should_panic(expected = "conv2d: dilation should be at least 1, found [0, 0]")]
fn the_plain_forward_panics_on_dilation_zero() {
    let conv = Conv2d::with_config(1, 1, Conv2dConfig::new(3).dilation(0), &mut Rng::new(0));
    conv.forward(&Var::constant(Tensor::zeros(&[1, 1, 5, 5])));
}

#[test]
fn pooling_layers_match_hand_values() {
    // 1..=16 in a 4×4 plane.
    let x = Var::constant(Tensor::arange(1.0, 17.0, 1.0).reshape(&[1, 1, 4, 4]));
    let max = MaxPool2d::new(2).forward(&x).value().to_vec();
    assert_eq!(max, [6.0, 8.0, 14.0, 16.0]);
    // Windows 3×3, stride 2, padding 1: rows/cols {0,1}, {1,2,3} clipped to the plane.
    let padded = MaxPool2d::with_spec(Pool2dSpec::new(3, 2, 1)).forward(&x);
    assert_eq!(padded.value().to_vec(), [6.0, 8.0, 14.0, 16.0]);
    let avg = AvgPool2d::new(2).forward(&x).value().to_vec();
    assert_eq!(avg, [3.5, 5.5, 11.5, 13.5]);
    // Padding counts as zeros: the corner window holds only 1 of 4 real values...
    let avg_padded = AvgPool2d::with_spec(Pool2dSpec::new(2, 2, 1));
    let y = avg_padded.forward(&x);
    assert_eq!(y.shape(), &[1, 1, 3, 3]);
    assert_eq!(y.value().get(&[0, 0, 0, 0]), 0.25);
    // ... unless count_include_pad is false.
    let y = avg_padded.count_include_pad(false).forward(&x);
    assert_eq!(y.value().get(&[0, 0, 0, 0]), 1.0);
    assert_eq!(
        y.value().get(&[0, 0, 1, 1]),
        (6.0 + 7.0 + 10.0 + 11.0) / 4.0
    );
    // Ceil mode on 4×4 with windows 3, stride 2: a second window hangs over the edge.
    let ceil = MaxPool2d::with_spec(Pool2dSpec::new(3, 2, 0)).ceil_mode(true);
    assert_eq!(ceil.forward(&x).value().to_vec(), [11.0, 12.0, 15.0, 16.0]);
    let ceil = AvgPool2d::with_spec(Pool2dSpec::new(3, 2, 0)).ceil_mode(true);
    // Its last window covers 11, 12, 15, 16 and nothing past the edge (no padding to count).
    assert_eq!(ceil.forward(&x).value().get(&[0, 0, 1, 1]), 13.5);
    let global = GlobalAvgPool2d.forward(&x);
    assert_eq!(global.shape(), &[1, 1]);
    assert_eq!(global.item(), 8.5);
}

#[test]
fn pooling_gradients_match_finite_differences() {
    // Distinct values 0.01 apart (more than two finite-difference steps), so no window has a
    // tie for its maximum, and of order 1, so f32 rounding stays small.
    let mut order: Vec<usize> = (0..2 * 3 * 6 * 5).collect();
    Rng::new(4).shuffle(&mut order);
    let x = Tensor::from_vec(
        order.iter().map(|&k| k as f32 * 0.01).collect(),
        &[2, 3, 6, 5],
    );
    let layers: Vec<Box<dyn Module>> = vec![
        Box::new(MaxPool2d::new(2)),
        Box::new(MaxPool2d::with_spec(Pool2dSpec::new(3, 2, 1))),
        Box::new(AvgPool2d::new(2)),
        Box::new(AvgPool2d::with_spec(Pool2dSpec::new(3, 1, 1))),
        Box::new(GlobalAvgPool2d),
        // 6×5 with windows 3, stride 2, padding 1, rounded up: the last row of windows
        // covers the last input row, the padding and a row beyond it.
        Box::new(MaxPool2d::with_spec(Pool2dSpec::new(3, 2, 1)).ceil_mode(true)),
        Box::new(AvgPool2d::with_spec(Pool2dSpec::new(3, 2, 1)).ceil_mode(true)),
        Box::new(
            AvgPool2d::with_spec(Pool2dSpec::new(3, 2, 1))
                .ceil_mode(true)
                .count_include_pad(false),
        ),
        Box::new(AvgPool2d::with_spec(Pool2dSpec::new(2, 2, 1)).count_include_pad(false)),
    ];
    for layer in &layers {
        gradcheck(|v| layer.forward(&v[0]), std::slice::from_ref(&x))
            .unwrap()
            .assert_within(TOL);
    }
}

#[test]
fn conv2d_gradients_do_not_depend_on_the_thread_count() {
    // A batch large enough that the kernels spread images over threads.
    let conv = Conv2d::with_config(3, 8, Conv2dConfig::new(3).padding(1), &mut Rng::new(7));
    let x = Var::leaf(normal(&[40, 3, 24, 24], 8));
    let upstream = normal(&[40, 8, 24, 24], 9);
    let gradients = |threads: usize| {
        set_num_threads(threads);
        let grads = conv.forward(&x).backward_with_seed(&upstream).unwrap();
        let all = [&x, &conv.weight, conv.bias.as_ref().unwrap()];
        all.map(|v| grads.get(v).unwrap().to_vec())
    };
    let (one, two) = (gradients(1), gradients(2));
    set_num_threads(0);
    assert!(one == two, "gradients differ between 1 and 2 threads");
}
