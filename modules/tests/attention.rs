//! Attention: scaled dot-product attention against a loop in f64 under every kind of mask,
//! fully masked rows, gradients against finite differences (with key-padding and causal
//! masks), causal attention never looking ahead, and MultiHeadAttention's PyTorch names,
//! initialisation and weights.

use strata_autograd::{gradcheck, Var};
use strata_modules::{
    scaled_dot_product_attention, AttentionMask, AttentionMasks, Module, MultiHeadAttention,
    MultiHeadAttentionConfig, NeedWeights, Params,
};
use strata_tensor::{Rng, Tensor};

/// f32 against f64: softmax and two short products of order-1 terms.
const VALUE_TOL: f64 = 1e-5;
/// gradcheck with f32 central differences (eps 1e-3) reaches a few 1e-3 on these sizes.
const GRAD_TOL: f64 = 1e-2;

fn normal(shape: &[usize], rng: &mut Rng) -> Tensor {
    Tensor::rand_normal(shape, 0.0, 1.0, rng)
}

/// Attention of one query row over keys, in f64: `allowed[s]` false blocks key `s`, `bias[s]`
/// is added to its score. Returns `(weights, output)`.
fn attend_row(
    q: &[f64],
    keys: &[Vec<f64>],
    values: &[Vec<f64>],
    allowed: &[bool],
    bias: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let scale = 1.0 / (q.len() as f64).sqrt();
    let scores: Vec<Option<f64>> = keys
        .iter()
        .enumerate()
        .map(|(s, k)| {
            let dot: f64 = q.iter().zip(k).map(|(a, b)| a * b).sum();
            allowed[s].then_some(dot * scale + bias[s])
        })
        .collect();
    let max = scores
        .iter()
        .flatten()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scores
        .iter()
        .map(|s| s.map_or(0.0, |s| (s - max).exp()))
        .collect();
    let sum: f64 = exps.iter().sum();
    let weights: Vec<f64> = exps
        .iter()
        .map(|e| if sum > 0.0 { e / sum } else { 0.0 })
        .collect();
    let mut output = vec![0.0; values[0].len()];
    for (w, v) in weights.iter().zip(values) {
        for (o, x) in output.iter_mut().zip(v) {
            *o += w * x;
        }
    }
    (weights, output)
}

fn rows(t: &Tensor, batch: usize) -> Vec<Vec<f64>> {
    let (len, width) = (t.shape()[1], t.shape()[2]);
    (0..len)
        .map(|i| (0..width).map(|j| t.get(&[batch, i, j]) as f64).collect())
        .collect()
}

fn max_diff(t: &Tensor, expected: &[f64]) -> f64 {
    assert_eq!(t.numel(), expected.len());
    t.to_vec()
        .iter()
        .zip(expected)
        .map(|(&a, &b)| (a as f64 - b).abs())
        .fold(0.0, f64::max)
}

#[test]
fn scaled_dot_product_attention_matches_a_loop_under_every_mask() {
    let mut rng = Rng::new(1);
    let (n, l, s, e, ev) = (2, 3, 4, 5, 2);
    let (q, k, v) = (
        normal(&[n, l, e], &mut rng),
        normal(&[n, s, e], &mut rng),
        normal(&[n, s, ev], &mut rng),
    );
    let padding = Tensor::from_vec(vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0], &[n, s]);
    let blocked = Tensor::from_vec(
        vec![0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        &[l, s],
    );
    let additive = normal(&[l, s], &mut rng);
    let cases = [
        ("none", AttentionMasks::default()),
        ("causal", AttentionMasks::causal()),
        (
            "padding",
            AttentionMasks::default().with_key_padding(padding.clone()),
        ),
        (
            "blocked",
            AttentionMasks::default().with_attn_mask(AttentionMask::Blocked(blocked.clone())),
        ),
        (
            "all",
            AttentionMasks::causal()
                .with_key_padding(padding.clone())
                .with_attn_mask(AttentionMask::Additive(additive.clone())),
        ),
    ];
    for (name, masks) in cases {
        let (out, weights) = scaled_dot_product_attention(
            &Var::constant(q.clone()),
            &Var::constant(k.clone()),
            &Var::constant(v.clone()),
            &masks,
        );
        let (mut expected_weights, mut expected_out) = (Vec::new(), Vec::new());
        for b in 0..n {
            let (keys, values) = (rows(&k, b), rows(&v, b));
            for (i, query) in rows(&q, b).iter().enumerate() {
                let allowed: Vec<bool> = (0..s)
                    .map(|j| {
                        let causal_ok = !masks.causal || j <= i;
                        let padding_ok =
                            masks.key_padding_mask.is_none() || padding.get(&[b, j]) == 0.0;
                        let blocked_ok =
                            !matches!(masks.attn_mask, Some(AttentionMask::Blocked(_)))
                                || blocked.get(&[i, j]) == 0.0;
                        causal_ok && padding_ok && blocked_ok
                    })
                    .collect();
                let bias: Vec<f64> = (0..s)
                    .map(|j| match masks.attn_mask {
                        Some(AttentionMask::Additive(_)) => additive.get(&[i, j]) as f64,
                        _ => 0.0,
                    })
                    .collect();
                let (w, o) = attend_row(query, &keys, &values, &allowed, &bias);
                expected_weights.extend(w);
                expected_out.extend(o);
            }
        }
        assert_eq!(
            (out.shape(), weights.shape()),
            (&[n, l, ev][..], &[n, l, s][..])
        );
        let diff =
            max_diff(weights.value(), &expected_weights).max(max_diff(out.value(), &expected_out));
        assert!(diff < VALUE_TOL, "{name}: differs by {diff}");
    }
}

#[test]
fn a_fully_masked_query_gets_zeros_and_no_nan() {
    let mut rng = Rng::new(2);
    let (q, k, v) = (
        normal(&[1, 2, 3], &mut rng),
        normal(&[1, 2, 3], &mut rng),
        normal(&[1, 2, 3], &mut rng),
    );
    // Query 0 may attend nothing; query 1 may attend key 1 only.
    let blocked = AttentionMask::Blocked(Tensor::from_vec(vec![1.0, 1.0, 1.0, 0.0], &[2, 2]));
    let masks = AttentionMasks::default().with_attn_mask(blocked);
    let report = gradcheck(
        |x| {
            let (out, weights) = scaled_dot_product_attention(&x[0], &x[1], &x[2], &masks);
            assert_eq!(weights.value().to_vec()[..3], [0.0, 0.0, 0.0]);
            assert_eq!(out.value().to_vec()[..3], [0.0, 0.0, 0.0]);
            assert_eq!(
                out.value().to_vec()[3..],
                x[2].value().narrow(1, 1, 1).to_vec()[..]
            );
            out
        },
        &[q, k, v],
    )
    .unwrap();
    report.assert_within(GRAD_TOL);
}

#[test]
fn attention_gradients_match_finite_differences_with_masks() {
    let mut rng = Rng::new(3);
    let padding = Tensor::from_vec(vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0], &[2, 4]);
    let masks = AttentionMasks::causal().with_key_padding(padding);
    // 4-D: [N, heads, L, E] with L = S.
    let inputs = [
        normal(&[2, 2, 4, 3], &mut rng),
        normal(&[2, 2, 4, 3], &mut rng),
        normal(&[2, 2, 4, 2], &mut rng),
    ];
    gradcheck(
        |x| {
            let (out, weights) = scaled_dot_product_attention(&x[0], &x[1], &x[2], &masks);
            Var::concat(&[&out.reshape(&[-1]), &weights.reshape(&[-1])], 0)
        },
        &inputs,
    )
    .unwrap()
    .assert_within(GRAD_TOL);
}

/// A multi-head attention layer whose parameters are replaced by `params`, in order.
fn with_params(config: MultiHeadAttentionConfig, params: &[Var]) -> MultiHeadAttention {
    let mut layer = MultiHeadAttention::with_config(config, &mut Rng::new(0));
    let mut next = params.iter();
    layer.visit_mut("", &mut |_: &str, p: &mut Var| {
        *p = next.next().unwrap().clone()
    });
    layer
}

#[test]
fn multi_head_gradients_match_finite_differences_with_masks() {
    let mut rng = Rng::new(4);
    let packed = MultiHeadAttentionConfig::new(4, 2);
    let separate = MultiHeadAttentionConfig {
        kdim: Some(3),
        vdim: Some(2),
        ..packed
    };
    for (config, masks, average) in [
        (packed, AttentionMasks::causal(), NeedWeights::PerHead),
        (
            separate,
            AttentionMasks::default().with_key_padding(Tensor::from_vec(
                vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0],
                &[2, 5],
            )),
            NeedWeights::Averaged,
        ),
    ] {
        let layer = MultiHeadAttention::with_config(config, &mut rng);
        let (kdim, vdim, keys) = (
            config.kdim.unwrap_or(4),
            config.vdim.unwrap_or(4),
            if config.kdim.is_some() { 5 } else { 3 },
        );
        let mut inputs = vec![
            normal(&[2, 3, 4], &mut rng),
            normal(&[2, keys, kdim], &mut rng),
            normal(&[2, keys, vdim], &mut rng),
        ];
        // Non-zero biases, so that their gradients are checked away from zero.
        inputs.extend(
            layer
                .parameters()
                .iter()
                .map(|p| p.value().add(&normal(p.shape(), &mut rng).mul_scalar(0.3))),
        );
        gradcheck(
            |x| {
                let layer = with_params(config, &x[3..]);
                let (out, weights) = layer.forward_qkv(&x[0], &x[1], &x[2], &masks, average);
                Var::concat(&[&out.reshape(&[-1]), &weights.unwrap().reshape(&[-1])], 0)
            },
            &inputs,
        )
        .unwrap()
        .assert_within(GRAD_TOL);
    }
}

#[test]
fn causal_attention_never_looks_ahead() {
    let mut rng = Rng::new(5);
    let (n, l, e) = (2, 6, 8);
    let layer = MultiHeadAttention::new(e, 2, &mut rng);
    let x = Var::leaf(normal(&[n, l, e], &mut rng));
    for t in 0..l {
        let (out, _) = layer.forward_qkv(&x, &x, &x, &AttentionMasks::causal(), NeedWeights::No);
        let grads = out.narrow(1, t, 1).sum().backward().unwrap();
        let dx = grads.get(&x).unwrap();
        for j in 0..l {
            let position = dx.narrow(1, j, 1).abs().sum().item();
            if j > t {
                assert_eq!(position, 0.0, "output {t} depends on input {j}");
            } else {
                assert!(position > 0.0, "output {t} ignores input {j}");
            }
        }
    }
}

#[test]
fn multi_head_attention_has_pytorch_names_and_initialisation() {
    let mut rng = Rng::new(6);
    let names = |layer: &MultiHeadAttention| -> Vec<(String, Vec<usize>)> {
        layer
            .named_parameters()
            .into_iter()
            .map(|(n, p)| (n, p.shape().to_vec()))
            .collect()
    };
    let packed = MultiHeadAttention::new(8, 2, &mut rng);
    let expected = [
        ("in_proj_weight", vec![24, 8]),
        ("in_proj_bias", vec![24]),
        ("out_proj.weight", vec![8, 8]),
        ("out_proj.bias", vec![8]),
    ];
    assert_eq!(names(&packed), expected.map(|(n, s)| (n.to_string(), s)));
    let config = MultiHeadAttentionConfig {
        kdim: Some(5),
        vdim: Some(6),
        ..MultiHeadAttentionConfig::new(8, 2)
    };
    let separate = MultiHeadAttention::with_config(config, &mut rng);
    let expected = [
        ("q_proj_weight", vec![8, 8]),
        ("k_proj_weight", vec![8, 5]),
        ("v_proj_weight", vec![8, 6]),
        ("in_proj_bias", vec![24]),
        ("out_proj.weight", vec![8, 8]),
        ("out_proj.bias", vec![8]),
    ];
    assert_eq!(names(&separate), expected.map(|(n, s)| (n.to_string(), s)));
    let no_bias = MultiHeadAttention::with_config(
        MultiHeadAttentionConfig {
            bias: false,
            ..MultiHeadAttentionConfig::new(8, 2)
        },
        &mut rng,
    );
    assert_eq!(no_bias.parameters().len(), 2);

    // Xavier-uniform packed projection (bound √(6/(8 + 24)) = 0.433), U(±1/√8) output
    // weight, zero biases.
    let params = packed.parameters();
    let largest = |t: &Tensor| t.to_vec().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let in_bound = (6.0f32 / 32.0).sqrt();
    assert!(largest(params[0].value()) <= in_bound && largest(params[0].value()) > 0.9 * in_bound);
    let out_bound = 1.0 / 8.0f32.sqrt();
    assert!(
        largest(params[2].value()) <= out_bound && largest(params[2].value()) > 0.9 * out_bound
    );
    assert_eq!(
        (largest(params[1].value()), largest(params[3].value())),
        (0.0, 0.0)
    );
}

#[test]
fn averaged_weights_are_the_mean_of_the_heads() {
    let mut rng = Rng::new(7);
    let layer = MultiHeadAttention::new(6, 3, &mut rng);
    let (q, kv) = (
        Var::constant(normal(&[2, 4, 6], &mut rng)),
        Var::constant(normal(&[2, 5, 6], &mut rng)),
    );
    let masks = AttentionMasks::default();
    let (out, per_head) = layer.forward_qkv(&q, &kv, &kv, &masks, NeedWeights::PerHead);
    let (out2, averaged) = layer.forward_qkv(&q, &kv, &kv, &masks, NeedWeights::Averaged);
    let (per_head, averaged) = (per_head.unwrap(), averaged.unwrap());
    assert_eq!(
        (per_head.shape(), averaged.shape()),
        (&[2, 3, 4, 5][..], &[2, 4, 5][..])
    );
    assert_eq!(out.value().to_vec(), out2.value().to_vec());
    let mean = per_head.value().mean_axes(&[1], false);
    assert!(
        max_diff(
            averaged.value(),
            &mean.to_vec().iter().map(|&v| v as f64).collect::<Vec<_>>()
        ) < 1e-7
    );
    let row_sums = per_head.value().sum_axes(&[-1], false).to_vec();
    assert!(
        row_sums.iter().all(|s| (s - 1.0).abs() < 1e-6),
        "{row_sums:?}"
    );
    // Module::forward is unmasked self-attention.
    let (self_out, _) = layer.forward_qkv(&q, &q, &q, &masks, NeedWeights::No);
    assert_eq!(
        layer.forward(&q).value().to_vec(),
        self_out.value().to_vec()
    );
}

#[test]
fn shape_mismatches_are_reported() {
    let mut rng = Rng::new(8);
    let layer = MultiHeadAttention::new(4, 2, &mut rng);
    let x = Var::constant(normal(&[2, 3, 4], &mut rng));
    let wrong = Var::constant(normal(&[2, 3, 5], &mut rng));
    let message = layer
        .try_forward_qkv(
            &x,
            &wrong,
            &wrong,
            &AttentionMasks::default(),
            NeedWeights::No,
        )
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.contains("MultiHeadAttention") && message.contains("[2, 3, 5]"),
        "{message}"
    );
    let padding = AttentionMasks::default().with_key_padding(Tensor::zeros(&[2, 4]));
    let message = layer
        .try_forward_qkv(&x, &x, &x, &padding, NeedWeights::No)
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.contains("key_padding_mask") && message.contains("[2, 4]"),
        "{message}"
    );
}
