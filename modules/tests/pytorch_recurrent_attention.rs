//! PyTorch state dicts of recurrent and attention layers load into Strata under the same names
//! and shapes and give PyTorch's outputs. The fixtures come from
//! `fixtures/make_recurrent_attention_fixture.py` (weights redrawn so that no bias is zero).

use std::collections::HashMap;
use std::path::Path;
use strata_modules::io::interop::{load_safetensors, read_safetensors};
use strata_modules::{
    AttentionMask, AttentionMasks, Gru, GruCell, Lstm, LstmCell, MultiHeadAttention,
    MultiHeadAttentionConfig, NeedWeights, Params, RecurrentConfig, Rnn, RnnCell, Var,
};
use strata_tensor::{Rng, Tensor};

/// Agreement with PyTorch's f32 results: the same arithmetic in another order.
const TOL: f32 = 1e-5;

/// The Strata twin of the fixture's `Fixture` module: same attribute names, same layers.
#[derive(Params)]
struct Fixture {
    rnn_cell: RnnCell,
    lstm_cell: LstmCell,
    gru_cell: GruCell,
    rnn: Rnn,
    lstm: Lstm,
    gru: Gru,
    attention: MultiHeadAttention,
    attention_kv: MultiHeadAttention,
}

impl Fixture {
    fn new() -> Self {
        let rng = &mut Rng::new(0);
        let two_layers = RecurrentConfig {
            num_layers: 2,
            ..RecurrentConfig::new(3, 4)
        };
        let kv = MultiHeadAttentionConfig {
            kdim: Some(5),
            vdim: Some(6),
            ..MultiHeadAttentionConfig::new(8, 2)
        };
        Self {
            rnn_cell: RnnCell::new(3, 4, rng),
            lstm_cell: LstmCell::new(3, 4, rng),
            gru_cell: GruCell::new(3, 4, rng),
            rnn: Rnn::with_config(two_layers, rng),
            lstm: Lstm::with_config(two_layers, rng),
            gru: Gru::with_config(two_layers, rng),
            attention: MultiHeadAttention::new(8, 2, rng),
            attention_kv: MultiHeadAttention::with_config(kv, rng),
        }
    }
}

fn fixtures() -> (Fixture, HashMap<String, Tensor>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut model = Fixture::new();
    load_safetensors(
        &mut model,
        dir.join("recurrent_attention_model.safetensors"),
    )
    .unwrap();
    let io = read_safetensors(dir.join("recurrent_attention_io.safetensors"))
        .unwrap()
        .into_iter()
        .map(|t| (t.name, t.tensor))
        .collect();
    (model, io)
}

fn assert_close(name: &str, got: &Var, expected: &Tensor) {
    assert_eq!(got.shape(), expected.shape(), "{name}: shape");
    let diff = got
        .value()
        .to_vec()
        .iter()
        .zip(expected.to_vec())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(diff <= TOL, "{name}: differs from PyTorch by {diff}");
}

#[test]
fn cells_give_pytorchs_outputs() {
    let (model, io) = fixtures();
    let input = |name: &str| Var::constant(io[name].clone());
    let (x, h, c) = (input("step_x"), input("step_h"), input("step_c"));
    assert_close(
        "RNNCell",
        &model.rnn_cell.forward_step(&x, Some(&h)),
        &io["rnn_cell_h"],
    );
    let (h1, c1) = model.lstm_cell.forward_step(&x, Some((&h, &c)));
    assert_close("LSTMCell h", &h1, &io["lstm_cell_h"]);
    assert_close("LSTMCell c", &c1, &io["lstm_cell_c"]);
    assert_close(
        "GRUCell",
        &model.gru_cell.forward_step(&x, Some(&h)),
        &io["gru_cell_h"],
    );
}

#[test]
fn sequence_layers_give_pytorchs_outputs() {
    let (model, io) = fixtures();
    let input = |name: &str| Var::constant(io[name].clone());
    let (x, h0, c0) = (input("seq_x"), input("seq_h0"), input("seq_c0"));
    let (out, h) = model.rnn.forward_seq(&x, Some(&h0));
    assert_close("RNN output", &out, &io["rnn_out"]);
    assert_close("RNN h_n", &h, &io["rnn_h"]);
    let (out, (h, c)) = model.lstm.forward_seq(&x, Some((&h0, &c0)));
    assert_close("LSTM output", &out, &io["lstm_out"]);
    assert_close("LSTM h_n", &h, &io["lstm_h"]);
    assert_close("LSTM c_n", &c, &io["lstm_c"]);
    let (out, h) = model.gru.forward_seq(&x, Some(&h0));
    assert_close("GRU output", &out, &io["gru_out"]);
    assert_close("GRU h_n", &h, &io["gru_h"]);
}

#[test]
fn multi_head_attention_gives_pytorchs_outputs_and_weights() {
    let (model, io) = fixtures();
    let input = |name: &str| Var::constant(io[name].clone());
    let q = input("query");
    // PyTorch: boolean causal attn_mask (True above the diagonal) and a key-padding mask.
    let causal = Tensor::from_vec(
        (0..16)
            .map(|k| if k % 4 > k / 4 { 1.0 } else { 0.0 })
            .collect(),
        &[4, 4],
    );
    let masks = AttentionMasks::default()
        .with_attn_mask(AttentionMask::Blocked(causal))
        .with_key_padding(io["self_padding"].clone());
    let (out, weights) = model
        .attention
        .forward_qkv(&q, &q, &q, &masks, NeedWeights::Averaged);
    assert_close("self-attention output", &out, &io["self_out"]);
    assert_close(
        "self-attention weights",
        &weights.unwrap(),
        &io["self_weights"],
    );
    // The causal flag is the same mask.
    let flagged = AttentionMasks::causal().with_key_padding(io["self_padding"].clone());
    let (out, _) = model
        .attention
        .forward_qkv(&q, &q, &q, &flagged, NeedWeights::No);
    assert_close("self-attention output (causal flag)", &out, &io["self_out"]);

    let masks = AttentionMasks::default().with_key_padding(io["kv_padding"].clone());
    let (out, weights) = model.attention_kv.forward_qkv(
        &q,
        &input("kv_key"),
        &input("kv_value"),
        &masks,
        NeedWeights::PerHead,
    );
    assert_close("kdim/vdim attention output", &out, &io["kv_out"]);
    assert_close(
        "kdim/vdim attention weights",
        &weights.unwrap(),
        &io["kv_weights"],
    );
}
