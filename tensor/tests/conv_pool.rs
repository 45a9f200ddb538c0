//! Convolution and pooling kernels against direct (naive) loops, the two convolution
//! backward kernels against scatter loops, adjoint identities and finite differences.

mod common;

use common::{
    assert_close, assert_tensor, dot, naive_avg_pool2d, naive_avg_pool2d_backward, naive_conv2d,
    naive_conv2d_backward_input, naive_conv2d_backward_weight, naive_max_pool2d, random,
};
use strata_tensor::{Conv2dSpec, Pool2dSpec, Rng, Tensor, PAR_MIN_ELEMENTS};

#[test]
fn conv2d_by_hand() {
    // 3x3 image 0..9, 2x2 ones kernel: sums of each 2x2 window.
    let image = Tensor::arange(0.0, 9.0, 1.0).reshape(&[1, 1, 3, 3]);
    let ones = Tensor::ones(&[1, 1, 2, 2]);
    assert_tensor(
        &image.conv2d(&ones, None, Conv2dSpec::new(1, 0)),
        &[1, 1, 2, 2],
        &[8.0, 12.0, 20.0, 24.0],
    );
    // Padding 1, stride 2: windows at (-1,-1), (-1,1), (1,-1), (1,1).
    assert_tensor(
        &image.conv2d(&ones, None, Conv2dSpec::new(2, 1)),
        &[1, 1, 2, 2],
        &[0.0, 3.0, 9.0, 24.0],
    );
    // A cross-correlation, not a flipped convolution; and a bias per output channel.
    let kernel = Tensor::from_vec(vec![1.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0, 0.0], &[2, 1, 2, 2]);
    let bias = Tensor::from_vec(vec![10.0, 100.0], &[2]);
    let out = image.conv2d(&kernel, Some(&bias), Conv2dSpec::new(1, 0));
    // Channel 0: x[i, j] - x[i+1, j+1] = -4; channel 1: x[i, j+1].
    assert_tensor(
        &out,
        &[1, 2, 2, 2],
        &[6.0, 6.0, 6.0, 6.0, 101.0, 102.0, 104.0, 105.0],
    );
    // Dilation 2 on a 5×5 image: the ones kernel reads x[i, j] + x[i, j+2] + x[i+2, j] +
    // x[i+2, j+2] = 20i + 4j + 24.
    let image5 = Tensor::arange(0.0, 25.0, 1.0).reshape(&[1, 1, 5, 5]);
    let dilated = image5.conv2d(&ones, None, Conv2dSpec::new(1, 0).with_dilation(2));
    let expected: Vec<f32> = (0..9)
        .map(|k| (20 * (k / 3) + 4 * (k % 3) + 24) as f32)
        .collect();
    assert_tensor(&dilated, &[1, 1, 3, 3], &expected);
    // Two input channels are summed.
    let two = Tensor::concat(&[&image, &image.mul_scalar(10.0)], 1);
    let sum_channels = two.conv2d(&Tensor::ones(&[1, 2, 1, 1]), None, Conv2dSpec::new(1, 0));
    assert_tensor(
        &sum_channels,
        &[1, 1, 3, 3],
        &image.mul_scalar(11.0).to_vec(),
    );
}

/// Every combination the issue asks for: stride 1 and 2, padding 0 and 1, groups 1 and 2,
/// with non-square kernels and images and odd sizes.
fn cases() -> Vec<([usize; 4], [usize; 4], Conv2dSpec)> {
    let mut cases = Vec::new();
    for stride in [1, 2] {
        for padding in [0, 1] {
            for groups in [1, 2] {
                let spec = Conv2dSpec::new(stride, padding).with_groups(groups);
                cases.push(([2, 4, 7, 6], [6, 4 / groups, 3, 3], spec));
                cases.push(([3, 2, 5, 8], [4, 2 / groups, 2, 3], spec));
            }
        }
    }
    let mixed = Conv2dSpec {
        stride: [2, 1],
        padding: [0, 2],
        dilation: [1, 1],
        groups: 1,
    };
    cases.push(([1, 3, 6, 5], [2, 3, 3, 2], mixed));
    cases.push(([2, 1, 9, 9], [3, 1, 1, 1], Conv2dSpec::new(3, 0)));
    // Dilation with stride, padding and groups; per axis; depthwise; and a dilated window
    // wider than the image, reaching it only through the padding.
    let dilated = Conv2dSpec::new(2, 2).with_dilation(2).with_groups(2);
    cases.push(([2, 4, 9, 8], [6, 2, 3, 3], dilated));
    let per_axis = Conv2dSpec {
        stride: [1, 2],
        padding: [1, 0],
        dilation: [2, 3],
        groups: 1,
    };
    cases.push(([1, 3, 8, 9], [2, 3, 3, 2], per_axis));
    let depthwise = Conv2dSpec::new(1, 2).with_dilation(2).with_groups(4);
    cases.push(([2, 4, 7, 6], [4, 1, 3, 3], depthwise));
    cases.push((
        [1, 2, 3, 4],
        [2, 2, 2, 2],
        Conv2dSpec::new(1, 3).with_dilation(5),
    ));
    cases
}

#[test]
fn conv2d_forward_matches_direct_loops() {
    let mut rng = Rng::new(71);
    for (input, weight, spec) in cases() {
        let x = random(&input, &mut rng);
        let w = random(&weight, &mut rng);
        let b = random(&[weight[0]], &mut rng);
        let expected = naive_conv2d(&x, &w, Some(&b), spec);
        let got = x.conv2d(&w, Some(&b), spec);
        assert_eq!(
            got.shape(),
            expected.shape(),
            "{input:?} {weight:?} {spec:?}"
        );
        assert_close(&got.to_vec(), &expected.to_vec(), 1e-5);
        // Views are accepted as input.
        let xt = x.transpose(2, 3).contiguous().transpose(2, 3);
        assert_close(
            &xt.conv2d(&w, Some(&b), spec).to_vec(),
            &expected.to_vec(),
            1e-5,
        );
    }
}

#[test]
fn conv2d_backward_kernels_match_direct_loops() {
    let mut rng = Rng::new(72);
    for (input, weight, spec) in cases() {
        let x = random(&input, &mut rng);
        let w = random(&weight, &mut rng);
        let out = x.conv2d(&w, None, spec);
        let g = random(out.shape(), &mut rng);
        let gx = Tensor::conv2d_backward_input(&g, &w, &input, spec);
        let gw = Tensor::conv2d_backward_weight(&g, &x, &weight, spec);
        assert_eq!(gx.shape(), &input);
        assert_eq!(gw.shape(), &weight);
        let ctx = format!("{input:?} {weight:?} {spec:?}");
        let expected_gx = naive_conv2d_backward_input(&g, &w, &input, spec);
        let expected_gw = naive_conv2d_backward_weight(&g, &x, &weight, spec);
        for (got, expected) in [(&gx, &expected_gx), (&gw, &expected_gw)] {
            let (a, e) = (got.to_vec(), expected.to_vec());
            for i in 0..a.len() {
                assert!(
                    (a[i] - e[i]).abs() <= 1e-5 * e[i].abs().max(1.0),
                    "{ctx}: element {i}: {} vs {}",
                    a[i],
                    e[i]
                );
            }
        }
    }
}

#[test]
fn conv2d_backward_kernels_are_adjoints() {
    // With y = conv(x, w): <y, g> = <x, backward_input(g, w)> = <w, backward_weight(g, x)>.
    let mut rng = Rng::new(73);
    for (input, weight, spec) in cases() {
        let x = random(&input, &mut rng);
        let w = random(&weight, &mut rng);
        let y = x.conv2d(&w, None, spec);
        let g = random(y.shape(), &mut rng);
        let lhs = dot(&y, &g);
        let via_input = dot(&x, &Tensor::conv2d_backward_input(&g, &w, &input, spec));
        let via_weight = dot(&w, &Tensor::conv2d_backward_weight(&g, &x, &weight, spec));
        let tol = 1e-4 * lhs.abs().max(1.0);
        assert!(
            (lhs - via_input).abs() < tol,
            "{spec:?}: {lhs} vs {via_input}"
        );
        assert!(
            (lhs - via_weight).abs() < tol,
            "{spec:?}: {lhs} vs {via_weight}"
        );
    }
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    // L(x, w) = <conv(x, w), g>; central differences on every element of a tiny case.
    let mut rng = Rng::new(74);
    for spec in [
        Conv2dSpec::new(2, 1).with_groups(2),
        Conv2dSpec::new(2, 2).with_groups(2).with_dilation(2),
    ] {
        let x = random(&[1, 2, 4, 3], &mut rng);
        let w = random(&[2, 1, 2, 2], &mut rng);
        let g = random(x.conv2d(&w, None, spec).shape(), &mut rng);
        let loss = |x: &Tensor, w: &Tensor| dot(&x.conv2d(w, None, spec), &g);
        let h = 1e-2f32;
        let numeric = |t: &Tensor, f: &dyn Fn(&Tensor) -> f64| -> Vec<f32> {
            (0..t.numel())
                .map(|i| {
                    let mut plus = t.to_vec();
                    let mut minus = t.to_vec();
                    plus[i] += h;
                    minus[i] -= h;
                    let (p, m) = (
                        Tensor::from_vec(plus, t.shape()),
                        Tensor::from_vec(minus, t.shape()),
                    );
                    ((f(&p) - f(&m)) / (2.0 * h as f64)) as f32
                })
                .collect()
        };
        let gx = Tensor::conv2d_backward_input(&g, &w, x.shape(), spec);
        let gw = Tensor::conv2d_backward_weight(&g, &x, w.shape(), spec);
        assert_close(&gx.to_vec(), &numeric(&x, &|x| loss(x, &w)), 1e-3);
        assert_close(&gw.to_vec(), &numeric(&w, &|w| loss(&x, w)), 1e-3);
    }
}

#[test]
fn conv2d_on_a_batch_split_into_slices() {
    // 144 patch rows x 4096 pixels per image: 28 images fill the columns buffer's cap, so a
    // batch of 30 is processed in two slices (and the weight gradient accumulates across them).
    let mut rng = Rng::new(75);
    let spec = Conv2dSpec::new(1, 1);
    let x = random(&[30, 16, 64, 64], &mut rng);
    let w = random(&[2, 16, 3, 3], &mut rng);
    let y = x.conv2d(&w, None, spec);
    assert_close(
        &y.to_vec(),
        &naive_conv2d(&x, &w, None, spec).to_vec(),
        1e-4,
    );
    let g = random(y.shape(), &mut rng);
    let gw = Tensor::conv2d_backward_weight(&g, &x, w.shape(), spec);
    let expected = naive_conv2d_backward_weight(&g, &x, w.shape(), spec);
    assert_close(&gw.to_vec(), &expected.to_vec(), 1e-3);
    let gx = Tensor::conv2d_backward_input(&g, &w, x.shape(), spec);
    let expected = naive_conv2d_backward_input(&g, &w, x.shape(), spec);
    assert_close(&gx.to_vec(), &expected.to_vec(), 1e-4);
}

#[test]
fn max_pool_by_hand() {
    #[rustfmt::skip]
    let x = Tensor::from_vec(vec![
        1.0, 2.0, 5.0, 0.0,
        3.0, 4.0, 1.0, 6.0,
        0.0, 9.0, 2.0, 2.0,
        8.0, 1.0, 7.0, 3.0,
    ], &[1, 1, 4, 4]);
    let (y, at) = x.max_pool2d(Pool2dSpec::new(2, 2, 0));
    assert_tensor(&y, &[1, 1, 2, 2], &[4.0, 6.0, 9.0, 7.0]);
    assert_tensor(&at, &[1, 1, 2, 2], &[5.0, 7.0, 9.0, 14.0]);
    let g = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]);
    let gx = Tensor::max_pool2d_backward(&g, &at, x.shape());
    let mut expected = [0.0; 16];
    expected[5] = 1.0;
    expected[7] = 2.0;
    expected[9] = 3.0;
    expected[14] = 4.0;
    assert_tensor(&gx, &[1, 1, 4, 4], &expected);
    // Overlapping windows (3x3, stride 1) route several gradients to one winner.
    let (y, at) = x.max_pool2d(Pool2dSpec::new(3, 1, 0));
    assert_tensor(&y, &[1, 1, 2, 2], &[9.0, 9.0, 9.0, 9.0]);
    let gx = Tensor::max_pool2d_backward(&Tensor::ones(&[1, 1, 2, 2]), &at, x.shape());
    assert_eq!(gx.get(&[0, 0, 2, 1]), 4.0);
    assert_eq!(gx.sum().item(), 4.0);
}

#[test]
fn avg_pool_by_hand() {
    let x = Tensor::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
    let y = x.avg_pool2d(Pool2dSpec::new(2, 2, 0));
    assert_tensor(&y, &[1, 1, 2, 2], &[2.5, 4.5, 10.5, 12.5]);
    // Padding counts as zeros: the corner window (3x3 around (0,0)) holds 0, 1, 4, 5.
    let padded = x.avg_pool2d(Pool2dSpec::new(3, 2, 1));
    assert_eq!(padded.shape(), &[1, 1, 2, 2]);
    assert_close(&[padded.get(&[0, 0, 0, 0])], &[10.0 / 9.0], 1e-6);
    let g = Tensor::ones(&[1, 1, 2, 2]);
    let gx = Tensor::avg_pool2d_backward(&g, x.shape(), Pool2dSpec::new(2, 2, 0));
    assert_tensor(&gx, &[1, 1, 4, 4], &[0.25; 16]);
}

/// Pooling shapes, with and without `ceil_mode` and `count_include_pad`. On the 7×6 and 5×5
/// inputs of the tests, the ceil-mode windows hang over the far edge (past the padding for
/// some), and `new(2, 2, 1)` drops the window PyTorch's rule drops (it would start in the
/// right padding).
fn pool_specs() -> Vec<Pool2dSpec> {
    let uneven = Pool2dSpec {
        kernel: [2, 3],
        stride: [1, 2],
        padding: [1, 0],
        ceil_mode: false,
        count_include_pad: true,
    };
    let mut specs = vec![
        Pool2dSpec::new(2, 2, 0),
        Pool2dSpec::new(3, 2, 1),
        Pool2dSpec::new(3, 1, 1),
        Pool2dSpec::new(2, 1, 0),
        uneven,
    ];
    for spec in [
        Pool2dSpec::new(2, 2, 0),
        Pool2dSpec::new(3, 2, 1),
        Pool2dSpec::new(2, 2, 1),
        Pool2dSpec::new(4, 3, 2),
        uneven.with_ceil_mode(true),
    ] {
        specs.push(spec.with_ceil_mode(true));
        specs.push(spec.with_ceil_mode(true).with_count_include_pad(false));
    }
    specs.push(Pool2dSpec::new(3, 2, 1).with_count_include_pad(false));
    specs
}

#[test]
fn ceil_mode_and_count_include_pad_by_hand() {
    // 5×5 of 0..25, 2×2 windows, stride 2: ceil mode adds a last row and column of windows
    // that hang over the edge; they average only what they cover (nothing past the edge is
    // padding to count).
    let x = Tensor::arange(0.0, 25.0, 1.0).reshape(&[1, 1, 5, 5]);
    let spec = Pool2dSpec::new(2, 2, 0).with_ceil_mode(true);
    let expected = [3.0, 5.0, 6.5, 13.0, 15.0, 16.5, 20.5, 22.5, 24.0];
    assert_tensor(&x.avg_pool2d(spec), &[1, 1, 3, 3], &expected);
    let (max, _) = x.max_pool2d(spec);
    assert_tensor(
        &max,
        &[1, 1, 3, 3],
        &[6.0, 8.0, 9.0, 16.0, 18.0, 19.0, 21.0, 23.0, 24.0],
    );
    // A window may not start in the right padding: 5 + 2·1 padded, windows 2 stride 2 would
    // give 4 rounded up, but the 4th would start at padded position 6, past 5 + 1.
    let spec = Pool2dSpec::new(2, 2, 1).with_ceil_mode(true);
    assert_eq!(x.max_pool2d(spec).0.shape(), &[1, 1, 3, 3]);

    // 6×6 of 0..36, 3×3 windows, stride 2, padding 1 (PyTorch's values): the corner window
    // covers 4 inputs of 9 positions; the last one covers 1 input, 1 right padding position
    // and 1 beyond it, so it divides by 2 per axis with the padding counted.
    let x = Tensor::arange(0.0, 36.0, 1.0).reshape(&[1, 1, 6, 6]);
    let spec = Pool2dSpec::new(3, 2, 1).with_ceil_mode(true);
    let with_pad = x.avg_pool2d(spec);
    assert_eq!(with_pad.shape(), &[1, 1, 4, 4]);
    assert_close(&[with_pad.get(&[0, 0, 0, 0])], &[14.0 / 9.0], 1e-6);
    assert_close(&[with_pad.get(&[0, 0, 3, 3])], &[35.0 / 4.0], 1e-6);
    assert_close(&[with_pad.get(&[0, 0, 0, 3])], &[(5.0 + 11.0) / 6.0], 1e-6);
    let without = x.avg_pool2d(spec.with_count_include_pad(false));
    assert_close(&[without.get(&[0, 0, 0, 0])], &[14.0 / 4.0], 1e-6);
    assert_close(&[without.get(&[0, 0, 3, 3])], &[35.0], 1e-6);
    // The backward pass divides each output gradient by the same count: (0, 0) is only in
    // the corner window (4 inputs); (5, 5) in windows of 3×3, 3×1, 1×3 and 1×1 inputs.
    let g = Tensor::ones(&[1, 1, 4, 4]);
    let gx = Tensor::avg_pool2d_backward(&g, x.shape(), spec.with_count_include_pad(false));
    let corners = [gx.get(&[0, 0, 0, 0]), gx.get(&[0, 0, 5, 5])];
    assert_close(&corners, &[0.25, 1.0 / 9.0 + 2.0 / 3.0 + 1.0], 1e-6);
}

#[test]
fn max_pool_matches_direct_loops() {
    let mut rng = Rng::new(76);
    for spec in pool_specs() {
        for shape in [[2, 3, 7, 6], [1, 2, 5, 5]] {
            let x = random(&shape, &mut rng);
            let (y, at) = x.max_pool2d(spec);
            let (values, positions) = naive_max_pool2d(&x, spec);
            assert_eq!(y.to_vec(), values, "{spec:?} {shape:?}");
            let at: Vec<usize> = at.to_vec().iter().map(|&p| p as usize).collect();
            assert_eq!(at, positions, "{spec:?} {shape:?}");

            // Backward: each output gradient lands on its window's maximum.
            let g = random(y.shape(), &mut rng);
            let gx = Tensor::max_pool2d_backward(
                &g,
                &Tensor::from_vec(at.iter().map(|&p| p as f32).collect(), y.shape()),
                &shape,
            );
            let plane = shape[2] * shape[3];
            let out_plane = y.shape()[2] * y.shape()[3];
            let mut expected = vec![0.0f32; shape.iter().product()];
            for (i, &d) in g.to_vec().iter().enumerate() {
                expected[(i / out_plane) * plane + positions[i]] += d;
            }
            assert_close(&gx.to_vec(), &expected, 1e-6);
            // Adjoint: <pool(x), g> equals <x, backward(g)> since pooling picks x linearly.
            assert!((dot(&y, &g) - dot(&x, &gx)).abs() < 1e-4);
        }
    }
}

#[test]
fn avg_pool_matches_direct_loops() {
    let mut rng = Rng::new(77);
    for spec in pool_specs() {
        for shape in [[2, 3, 7, 6], [1, 2, 5, 5]] {
            let x = random(&shape, &mut rng);
            let y = x.avg_pool2d(spec);
            assert_close(&y.to_vec(), &naive_avg_pool2d(&x, spec), 1e-6);
            let g = random(y.shape(), &mut rng);
            let gx = Tensor::avg_pool2d_backward(&g, &shape, spec);
            assert_close(
                &gx.to_vec(),
                &naive_avg_pool2d_backward(&g, &shape, spec),
                1e-6,
            );
            assert!((dot(&y, &g) - dot(&x, &gx)).abs() < 1e-4);
        }
    }
}

#[test]
fn large_pools_split_across_threads() {
    // 64 x 16 planes of 24 x 24: above the threading threshold.
    let mut rng = Rng::new(78);
    let shape = [64, 16, 24, 24];
    let x = random(&shape, &mut rng);
    assert!(x.numel() >= PAR_MIN_ELEMENTS);
    let spec = Pool2dSpec::new(2, 2, 0);
    let (y, _) = x.max_pool2d(spec);
    assert_eq!(y.to_vec(), naive_max_pool2d(&x, spec).0);
    assert_close(
        &x.avg_pool2d(spec).to_vec(),
        &naive_avg_pool2d(&x, spec),
        1e-6,
    );
    let g = random(y.shape(), &mut rng);
    let gx = Tensor::avg_pool2d_backward(&g, &shape, spec);
    assert_close(
        &gx.to_vec(),
        &naive_avg_pool2d_backward(&g, &shape, spec),
        1e-6,
    );
}
