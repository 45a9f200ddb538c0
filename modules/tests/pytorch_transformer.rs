//! Transformer layers against PyTorch: a state dict of a post-norm ReLU encoder stack with a
//! final norm, a pre-norm GELU encoder layer and a pre-norm GELU decoder stack
//! (`fixtures/make_transformer_fixture.py`) loads by name, and in evaluation mode the outputs
//! and gradients (inputs, memory and an attention projection) match PyTorch's float64
//! results, with causal and key-padding masks.

#[path = "common/pytorch_fixture.rs"]
mod pytorch_fixture;

use pytorch_fixture::{assert_matches_pytorch, fixture_path, Fixture};
use strata_modules::io::interop::load_safetensors;
use strata_modules::{
    AttentionMasks, FeedForwardActivation, Params, TransformerConfig, TransformerDecoder,
    TransformerEncoder, TransformerEncoderLayer, Var,
};
use strata_tensor::{Rng, Tensor};

#[derive(Params)]
struct Models {
    post: TransformerEncoder,
    pre: TransformerEncoderLayer,
    dec: TransformerDecoder,
}

fn pytorch_models() -> Models {
    let mut rng = Rng::new(0);
    let config = TransformerConfig::new(16, 4)
        .dim_feedforward(32)
        .dropout(0.0);
    let pre = config
        .activation(FeedForwardActivation::Gelu)
        .norm_first(true);
    let mut models = Models {
        post: TransformerEncoder::new(config, 2, &mut rng).with_final_norm(),
        pre: TransformerEncoderLayer::new(pre, &mut rng),
        dec: TransformerDecoder::new(pre, 2, &mut rng).with_final_norm(),
    };
    load_safetensors(&mut models, fixture_path("transformer_model.safetensors")).unwrap();
    models.eval();
    models
}

/// Checks `out` and its gradients for `(fixture name, leaf)` pairs against `<name>.*`.
fn check(io: &Fixture, name: &str, out: &Var, leaves: &[(&str, &Var)]) {
    let field = |what: &str| io.get(&format!("{name}.{what}"));
    assert_matches_pytorch(name, out.value(), &field("out"));
    let loss = out.mul(&Var::constant(field("upstream"))).sum();
    let grads = loss.backward().unwrap();
    for &(what, leaf) in leaves {
        let grad = grads.get(leaf).unwrap();
        assert_matches_pytorch(&format!("{name} {what}"), grad, &field(what));
    }
}

#[test]
fn a_post_norm_stack_matches_pytorch_under_causal_and_padding_masks() {
    let models = pytorch_models();
    let io = Fixture::read("transformer_io.safetensors");
    let x = Var::leaf(io.get("x"));
    let masks = AttentionMasks::causal().with_key_padding(io.get("padding"));
    let out = models.post.forward_masked(&x, &masks);
    let in_proj = models.post.layers[0].self_attn.in_proj_weight.as_ref();
    check(
        &io,
        "post",
        &out,
        &[("grad_x", &x), ("grad_in_proj", in_proj.unwrap())],
    );
}

#[test]
fn a_pre_norm_gelu_layer_matches_pytorch() {
    let models = pytorch_models();
    let io = Fixture::read("transformer_io.safetensors");
    let x = Var::leaf(io.get("x"));
    let out = strata_modules::Module::forward(&models.pre, &x);
    let in_proj = models.pre.self_attn.in_proj_weight.as_ref().unwrap();
    check(
        &io,
        "pre",
        &out,
        &[("grad_x", &x), ("grad_in_proj", in_proj)],
    );
}

#[test]
fn a_pre_norm_decoder_stack_matches_pytorch_with_causal_targets_and_padded_memory() {
    let models = pytorch_models();
    let io = Fixture::read("transformer_io.safetensors");
    let (x, memory) = (Var::leaf(io.get("x")), Var::leaf(io.get("memory")));
    let memory_masks = AttentionMasks::default().with_key_padding(io.get("memory_padding"));
    let out = models
        .dec
        .forward_with_memory(&x, &memory, &AttentionMasks::causal(), &memory_masks);
    let in_proj = models.dec.layers[0].multihead_attn.in_proj_weight.as_ref();
    let leaves = [
        ("grad_x", &x),
        ("grad_memory", &memory),
        ("grad_in_proj", in_proj.unwrap()),
    ];
    check(&io, "dec", &out, &leaves);
}

#[test]
fn causal_attention_keeps_later_tokens_out_of_earlier_outputs() {
    let mut rng = Rng::new(1);
    let config = TransformerConfig::new(8, 2)
        .dim_feedforward(16)
        .dropout(0.0);
    let encoder = TransformerEncoder::new(config, 2, &mut rng);
    let x = Tensor::rand_normal(&[1, 5, 8], 0.0, 1.0, &mut rng);
    let mut changed = x.to_vec();
    changed[4 * 8..].iter_mut().for_each(|v| *v += 1.0); // the last token only
    let changed = Tensor::from_vec(changed, &[1, 5, 8]);
    let run = |t: &Tensor| {
        let out = encoder.forward_masked(&Var::constant(t.clone()), &AttentionMasks::causal());
        out.value().to_vec()
    };
    let (before, after) = (run(&x), run(&changed));
    assert_eq!(
        before[..4 * 8],
        after[..4 * 8],
        "an earlier output saw the last token"
    );
    assert_ne!(before[4 * 8..], after[4 * 8..]);
}

#[test]
fn dropout_is_active_in_training_and_off_in_evaluation() {
    let mut rng = Rng::new(2);
    let config = TransformerConfig::new(8, 2)
        .dim_feedforward(16)
        .dropout(0.5);
    let mut layer = TransformerEncoderLayer::new(config, &mut rng);
    let x = Var::constant(Tensor::rand_normal(&[2, 3, 8], 0.0, 1.0, &mut rng));
    let forward = |layer: &TransformerEncoderLayer| {
        strata_modules::Module::forward(layer, &x).value().to_vec()
    };
    assert_ne!(
        forward(&layer),
        forward(&layer),
        "training runs draw new masks"
    );
    layer.eval();
    assert_eq!(forward(&layer), forward(&layer));
}
