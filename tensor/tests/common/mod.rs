//! Helpers shared by the integration tests: seeded random tensors, tolerant comparisons and
//! direct (naive) reference implementations written independently of the crate's kernels.
// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use strata_tensor::{Conv2dSpec, Pool2dSpec, Rng, Tensor};

/// A uniform tensor in [-1, 1) from the crate's seeded generator.
pub fn random(shape: &[usize], rng: &mut Rng) -> Tensor {
    Tensor::rand_uniform(shape, -1.0, 1.0, rng)
}

/// Asserts `|a - b| <= tol * max(1, |b|)` element-wise, with the position in the message.
#[track_caller]
pub fn assert_close(actual: &[f32], expected: &[f32], tol: f32) {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let bound = tol * e.abs().max(1.0);
        assert!(
            (a - e).abs() <= bound || (a.is_nan() && e.is_nan()),
            "element {i}: {a} vs expected {e} (tolerance {bound})"
        );
    }
}

/// Asserts a tensor's shape and values.
#[track_caller]
pub fn assert_tensor(t: &Tensor, shape: &[usize], expected: &[f32]) {
    assert_eq!(t.shape(), shape, "shape");
    assert_close(&t.to_vec(), expected, 1e-6);
}

/// Row-major multi-indices of a shape, in order.
pub fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let total: usize = shape.iter().product();
    (0..total)
        .map(|mut flat| {
            let mut index = vec![0; shape.len()];
            for d in (0..shape.len()).rev() {
                index[d] = flat % shape[d];
                flat /= shape[d];
            }
            index
        })
        .collect()
}

/// Reads `t` at a multi-index of the broadcast shape `shape` (NumPy rule), through `Tensor::get`.
pub fn get_broadcast(t: &Tensor, index: &[usize]) -> f32 {
    let lead = index.len() - t.ndim();
    let own: Vec<usize> = (0..t.ndim())
        .map(|d| {
            if t.shape()[d] == 1 {
                0
            } else {
                index[lead + d]
            }
        })
        .collect();
    t.get(&own)
}

/// `[m, k] · [k, n]` by the textbook triple loop in f64, from values read with `get`, so
/// views are read through their own strides. Returns the product and, per element,
/// `Σ |a||b|` (the scale of its rounding error).
pub fn naive_matmul(a: &Tensor, b: &Tensor) -> (Vec<f32>, Vec<f32>) {
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    assert_eq!(b.shape()[0], k);
    let mut out = vec![0.0; m * n];
    let mut scale = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let (mut sum, mut abs) = (0.0f64, 0.0f64);
            for p in 0..k {
                let (x, y) = (a.get(&[i, p]) as f64, b.get(&[p, j]) as f64);
                sum += x * y;
                abs += (x * y).abs();
            }
            out[i * n + j] = sum as f32;
            scale[i * n + j] = abs as f32;
        }
    }
    (out, scale)
}

/// Asserts a product against a naive one, each element within f32 rounding of its scale.
#[track_caller]
pub fn assert_product(actual: &[f32], expected: &[f32], scale: &[f32]) {
    assert_eq!(actual.len(), expected.len());
    for i in 0..actual.len() {
        let bound = 1e-5 * scale[i] + 1e-6;
        assert!(
            (actual[i] - expected[i]).abs() <= bound,
            "element {i}: {} vs naive {} (bound {bound})",
            actual[i],
            expected[i]
        );
    }
}

/// Sum of element-wise products, in f64.
pub fn dot(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.to_vec()
        .iter()
        .zip(b.to_vec())
        .map(|(&x, y)| x as f64 * y as f64)
        .sum()
}

/// Sizes of one convolution as read by the naive loops.
struct ConvDims {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    cg: usize,
    og: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
}

fn conv_dims(input: &[usize], weight: &[usize], spec: Conv2dSpec) -> ConvDims {
    // PyTorch's rule: (size + 2·padding − dilation·(k − 1) − 1)/stride + 1.
    let out = |size: usize, k: usize, a: usize| {
        (size + 2 * spec.padding[a] - spec.dilation[a] * (k - 1) - 1) / spec.stride[a] + 1
    };
    ConvDims {
        n: input[0],
        c: input[1],
        h: input[2],
        w: input[3],
        o: weight[0],
        cg: weight[1],
        og: weight[0] / spec.groups,
        kh: weight[2],
        kw: weight[3],
        oh: out(input[2], weight[2], 0),
        ow: out(input[3], weight[3], 1),
    }
}

/// Calls `f(out, input, weight)` with the three multi-indices of every product term of a
/// convolution: output `[n, o, oh, ow]` reads input `[n, ci, i, j]` times weight `[o, kc, ki, kj]`.
fn for_each_term(
    d: &ConvDims,
    spec: Conv2dSpec,
    mut f: impl FnMut([usize; 4], [usize; 4], [usize; 4]),
) {
    for n in 0..d.n {
        for o in 0..d.o {
            let group = o / d.og;
            for y in 0..d.oh {
                for x in 0..d.ow {
                    for kc in 0..d.cg {
                        for ki in 0..d.kh {
                            for kj in 0..d.kw {
                                let i = (y * spec.stride[0] + ki * spec.dilation[0]) as isize
                                    - spec.padding[0] as isize;
                                let j = (x * spec.stride[1] + kj * spec.dilation[1]) as isize
                                    - spec.padding[1] as isize;
                                if i < 0 || j < 0 || i >= d.h as isize || j >= d.w as isize {
                                    continue;
                                }
                                let ci = group * d.cg + kc;
                                f(
                                    [n, o, y, x],
                                    [n, ci, i as usize, j as usize],
                                    [o, kc, ki, kj],
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

fn flat(shape: &[usize], index: [usize; 4]) -> usize {
    ((index[0] * shape[1] + index[1]) * shape[2] + index[2]) * shape[3] + index[3]
}

/// Direct convolution (cross-correlation) with zero padding, dilation and groups, in f64.
pub fn naive_conv2d(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, spec: Conv2dSpec) -> Tensor {
    let d = conv_dims(x.shape(), w.shape(), spec);
    let out_shape = [d.n, d.o, d.oh, d.ow];
    let (xv, wv) = (x.to_vec(), w.to_vec());
    let mut out = vec![0.0f64; out_shape.iter().product()];
    for_each_term(&d, spec, |at, xi, wi| {
        out[flat(&out_shape, at)] +=
            xv[flat(x.shape(), xi)] as f64 * wv[flat(w.shape(), wi)] as f64;
    });
    if let Some(b) = bias {
        for (i, v) in out.iter_mut().enumerate() {
            *v += b.get(&[i / (d.oh * d.ow) % d.o]) as f64;
        }
    }
    Tensor::from_vec(out.iter().map(|&v| v as f32).collect(), &out_shape)
}

/// Input gradient of a convolution by scattering each output gradient through the weights.
pub fn naive_conv2d_backward_input(
    g: &Tensor,
    w: &Tensor,
    input_shape: &[usize],
    spec: Conv2dSpec,
) -> Tensor {
    let d = conv_dims(input_shape, w.shape(), spec);
    let (gv, wv) = (g.to_vec(), w.to_vec());
    let mut out = vec![0.0f64; input_shape.iter().product()];
    for_each_term(&d, spec, |at, xi, wi| {
        out[flat(input_shape, xi)] +=
            gv[flat(g.shape(), at)] as f64 * wv[flat(w.shape(), wi)] as f64;
    });
    Tensor::from_vec(out.iter().map(|&v| v as f32).collect(), input_shape)
}

/// Weight gradient of a convolution: each output gradient times the input it read.
pub fn naive_conv2d_backward_weight(
    g: &Tensor,
    x: &Tensor,
    weight_shape: &[usize],
    spec: Conv2dSpec,
) -> Tensor {
    let d = conv_dims(x.shape(), weight_shape, spec);
    let (gv, xv) = (g.to_vec(), x.to_vec());
    let mut out = vec![0.0f64; weight_shape.iter().product()];
    for_each_term(&d, spec, |at, xi, wi| {
        out[flat(weight_shape, wi)] +=
            gv[flat(g.shape(), at)] as f64 * xv[flat(x.shape(), xi)] as f64;
    });
    Tensor::from_vec(out.iter().map(|&v| v as f32).collect(), weight_shape)
}

/// The positions `(i, j)` of pooling window `(y, x)`, in input coordinates (negative or
/// past the edge in the padding), that lie inside the input or, with `padded`, inside the
/// padded input.
fn pool_cells(
    y: usize,
    x: usize,
    shape: &[usize],
    spec: Pool2dSpec,
    padded: bool,
) -> Vec<[isize; 2]> {
    let inside = |v: isize, a: usize| {
        let margin = if padded { spec.padding[a] as isize } else { 0 };
        v >= -margin && v < (shape[2 + a] as isize) + margin
    };
    let mut cells = Vec::new();
    for ki in 0..spec.kernel[0] {
        for kj in 0..spec.kernel[1] {
            let i = (y * spec.stride[0] + ki) as isize - spec.padding[0] as isize;
            let j = (x * spec.stride[1] + kj) as isize - spec.padding[1] as isize;
            if inside(i, 0) && inside(j, 1) {
                cells.push([i, j]);
            }
        }
    }
    cells
}

/// The input positions `(i, j)` of pooling window `(y, x)` that lie inside the image.
fn pool_window(y: usize, x: usize, shape: &[usize], spec: Pool2dSpec) -> Vec<(usize, usize)> {
    pool_cells(y, x, shape, spec, false)
        .into_iter()
        .map(|[i, j]| (i as usize, j as usize))
        .collect()
}

/// Average pooling's divisor for window `(y, x)`, PyTorch's: the positions it covers inside
/// the padded input with `count_include_pad`, else inside the input.
fn pool_divisor(y: usize, x: usize, shape: &[usize], spec: Pool2dSpec) -> f64 {
    pool_cells(y, x, shape, spec, spec.count_include_pad).len() as f64
}

/// The output shape of a pooling, by PyTorch's formula in signed arithmetic.
fn pool_out(shape: &[usize], spec: Pool2dSpec) -> [usize; 4] {
    let out = |a: usize| {
        let (size, k, s, p) = (
            shape[2 + a] as isize,
            spec.kernel[a] as isize,
            spec.stride[a] as isize,
            spec.padding[a] as isize,
        );
        let round_up = if spec.ceil_mode { s - 1 } else { 0 };
        let mut out = (size + 2 * p - k + round_up).div_euclid(s) + 1;
        if spec.ceil_mode && (out - 1) * s >= size + p {
            out -= 1;
        }
        assert!(out > 0, "no window fits {shape:?} with {spec:?}");
        out as usize
    };
    [shape[0], shape[1], out(0), out(1)]
}

/// Max pooling by scanning each window (padding never wins); returns the values and the
/// winning position `i·W + j` (the first maximum in scan order).
pub fn naive_max_pool2d(x: &Tensor, spec: Pool2dSpec) -> (Vec<f32>, Vec<usize>) {
    let s = x.shape();
    let out = pool_out(s, spec);
    let (mut values, mut positions) = (Vec::new(), Vec::new());
    for n in 0..out[0] {
        for c in 0..out[1] {
            for y in 0..out[2] {
                for xo in 0..out[3] {
                    let mut best: Option<(f32, usize)> = None;
                    for (i, j) in pool_window(y, xo, s, spec) {
                        let v = x.get(&[n, c, i, j]);
                        if best.is_none_or(|(b, _)| v > b) {
                            best = Some((v, i * s[3] + j));
                        }
                    }
                    let (v, at) = best.expect("window inside the image");
                    values.push(v);
                    positions.push(at);
                }
            }
        }
    }
    (values, positions)
}

/// Average pooling, the window's sum over PyTorch's divisor; and its backward pass, which
/// spreads each output gradient over the window.
pub fn naive_avg_pool2d(x: &Tensor, spec: Pool2dSpec) -> Vec<f32> {
    let s = x.shape();
    let out = pool_out(s, spec);
    let mut values = Vec::new();
    for n in 0..out[0] {
        for c in 0..out[1] {
            for y in 0..out[2] {
                for xo in 0..out[3] {
                    let sum: f64 = pool_window(y, xo, s, spec)
                        .into_iter()
                        .map(|(i, j)| x.get(&[n, c, i, j]) as f64)
                        .sum();
                    values.push((sum / pool_divisor(y, xo, s, spec)) as f32);
                }
            }
        }
    }
    values
}

/// Backward of average pooling by scattering.
pub fn naive_avg_pool2d_backward(g: &Tensor, input_shape: &[usize], spec: Pool2dSpec) -> Vec<f32> {
    let out = g.shape();
    let mut grad = vec![0.0f64; input_shape.iter().product()];
    for n in 0..out[0] {
        for c in 0..out[1] {
            for y in 0..out[2] {
                for xo in 0..out[3] {
                    let d = g.get(&[n, c, y, xo]) as f64 / pool_divisor(y, xo, input_shape, spec);
                    for (i, j) in pool_window(y, xo, input_shape, spec) {
                        grad[flat(input_shape, [n, c, i, j])] += d;
                    }
                }
            }
        }
    }
    grad.iter().map(|&v| v as f32).collect()
}
