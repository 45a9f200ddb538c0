//! Transformer encoder layers against PyTorch: a state dict of a post-norm ReLU stack with a
//! final norm and of a pre-norm GELU layer (`fixtures/make_transformer_fixture.py`) loads by
//! name, and in evaluation mode the outputs and gradients (input and attention projection)
//! match PyTorch's float64 results, with causal and key-padding masks.

#[path = "common/pytorch_fixture.rs"]
mod pytorch_fixture;

use pytorch_fixture::{assert_matches_pytorch, fixture_path, Fixture};
use strata_modules::interop::load_safetensors;
use strata_modules::{
    AttentionMasks, FeedForwardActivation, Params, TransformerConfig, TransformerEncoder,
    TransformerEncoderLayer, Var,
};
use strata_tensor::{Rng, Tensor};

#[derive(Params)]
struct Pair {
    post: TransformerEncoder,
    pre: TransformerEncoderLayer,
}

fn pytorch_pair() -> Pair {
    let mut rng = Rng::new(0);
    let config = TransformerConfig::new(16, 4)
        .dim_feedforward(32)
        .dropout(0.0);
    let pre = config
        .activation(FeedForwardActivation::Gelu)
        .norm_first(true);
    let mut pair = Pair {
        post: TransformerEncoder::new(config, 2, &mut rng).with_final_norm(),
        pre: TransformerEncoderLayer::new(pre, &mut rng),
    };
    load_safetensors(&mut pair, fixture_path("transformer_model.safetensors")).unwrap();
    pair.eval();
    pair
}

/// Checks `out` (computed from the leaf `x`) and its gradients against `<name>.*`.
fn check(io: &Fixture, name: &str, x: &Var, out: &Var, in_proj: &Var) {
    let field = |what: &str| io.get(&format!("{name}.{what}"));
    assert_matches_pytorch(name, out.value(), &field("out"));
    let loss = out.mul(&Var::constant(field("upstream"))).sum();
    let grads = loss.backward().unwrap();
    assert_matches_pytorch(name, grads.get(x).unwrap(), &field("grad_x"));
    assert_matches_pytorch(name, grads.get(in_proj).unwrap(), &field("grad_in_proj"));
}

#[test]
fn a_post_norm_stack_matches_pytorch_under_causal_and_padding_masks() {
    let pair = pytorch_pair();
    let io = Fixture::read("transformer_io.safetensors");
    let x = Var::leaf(io.get("x"));
    let masks = AttentionMasks::causal().with_key_padding(io.get("padding"));
    let out = pair.post.forward_masked(&x, &masks);
    let in_proj = pair.post.layers[0]
        .self_attn
        .in_proj_weight
        .as_ref()
        .unwrap();
    check(&io, "post", &x, &out, in_proj);
}

#[test]
fn a_pre_norm_gelu_layer_matches_pytorch() {
    let pair = pytorch_pair();
    let io = Fixture::read("transformer_io.safetensors");
    let x = Var::leaf(io.get("x"));
    let out = strata_modules::Module::forward(&pair.pre, &x);
    let in_proj = pair.pre.self_attn.in_proj_weight.as_ref().unwrap();
    check(&io, "pre", &x, &out, in_proj);
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
