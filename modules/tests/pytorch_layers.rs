//! `Conv1d`, `GroupNorm`, `ConvTranspose2d` and `Upsample` against PyTorch: a state dict saved by PyTorch loads
//! by name, and outputs and gradients (input and parameters) match PyTorch's float64 results
//! (`fixtures/make_layer_fixture.py` writes `fixtures/layers_*.safetensors`); plus the shape
//! rules and errors.

#[path = "common/pytorch_fixture.rs"]
mod pytorch_fixture;

use pytorch_fixture::{assert_matches_pytorch, fixture_path, Fixture};
use strata_modules::io::interop::load_safetensors;
use strata_modules::{
    Conv1d, Conv1dConfig, Conv2dConfig, ConvTranspose2d, GroupNorm, Module, Params, Upsample,
    UpsampleMode, Var,
};
use strata_tensor::{Rng, Tensor};

#[derive(Params)]
struct Layers {
    conv: Conv1d,
    norm: GroupNorm,
    up: ConvTranspose2d,
}

/// The fixture's layers with PyTorch's weights.
fn pytorch_layers() -> Layers {
    let config = Conv1dConfig::new(3).stride(2).padding(1).groups(2);
    let mut layers = Layers {
        conv: Conv1d::with_config(4, 6, config, &mut Rng::new(0)),
        norm: GroupNorm::new(3, 6),
        up: ConvTranspose2d::with_config(
            4,
            6,
            Conv2dConfig::new(3).stride(2).padding(1).groups(2),
            &mut Rng::new(0),
        )
        .output_padding(1),
    };
    load_safetensors(&mut layers, fixture_path("layers_model.safetensors")).unwrap();
    layers
}

/// Runs `module` on the fixture's `<name>.x` and checks the output and the gradients of
/// `sum(out · upstream)` for the input and for each of `params` (`(fixture name, parameter)`).
fn check_against_pytorch(name: &str, module: &dyn Module, params: &[(&str, &Var)]) {
    let io = Fixture::read("layers_io.safetensors");
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

#[test]
fn conv1d_matches_pytorch_with_stride_padding_and_groups() {
    let layers = pytorch_layers();
    assert_eq!(layers.conv.weight.shape(), &[6, 2, 3]);
    let bias = layers.conv.bias.as_ref().unwrap();
    let params = [("grad_weight", &layers.conv.weight), ("grad_bias", bias)];
    check_against_pytorch("conv", &layers.conv, &params);
}

#[test]
fn group_norm_matches_pytorch() {
    let layers = pytorch_layers();
    let (weight, bias) = (layers.norm.weight.as_ref(), layers.norm.bias.as_ref());
    let params = [
        ("grad_weight", weight.unwrap()),
        ("grad_bias", bias.unwrap()),
    ];
    check_against_pytorch("norm", &layers.norm, &params);
}

#[test]
fn conv_transpose2d_matches_pytorch_with_stride_padding_output_padding_and_groups() {
    let layers = pytorch_layers();
    assert_eq!(layers.up.weight.shape(), &[4, 3, 3, 3]);
    let bias = layers.up.bias.as_ref().unwrap();
    let params = [("grad_weight", &layers.up.weight), ("grad_bias", bias)];
    check_against_pytorch("up", &layers.up, &params);
}

#[test]
fn conv_transpose2d_undoes_the_size_change_of_the_convolution_it_transposes() {
    let mut rng = Rng::new(4);
    // A stride-2 convolution maps 14 and 13 pixels alike to 7; output_padding picks 14.
    for (config, output_padding, size) in [
        (Conv2dConfig::new(4).stride(2).padding(1), 0, 14),
        (Conv2dConfig::new(3).stride(2).padding(1), 0, 13),
        (Conv2dConfig::new(3).stride(2).padding(1), 1, 14),
        (Conv2dConfig::new(5), 0, 11),
    ] {
        let up =
            ConvTranspose2d::with_config(3, 2, config, &mut rng).output_padding(output_padding);
        let y = up.forward(&Var::constant(Tensor::zeros(&[1, 3, 7, 7])));
        assert_eq!(
            y.shape(),
            &[1, 2, size, size],
            "{config:?}, {output_padding}"
        );
    }
}

#[test]
fn conv_transpose2d_refuses_another_channel_count() {
    let up = ConvTranspose2d::new(3, 2, 3, &mut Rng::new(5));
    let err = up
        .try_forward(&Var::constant(Tensor::zeros(&[1, 4, 5, 5])))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the input has 4 channels but the weight"),
        "{err}"
    );
}

#[test]
#[should_panic(expected = "output_padding 1 must be below the stride [1, 1]")]
fn conv_transpose2d_output_padding_must_be_below_the_stride() {
    let _ = ConvTranspose2d::new(3, 2, 3, &mut Rng::new(5)).output_padding(1);
}

#[test]
fn upsampling_matches_pytorch_in_every_mode() {
    let modes = [
        ("upsample_nearest", Upsample::new(3, UpsampleMode::Nearest)),
        (
            "upsample_bilinear",
            Upsample::new(
                2,
                UpsampleMode::Bilinear {
                    align_corners: false,
                },
            ),
        ),
        (
            "upsample_bilinear_corners",
            Upsample::new(
                3,
                UpsampleMode::Bilinear {
                    align_corners: true,
                },
            ),
        ),
    ];
    for (name, upsample) in modes {
        check_against_pytorch(name, &upsample, &[]);
    }
}

#[test]
fn upsampling_refuses_what_is_not_a_batch_of_images() {
    let upsample = Upsample::new(2, UpsampleMode::Nearest);
    let signal = Var::constant(Tensor::zeros(&[1, 2, 5]));
    let err = upsample.try_forward(&signal).unwrap_err().to_string();
    assert!(
        err.contains("expected images [N, C, H, W], found [1, 2, 5]"),
        "{err}"
    );
    let empty = Var::constant(Tensor::zeros(&[1, 2, 0, 3]));
    assert!(upsample.try_forward(&empty).is_err());
}

#[test]
fn conv1d_output_length_follows_stride_and_padding() {
    let mut rng = Rng::new(1);
    let x = Var::constant(Tensor::zeros(&[3, 2, 20]));
    for (config, length) in [
        (Conv1dConfig::new(5), 16),
        (Conv1dConfig::new(5).padding(2), 20),
        (Conv1dConfig::new(4).stride(3).padding(1), 7),
    ] {
        let conv = Conv1d::with_config(2, 4, config, &mut rng);
        assert_eq!(conv.forward(&x).shape(), &[3, 4, length], "{config:?}");
    }
    let depthwise = Conv1d::with_config(2, 2, Conv1dConfig::new(3).groups(2), &mut rng);
    assert_eq!(
        (depthwise.weight.shape(), depthwise.in_channels()),
        (&[2, 1, 3][..], 2)
    );
}

#[test]
fn conv1d_refuses_inputs_that_are_not_batches_of_signals() {
    let conv = Conv1d::new(2, 4, 3, &mut Rng::new(2));
    let image = Var::constant(Tensor::zeros(&[1, 2, 5, 5]));
    let err = conv.try_forward(&image).unwrap_err().to_string();
    assert!(
        err.contains("expected an input [N, C, L], found [1, 2, 5, 5]"),
        "{err}"
    );
    let other_channels = Var::constant(Tensor::zeros(&[1, 3, 8]));
    assert!(conv.try_forward(&other_channels).is_err());
}

#[test]
fn group_norm_normalises_each_group_of_each_example_on_its_own() {
    // [2 examples, 4 channels, 4 positions], groups of channels {0, 1} and {2, 3}: the first
    // group of example 0 holds 1..8; the second, 1..8 stretched tenfold about its mean;
    // example 1 is example 0 plus 100. Every group is a shift or scale of 1..8, so all four
    // standardise to the same values, of mean 0 and variance 1.
    let base: Vec<f32> = (1..=8).map(|v| v as f32).collect();
    let example: Vec<f32> = base.iter().chain(&base).copied().collect();
    let mut values: Vec<f32> = example
        .iter()
        .enumerate()
        .map(|(i, &v)| if i < 8 { v } else { 10.0 * (v - 4.5) + 4.5 })
        .collect();
    values.extend(values.clone().iter().map(|v| v + 100.0));
    let x = Var::constant(Tensor::from_vec(values, &[2, 4, 4]));
    let y = GroupNorm::without_affine(2, 4).forward(&x).value().to_vec();
    let first_group = &y[..8];
    for group in y.chunks(8) {
        for (a, b) in group.iter().zip(first_group) {
            assert!((a - b).abs() < 1e-3, "{group:?} vs {first_group:?}");
        }
    }
    let mean: f32 = first_group.iter().sum::<f32>() / 8.0;
    let var: f32 = first_group.iter().map(|v| v * v).sum::<f32>() / 8.0;
    assert!(
        mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-3,
        "{mean} {var}"
    );
}

#[test]
fn group_norm_refuses_another_channel_count() {
    let err = GroupNorm::new(2, 4)
        .try_forward(&Var::constant(Tensor::zeros(&[2, 6, 3])))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected an input [N, 4, …], found [2, 6, 3]"),
        "{err}"
    );
}

#[test]
#[should_panic(expected = "3 groups must divide the 4 channels")]
fn group_norm_groups_must_divide_the_channels() {
    let _ = GroupNorm::new(3, 4);
}
