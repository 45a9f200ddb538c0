//! Every differentiable op against central finite differences.
//!
//! Tolerance: gradcheck reports `max |analytic − numeric| / max(‖analytic‖∞, ‖numeric‖∞, 1e-3)`.
//! With f32 values and eps = 1e-3, rounding alone gives errors of order 1e-4; a wrong
//! gradient gives errors of order 1. `TOL = 1e-2` separates the two. Inputs are drawn away
//! from the kinks of relu/abs/max/clamp (see `away_from`), where the derivative jumps.

#![allow(clippy::cloned_ref_to_slice_refs)] // `&[x.clone()]` reads best in a list of checks

use strata_autograd::{gradcheck, Var};
use strata_tensor::{Conv2dSpec, Pool2dSpec, Rng, Tensor};

const TOL: f64 = 1e-2;

fn normal(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_normal(shape, 0.0, 1.0, &mut Rng::new(seed))
}

fn positive(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(shape, 0.5, 2.0, &mut Rng::new(seed))
}

/// Values at least 0.05 away from each point in `kinks` (moved outward where needed).
fn away_from(t: &Tensor, kinks: &[f32]) -> Tensor {
    t.map(|x| {
        kinks.iter().fold(x, |x, &k| {
            if (x - k).abs() < 0.05 {
                if x >= k {
                    k + 0.05
                } else {
                    k - 0.05
                }
            } else {
                x
            }
        })
    })
}

/// Distinct values (no ties), so max and max-pool have a unique winner.
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    Tensor::from_vec(
        order
            .iter()
            .map(|&i| i as f32 * 0.1 - n as f32 * 0.05)
            .collect(),
        shape,
    )
}

fn check(f: impl Fn(&[Var]) -> Var, inputs: &[Tensor]) {
    gradcheck(f, inputs).unwrap().assert_within(TOL);
}

#[test]
fn add_sub_mul_div_with_broadcasting() {
    let a = normal(&[3, 4], 1);
    let row = normal(&[4], 2);
    let col = normal(&[3, 1], 3);
    let scalar = normal(&[], 4);
    check(|v| v[0].add(&v[1]), &[a.clone(), row.clone()]);
    check(|v| v[0].sub(&v[1]), &[a.clone(), col.clone()]);
    check(|v| v[0].mul(&v[1]), &[a.clone(), scalar.clone()]);
    check(|v| v[0].mul(&v[1]), &[col.clone(), row.clone()]);
    check(|v| v[0].div(&v[1]), &[a.clone(), positive(&[4], 5)]);
    check(
        |v| v[1].div(&v[0]),
        &[positive(&[2, 3, 1], 6), normal(&[3, 4], 7)],
    );
    check(
        |v| v[0].neg().add_scalar(2.0).mul_scalar(-3.0),
        &[a.clone()],
    );
    check(|v| &(&v[0] - 1.0) / 4.0 * 2.0, &[a]);
}

#[test]
fn unary_functions() {
    let x = normal(&[2, 5], 10);
    check(|v| v[0].exp(), &[x.clone()]);
    check(|v| v[0].log(), &[positive(&[2, 5], 11)]);
    check(|v| v[0].sqrt(), &[positive(&[2, 5], 12)]);
    check(|v| v[0].powf(2.5), &[positive(&[2, 5], 13)]);
    check(|v| v[0].square(), &[x.clone()]);
    check(|v| v[0].abs(), &[away_from(&x, &[0.0])]);
    check(|v| v[0].clamp(-0.5, 0.7), &[away_from(&x, &[-0.5, 0.7])]);
    check(|v| v[0].sigmoid(), &[x.clone()]);
    check(|v| v[0].tanh(), &[x.clone()]);
    check(|v| v[0].relu(), &[away_from(&x, &[0.0])]);
    check(|v| v[0].leaky_relu(0.1), &[away_from(&x, &[0.0])]);
    check(|v| v[0].gelu(), &[x.clone()]);
    check(|v| v[0].softplus(), &[x.mul_scalar(3.0)]);
    check(|v| v[0].gelu_tanh(), &[x.clone()]);
    check(|v| v[0].silu(), &[x.mul_scalar(3.0)]);
    check(|v| v[0].mish(), &[x.mul_scalar(3.0)]);
}

#[test]
fn pow_of_two_tensors_broadcasting() {
    // Positive bases (ln x is defined), exponents of both signs, broadcast along rows.
    check(
        |v| v[0].pow(&v[1]),
        &[positive(&[3, 4], 30), normal(&[4], 31)],
    );
}

#[test]
fn maximum_minimum_and_select() {
    let a = normal(&[3, 4], 20);
    // Keep the two operands apart so no element sits at a tie.
    let b = a.add(&away_from(&normal(&[4], 21), &[0.0]));
    check(|v| v[0].maximum(&v[1]), &[a.clone(), b.slice_row()]);
    check(|v| v[0].minimum(&v[1]), &[a.clone(), b.slice_row()]);
    let mask = normal(&[3, 1], 22).gt(&Tensor::scalar(0.0));
    check(|v| Var::select(&mask, &v[0], &v[1]), &[a, normal(&[4], 23)]);
}

trait FirstRow {
    fn slice_row(&self) -> Tensor;
}

impl FirstRow for Tensor {
    /// The first row as a `[cols]` tensor (a broadcasting operand).
    fn slice_row(&self) -> Tensor {
        self.narrow(0, 0, 1).squeeze(0).contiguous()
    }
}

#[test]
fn matmul_2d_batched_and_vectors() {
    check(
        |v| v[0].matmul(&v[1]),
        &[normal(&[3, 4], 30), normal(&[4, 5], 31)],
    );
    check(
        |v| v[0].matmul(&v[1].t()),
        &[normal(&[3, 4], 32), normal(&[5, 4], 33)],
    );
    // Batched, with the right operand broadcast over the batch.
    check(
        |v| v[0].matmul(&v[1]),
        &[normal(&[2, 3, 4], 34), normal(&[4, 2], 35)],
    );
    check(
        |v| v[0].matmul(&v[1]),
        &[normal(&[2, 1, 3, 4], 36), normal(&[3, 4, 2], 37)],
    );
    check(
        |v| v[0].matmul(&v[1]),
        &[normal(&[4], 38), normal(&[4, 3], 39)],
    );
    check(
        |v| v[0].matmul(&v[1]),
        &[normal(&[2, 4], 40), normal(&[4], 41)],
    );
}

#[test]
fn linear_on_2d_and_3d_batches() {
    let w = normal(&[3, 4], 50);
    let b = normal(&[3], 51);
    check(
        |v| v[0].linear(&v[1], Some(&v[2])),
        &[normal(&[5, 4], 52), w.clone(), b.clone()],
    );
    check(
        |v| v[0].linear(&v[1], Some(&v[2])),
        &[normal(&[2, 5, 4], 53), w.clone(), b],
    );
    check(|v| v[0].linear(&v[1], None), &[normal(&[5, 4], 54), w]);
}

#[test]
fn reductions_over_axes() {
    let x = normal(&[2, 3, 4], 60);
    check(|v| v[0].sum_axes(&[1], false), &[x.clone()]);
    check(|v| v[0].sum_axes(&[0, 2], true), &[x.clone()]);
    check(|v| v[0].mean_axes(&[-1], false), &[x.clone()]);
    check(|v| v[0].mean_axes(&[0, 1], true), &[x.clone()]);
    check(|v| v[0].sum(), &[x.clone()]);
    check(|v| v[0].mean(), &[x]);
    let d = distinct(&[2, 3, 4], 61);
    check(|v| v[0].max_axes(&[2], false), &[d.clone()]);
    check(|v| v[0].max_axes(&[0, 2], true), &[d]);
}

#[test]
fn shape_ops() {
    let x = normal(&[2, 3, 4], 70);
    check(|v| v[0].reshape(&[4, -1]), &[x.clone()]);
    check(
        |v| v[0].permute(&[2, 0, 1]).mul(&v[0].permute(&[2, 0, 1])),
        &[x.clone()],
    );
    check(|v| v[0].transpose(0, 2).exp(), &[x.clone()]);
    check(|v| v[0].unsqueeze(1).squeeze(1).sin_like(), &[x.clone()]);
    check(|v| v[0].broadcast_to(&[5, 3, 4]), &[normal(&[3, 1], 71)]);
    check(|v| v[0].narrow(1, 1, 2), &[x.clone()]);
    check(|v| v[0].flatten(1, 2), &[x]);
}

trait SinLike {
    fn sin_like(&self) -> Var;
}

impl SinLike for Var {
    /// A non-linear map so the test sees more than an identity gradient.
    fn sin_like(&self) -> Var {
        self.tanh().mul_scalar(2.0)
    }
}

#[test]
fn joining_and_indexing() {
    let a = normal(&[2, 3], 80);
    let b = normal(&[2, 2], 81);
    check(|v| Var::concat(&[&v[0], &v[1]], 1).tanh(), &[a.clone(), b]);
    check(
        |v| Var::stack(&[&v[0], &v[1]], 0).tanh(),
        &[a.clone(), normal(&[2, 3], 82)],
    );
    let table = normal(&[5, 3], 83);
    check(|v| v[0].index_select(0, &[4, 1, 1, 0]).tanh(), &[table]);
    let index = Tensor::from_vec(vec![2.0, 0.0], &[2, 1]);
    check(|v| v[0].gather(1, &index), &[a]);
}

#[test]
fn softmax_and_log_softmax() {
    let x = normal(&[3, 5], 90).mul_scalar(3.0);
    check(|v| v[0].softmax(1), &[x.clone()]);
    check(|v| v[0].softmax(0), &[x.clone()]);
    check(|v| v[0].log_softmax(-1), &[x.clone()]);
    check(|v| v[0].log_softmax(0), &[normal(&[4, 2, 3], 91)]);
}

#[test]
fn conv2d_with_stride_padding_and_bias() {
    for (stride, padding, seed) in [(1, 0, 100), (2, 1, 101), (1, 1, 102)] {
        let x = normal(&[2, 3, 6, 5], seed);
        let w = normal(&[4, 3, 3, 3], seed + 10);
        let b = normal(&[4], seed + 20);
        let spec = Conv2dSpec::new(stride, padding);
        check(|v| v[0].conv2d(&v[1], Some(&v[2]), spec), &[x, w, b]);
    }
    let grouped = Conv2dSpec::new(1, 1).with_groups(2);
    check(
        |v| v[0].conv2d(&v[1], None, grouped),
        &[normal(&[1, 4, 5, 5], 130), normal(&[2, 2, 3, 3], 131)],
    );
}

#[test]
fn dilated_conv2d_with_stride_padding_groups_and_bias() {
    let dilated = Conv2dSpec::new(2, 2).with_dilation(2).with_groups(2);
    let (x, w, b) = (
        normal(&[2, 4, 7, 6], 160),
        normal(&[6, 2, 3, 3], 161),
        normal(&[6], 162),
    );
    check(|v| v[0].conv2d(&v[1], Some(&v[2]), dilated), &[x, w, b]);
    let per_axis = Conv2dSpec {
        dilation: [3, 1],
        ..Conv2dSpec::new(1, 1)
    };
    check(
        |v| v[0].conv2d(&v[1], None, per_axis),
        &[normal(&[1, 2, 8, 5], 163), normal(&[3, 2, 2, 3], 164)],
    );
}

#[test]
fn conv_transpose2d_with_stride_padding_output_padding_groups_and_bias() {
    for (stride, padding, output_padding, seed) in [(1, 0, 0, 140), (2, 1, 1, 141), (3, 1, 2, 142)]
    {
        let x = normal(&[2, 4, 3, 4], seed);
        let w = normal(&[4, 3, 3, 3], seed + 10);
        let b = normal(&[3], seed + 20);
        let spec = Conv2dSpec::new(stride, padding);
        let extra = [output_padding; 2];
        check(
            |v| v[0].conv_transpose2d(&v[1], Some(&v[2]), spec, extra),
            &[x, w, b],
        );
    }
    let grouped = Conv2dSpec::new(2, 0).with_groups(2);
    check(
        |v| v[0].conv_transpose2d(&v[1], None, grouped, [0, 0]),
        &[normal(&[1, 4, 3, 3], 150), normal(&[4, 1, 2, 2], 151)],
    );
    let dilated = Conv2dSpec::new(2, 1).with_dilation(2).with_groups(2);
    check(
        |v| v[0].conv_transpose2d(&v[1], Some(&v[2]), dilated, [1, 1]),
        &[
            normal(&[2, 4, 3, 4], 152),
            normal(&[4, 3, 3, 3], 153),
            normal(&[6], 154),
        ],
    );
}

#[test]
fn pooling() {
    let x = distinct(&[2, 2, 6, 6], 140);
    check(|v| v[0].max_pool2d(Pool2dSpec::new(2, 2, 0)), &[x.clone()]);
    check(|v| v[0].max_pool2d(Pool2dSpec::new(3, 2, 1)), &[x.clone()]);
    check(|v| v[0].avg_pool2d(Pool2dSpec::new(2, 2, 0)), &[x.clone()]);
    check(|v| v[0].avg_pool2d(Pool2dSpec::new(3, 1, 1)), &[x.clone()]);
    // 7×7 with windows 3, stride 2, padding 1 rounded up, and windows 2 stride 2 rounded
    // up: windows that hang over the far edge.
    let odd = distinct(&[1, 2, 7, 7], 141);
    for spec in [Pool2dSpec::new(3, 2, 1), Pool2dSpec::new(2, 2, 0)] {
        let ceil = spec.with_ceil_mode(true);
        check(|v| v[0].max_pool2d(ceil), &[odd.clone()]);
        check(|v| v[0].avg_pool2d(ceil), &[odd.clone()]);
        let inside = ceil.with_count_include_pad(false);
        check(|v| v[0].avg_pool2d(inside), &[odd.clone()]);
    }
    let inside = Pool2dSpec::new(3, 1, 1).with_count_include_pad(false);
    check(|v| v[0].avg_pool2d(inside), &[x]);
}

#[test]
fn dropout_keeps_its_mask_for_backward() {
    // The same seed inside f gives the same mask in every evaluation.
    check(
        |v| v[0].dropout(0.3, &mut Rng::new(5)).tanh(),
        &[normal(&[4, 6], 150)],
    );
}

#[test]
fn a_value_used_twice_gets_summed_gradients() {
    // f(x) = x·x + 3x: the two uses of x must add up.
    check(
        |v| v[0].mul(&v[0]).add(&v[0].mul_scalar(3.0)),
        &[normal(&[5], 160)],
    );
}

#[test]
fn a_two_layer_network_end_to_end() {
    let x = normal(&[6, 4], 170);
    let target = Tensor::from_vec(vec![0.0, 2.0, 1.0, 1.0, 0.0, 2.0], &[6, 1]);
    check(
        |v| {
            let h = v[0].linear(&v[1], Some(&v[2])).tanh();
            h.linear(&v[3], Some(&v[4]))
                .log_softmax(1)
                .gather(1, &target)
                .mean()
                .neg()
        },
        &[
            x,
            normal(&[5, 4], 171),
            normal(&[5], 172),
            normal(&[3, 5], 173),
            normal(&[3], 174),
        ],
    );
}
