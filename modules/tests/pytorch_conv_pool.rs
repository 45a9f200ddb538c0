//! Dilated convolutions (`Conv2d` with stride, padding and groups, `Conv1d`,
//! `ConvTranspose2d`) and pooling with `ceil_mode` and `count_include_pad` against PyTorch:
//! outputs and gradients (input and parameters) match PyTorch's float64 results
//! (`fixtures/make_conv_pool_fixture.py` writes `fixtures/conv_pool_*.safetensors`).

#[path = "common/pytorch_fixture.rs"]
mod pytorch_fixture;

use pytorch_fixture::{assert_matches_pytorch, fixture_path, Fixture};
use strata_modules::io::interop::load_safetensors;
use strata_modules::{
    AvgPool2d, Conv1d, Conv1dConfig, Conv2d, Conv2dConfig, ConvTranspose2d, MaxPool2d, Module,
    Params, Var,
};
use strata_tensor::{Pool2dSpec, Rng};

#[derive(Params)]
struct ConvPool {
    conv2d: Conv2d,
    conv1d: Conv1d,
    up: ConvTranspose2d,
}

/// The fixture's layers with PyTorch's weights.
fn pytorch_layers() -> ConvPool {
    let rng = &mut Rng::new(0);
    let dilated = Conv2dConfig::new(3)
        .stride(2)
        .padding(2)
        .dilation(2)
        .groups(2);
    let up = Conv2dConfig::new(3)
        .stride(2)
        .padding(1)
        .dilation(2)
        .groups(2);
    let mut layers = ConvPool {
        conv2d: Conv2d::with_config(4, 6, dilated, rng),
        conv1d: Conv1d::with_config(
            3,
            4,
            Conv1dConfig::new(3).stride(2).padding(3).dilation(3),
            rng,
        ),
        up: ConvTranspose2d::with_config(4, 6, up, rng).output_padding(1),
    };
    load_safetensors(&mut layers, fixture_path("conv_pool_model.safetensors")).unwrap();
    layers
}

/// Runs `module` on the fixture's `<name>.x` and checks the output and the gradients of
/// `sum(out · upstream)` for the input and for each of `params` (`(fixture name, parameter)`).
fn check_against_pytorch(name: &str, module: &dyn Module, params: &[(&str, &Var)]) {
    let io = Fixture::read("conv_pool_io.safetensors");
    let field = |what: &str| io.get(&format!("{name}.{what}"));
    let x = Var::leaf(field("x"));
    let out = module.forward(&x);
    assert_matches_pytorch(name, out.value(), &field("out"));
    let loss = out.mul(&Var::constant(field("upstream"))).sum();
    let grads = loss.backward().unwrap();
    for &(what, var) in [("grad_x", &x)].iter().chain(params) {
        let grad = grads.get(var).unwrap();
        assert_matches_pytorch(&format!("{name} {what}"), grad, &field(what));
    }
}

/// The weight and bias of a layer with PyTorch's gradient names.
fn weight_and_bias<'a>(weight: &'a Var, bias: &'a Option<Var>) -> [(&'static str, &'a Var); 2] {
    [
        ("grad_weight", weight),
        ("grad_bias", bias.as_ref().expect("the layer has a bias")),
    ]
}

#[test]
fn dilated_conv2d_with_stride_padding_and_groups_matches_pytorch() {
    let layers = pytorch_layers();
    let conv = &layers.conv2d;
    assert_eq!(conv.weight.shape(), &[6, 2, 3, 3]);
    check_against_pytorch("conv2d", conv, &weight_and_bias(&conv.weight, &conv.bias));
}

#[test]
fn dilated_conv1d_matches_pytorch() {
    let layers = pytorch_layers();
    let conv = &layers.conv1d;
    assert_eq!(conv.weight.shape(), &[4, 3, 3]);
    check_against_pytorch("conv1d", conv, &weight_and_bias(&conv.weight, &conv.bias));
}

#[test]
fn dilated_conv_transpose2d_matches_pytorch() {
    let layers = pytorch_layers();
    let up = &layers.up;
    assert_eq!(up.weight.shape(), &[4, 3, 3, 3]);
    check_against_pytorch("up", up, &weight_and_bias(&up.weight, &up.bias));
}

/// A square window, stride and padding, rounded up.
fn ceil(kernel: usize, stride: usize, padding: usize) -> Pool2dSpec {
    Pool2dSpec::new(kernel, stride, padding).with_ceil_mode(true)
}

#[test]
fn max_pooling_in_ceil_mode_matches_pytorch() {
    for (name, spec) in [
        ("max_ceil", ceil(3, 2, 1)),
        ("max_ceil_drop", ceil(3, 3, 1)),
    ] {
        check_against_pytorch(name, &MaxPool2d::with_spec(spec), &[]);
    }
}

#[test]
fn average_pooling_with_ceil_mode_and_count_include_pad_matches_pytorch() {
    let rect = Pool2dSpec {
        kernel: [2, 3],
        stride: [2, 2],
        padding: [1, 1],
        ceil_mode: true,
        count_include_pad: true,
    };
    let cases = [
        ("avg_ceil", AvgPool2d::with_spec(ceil(3, 2, 1))),
        (
            "avg_ceil_inside",
            AvgPool2d::with_spec(ceil(3, 2, 1)).count_include_pad(false),
        ),
        ("avg_ceil_unpadded", AvgPool2d::new(2).ceil_mode(true)),
        (
            "avg_inside",
            AvgPool2d::with_spec(Pool2dSpec::new(3, 2, 1)).count_include_pad(false),
        ),
        ("avg_ceil_drop", AvgPool2d::with_spec(ceil(3, 3, 1))),
        (
            "avg_ceil_drop_inside",
            AvgPool2d::with_spec(ceil(3, 3, 1)).count_include_pad(false),
        ),
        ("avg_ceil_rect", AvgPool2d::with_spec(rect)),
    ];
    for (name, pool) in cases {
        check_against_pytorch(name, &pool, &[]);
    }
}
