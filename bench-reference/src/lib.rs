//! # strata-bench-reference
//!
//! The portable data and initialisation of the PyTorch reference harness, so Strata and
//! PyTorch can train bit-identical problems from bit-identical weights and their loss traces
//! can be compared, not only their timings. A development crate (not published): the benches,
//! tests and `cargo xtask bench` depend on it; the library does not.
//!
//! The specification is `xtask/pytorch/SPEC.md`; this crate implements it, and its PyTorch
//! twin is `xtask/pytorch/compare.py` (`stream`,
//! `top24`, `reference_data`, `uniform_parameter`, `reference_init`, `mlp`, `lenet`). In short:
//! every number comes from the counter-based SplitMix64 stream ([`splitmix64`]), output `i` of
//! stream `seed`; inputs are its top 24 bits over `2^24` ([`inputs`]); labels are the arg-max of
//! an integer teacher product ([`labels`]); parameter `p` is uniform in `±1/√fan_in` from seed
//! [`SEED_PARAMS`]` + p` ([`uniform_init`], [`initialise`]).

use std::collections::HashMap;
use strata_autograd::Var;
use strata_modules::{
    Conv2d, Dense, Flatten, MaxPool2d, Params, Relu, Sequential, TransformerConfig,
    TransformerEncoderLayer,
};
use strata_tensor::{splitmix64, Rng, Tensor};

/// Seed of the input stream.
pub const SEED_INPUTS: u64 = 0x1001;
/// Seed of the teacher matrix that defines the labels.
pub const SEED_TEACHER: u64 = 0x1002;
/// Parameter `p` (in declaration order) is initialised from seed `SEED_PARAMS + p`.
pub const SEED_PARAMS: u64 = 0x2000;

/// Top 24 bits of output `i` of the stream `seed`: an integer in `[0, 2^24)`.
fn uniform24(seed: u64, i: usize) -> u64 {
    splitmix64(seed, i as u64) >> 40
}

/// Inputs `[rows, dims]`: `x[i, j] = k / 2^24`, `k = uniform24(SEED_INPUTS, i·dims + j)`
/// (exact in f32).
pub fn inputs(rows: usize, dims: usize) -> Tensor {
    let data = (0..rows * dims)
        .map(|i| uniform24(SEED_INPUTS, i) as f32 / (1u32 << 24) as f32)
        .collect();
    Tensor::from_vec(data, &[rows, dims])
}

/// Labels `[rows]`: the arg-max over classes of `Σ_j (2k[i, j] − 2^24)·t[j, c]` with teacher
/// `t[j, c] = (splitmix64(SEED_TEACHER, j·classes + c) >> 57) − 64`, in exact integer
/// arithmetic; ties go to the lowest class.
pub fn labels(rows: usize, dims: usize, classes: usize) -> Tensor {
    let teacher: Vec<i64> = (0..dims * classes)
        .map(|i| (splitmix64(SEED_TEACHER, i as u64) >> 57) as i64 - 64)
        .collect();
    let labels = (0..rows)
        .map(|i| {
            let mut scores = vec![0i64; classes];
            for j in 0..dims {
                let centred = 2 * uniform24(SEED_INPUTS, i * dims + j) as i64 - (1 << 24);
                for (c, score) in scores.iter_mut().enumerate() {
                    *score += centred * teacher[j * classes + c];
                }
            }
            let best =
                (0..classes).fold(0, |best, c| if scores[c] > scores[best] { c } else { best });
            best as f32
        })
        .collect();
    Tensor::from_vec(labels, &[rows])
}

/// `f32((2u − 1)·bound)` with `u = uniform24(seed, e) / 2^24` and `bound = 1/√fan_in`, computed
/// in f64: PyTorch's default Linear/Conv initialisation, made portable.
pub fn uniform_init(seed: u64, shape: &[usize], fan_in: usize) -> Tensor {
    let bound = 1.0 / (fan_in as f64).sqrt();
    let n: usize = shape.iter().product();
    let data = (0..n)
        .map(|e| {
            let u = uniform24(seed, e) as f64 / (1u64 << 24) as f64;
            ((2.0 * u - 1.0) * bound) as f32
        })
        .collect();
    Tensor::from_vec(data, shape)
}

/// Re-initialises every parameter of a recurrent model as PyTorch's RNN/LSTM/GRU do, made
/// portable: parameter `p` (declaration order, PyTorch's `named_parameters()` order) from
/// seed `SEED_PARAMS + p`, all with the bound `1/√hidden`.
pub fn initialise_recurrent(model: &mut dyn Params, hidden: usize) {
    let mut index = 0u64;
    model.visit_mut("", &mut |_: &str, param: &mut Var| {
        param.set_value(uniform_init(SEED_PARAMS + index, param.shape(), hidden));
        index += 1;
    });
}

/// Re-initialises every parameter of a model of Dense/Conv layers as the harness does:
/// parameter `p` (declaration order, which is PyTorch's `named_parameters()` order) from seed
/// `SEED_PARAMS + p`, with the fan-in of its layer's weight (`Π shape[1..]`).
pub fn initialise(model: &mut dyn Params) {
    let named = model.named_parameters();
    let layer = |name: &str| {
        name.rsplit_once('.')
            .map_or(String::new(), |(layer, _)| layer.to_string())
    };
    let fan_in: HashMap<String, usize> = named
        .iter()
        .filter(|(name, _)| name.ends_with("weight"))
        .map(|(name, w)| (layer(name), w.shape()[1..].iter().product()))
        .collect();
    let mut index = 0u64;
    model.visit_mut("", &mut |name: &str, param: &mut Var| {
        let fan = fan_in
            .get(&layer(name))
            .copied()
            .unwrap_or(param.shape()[0]);
        param.set_value(uniform_init(SEED_PARAMS + index, param.shape(), fan));
        index += 1;
    });
}

/// The harness's MLP: dense layers of the given widths with ReLU between them (so the
/// layers sit at PyTorch's `nn.Sequential` indices 0, 2, 4, …), initialised as the harness
/// does ([`initialise`]).
pub fn mlp(widths: &[usize]) -> Sequential {
    let mut model = Sequential::mlp(widths, Relu, &mut Rng::new(0));
    initialise(&mut model);
    model
}

/// The harness's LeNet-5 (`lenet` in `xtask/pytorch/compare.py`): conv 1→6 5×5 → ReLU → max-pool 2 → conv 6→16 5×5
/// → ReLU → max-pool 2 → flatten (256) → dense 120 → ReLU → dense 84 → ReLU → dense 10, at
/// PyTorch's `nn.Sequential` indices and initialised as the harness does ([`initialise`]).
pub fn lenet5() -> Sequential {
    let mut rng = Rng::new(0);
    let mut model = Sequential::new()
        .push(Conv2d::new(1, 6, 5, &mut rng))
        .push(Relu)
        .push(MaxPool2d::new(2))
        .push(Conv2d::new(6, 16, 5, &mut rng))
        .push(Relu)
        .push(MaxPool2d::new(2))
        .push(Flatten)
        .push(Dense::new(256, 120, &mut rng))
        .push(Relu)
        .push(Dense::new(120, 84, &mut rng))
        .push(Relu)
        .push(Dense::new(84, 10, &mut rng));
    initialise(&mut model);
    model
}

/// The benchmark's transformer encoder layer (`xtask/pytorch/compare.py`): width 128, 4
/// heads, feed-forward 512, ReLU, post-norm, no dropout — PyTorch's
/// `nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True)` — initialised as
/// the harness does ([`initialise`]).
pub fn transformer_encoder_layer() -> TransformerEncoderLayer {
    let config = TransformerConfig::new(128, 4)
        .dim_feedforward(512)
        .dropout(0.0);
    let mut layer = TransformerEncoderLayer::new(config, &mut Rng::new(0));
    initialise(&mut layer);
    layer
}
