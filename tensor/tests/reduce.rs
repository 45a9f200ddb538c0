//! Reductions over chosen axes (sum, mean, max, min, variance, argmax, argmin) and over the
//! whole tensor, by hand and against a reference that walks every element.

mod common;

use common::{assert_close, assert_tensor, indices, random};
use strata_tensor::{Rng, Tensor, PAR_MIN_ELEMENTS};

fn arange(n: usize) -> Tensor {
    Tensor::arange(0.0, n as f32, 1.0)
}

#[test]
fn sums_and_means_by_hand() {
    let t = arange(6).reshape(&[2, 3]); // [[0, 1, 2], [3, 4, 5]]
    assert_tensor(&t.sum_axes(&[0], false), &[3], &[3.0, 5.0, 7.0]);
    assert_tensor(&t.sum_axes(&[1], false), &[2], &[3.0, 12.0]);
    assert_tensor(&t.sum_axes(&[1], true), &[2, 1], &[3.0, 12.0]);
    assert_tensor(&t.sum_axes(&[0, 1], false), &[], &[15.0]);
    assert_tensor(&t.sum_axes(&[-1, -2], true), &[1, 1], &[15.0]);
    assert_tensor(&t.mean_axes(&[0], false), &[3], &[1.5, 2.5, 3.5]);
    assert_tensor(&t.mean_axes(&[1], true), &[2, 1], &[1.0, 4.0]);
    assert_eq!(t.sum().item(), 15.0);
    assert_eq!(t.mean().item(), 2.5);
    assert_eq!(t.sum().shape(), &[] as &[usize]);
    // Reducing no axes copies.
    assert_tensor(&t.sum_axes::<usize>(&[], false), &[2, 3], &t.to_vec());
}

#[test]
fn max_min_by_hand() {
    let t = Tensor::from_vec(vec![3.0, -1.0, 7.0, 2.0, 9.0, -4.0], &[2, 3]);
    assert_tensor(&t.max_axes(&[0], false), &[3], &[3.0, 9.0, 7.0]);
    assert_tensor(&t.max_axes(&[1], true), &[2, 1], &[7.0, 9.0]);
    assert_tensor(&t.min_axes(&[0], false), &[3], &[2.0, -1.0, -4.0]);
    assert_tensor(&t.min_axes(&[1], false), &[2], &[-1.0, -4.0]);
    assert_eq!(t.max().item(), 9.0);
    assert_eq!(t.min().item(), -4.0);
    assert_eq!(Tensor::scalar(-3.0).max().item(), -3.0);
    // A NaN wins.
    let nan = Tensor::from_vec(vec![1.0, f32::NAN, 3.0], &[3]);
    assert!(nan.max().item().is_nan());
    assert!(nan.min().item().is_nan());
}

#[test]
fn variance_biased_and_unbiased() {
    // Values 1, 2, 3, 4: mean 2.5, squared deviations sum 5.
    let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 2.0, 2.0, 2.0, 2.0], &[2, 4]);
    assert_tensor(&t.var_axes(&[1], false, false), &[2], &[1.25, 0.0]);
    assert_tensor(&t.var_axes(&[1], true, true), &[2, 1], &[5.0 / 3.0, 0.0]);
    // Columns: (1, 2), (2, 2), (3, 2), (4, 2) have variances 0.25, 0, 0.25, 1.
    assert_tensor(
        &t.var_axes(&[0], false, false),
        &[4],
        &[0.25, 0.0, 0.25, 1.0],
    );
}

#[test]
fn argmax_argmin_by_hand() {
    let t = Tensor::from_vec(vec![0.1, 0.7, 0.7, 0.9, 0.05, 0.05], &[2, 3]);
    assert_tensor(&t.argmax(1, false), &[2], &[1.0, 0.0]); // first of the tied maxima
    assert_tensor(&t.argmax(0, false), &[3], &[1.0, 0.0, 0.0]);
    assert_tensor(&t.argmin(1, true), &[2, 1], &[0.0, 1.0]);
    assert_tensor(&t.argmin(-2, false), &[3], &[0.0, 1.0, 1.0]);
    let three = arange(24).reshape(&[2, 3, 4]).neg();
    assert_tensor(&three.argmax(1, false), &[2, 4], &[0.0; 8]);
    assert_tensor(&three.argmin(1, true), &[2, 1, 4], &[2.0; 8]);
    // A NaN is picked, as by PyTorch.
    let nan = Tensor::from_vec(vec![1.0, f32::NAN, 3.0], &[3]);
    assert_eq!(nan.argmax(0, false).item(), 1.0);
    assert_eq!(nan.argmin(0, false).item(), 1.0);
}

/// Reduces `x` over `axes` by visiting every element (f64 accumulation).
fn reference(
    x: &Tensor,
    axes: &[usize],
    keepdim: bool,
    init: f64,
    fold: fn(f64, f64) -> f64,
) -> Tensor {
    let out_shape: Vec<usize> = (0..x.ndim())
        .filter_map(|d| match (axes.contains(&d), keepdim) {
            (false, _) => Some(x.shape()[d]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect();
    let kept: Vec<usize> = (0..x.ndim())
        .map(|d| if axes.contains(&d) { 1 } else { x.shape()[d] })
        .collect();
    let mut acc = vec![init; kept.iter().product()];
    for index in indices(x.shape()) {
        let mut flat = 0;
        for d in 0..x.ndim() {
            flat = flat * kept[d] + if axes.contains(&d) { 0 } else { index[d] };
        }
        acc[flat] = fold(acc[flat], x.get(&index) as f64);
    }
    Tensor::from_vec(acc.iter().map(|&v| v as f32).collect(), &out_shape)
}

fn check_all_reductions(x: &Tensor, axes: &[usize]) {
    for keepdim in [false, true] {
        let sum = reference(x, axes, keepdim, 0.0, |a, b| a + b);
        let count: usize = axes.iter().map(|&d| x.shape()[d]).product();
        let tol = 1e-5 * (count as f32).sqrt().max(1.0);
        let got = x.sum_axes(axes, keepdim);
        assert_eq!(
            got.shape(),
            sum.shape(),
            "sum {:?} over {axes:?}",
            x.shape()
        );
        assert_close(&got.to_vec(), &sum.to_vec(), tol);
        let mean: Vec<f32> = sum.to_vec().iter().map(|s| s / count as f32).collect();
        assert_close(&x.mean_axes(axes, keepdim).to_vec(), &mean, tol);
        let max = reference(x, axes, keepdim, f64::NEG_INFINITY, f64::max);
        assert_eq!(
            x.max_axes(axes, keepdim),
            max,
            "max {:?} over {axes:?}",
            x.shape()
        );
        let min = reference(x, axes, keepdim, f64::INFINITY, f64::min);
        assert_eq!(
            x.min_axes(axes, keepdim),
            min,
            "min {:?} over {axes:?}",
            x.shape()
        );
        let mean_keep = x.mean_axes(axes, true);
        let squares = reference(&(x - &mean_keep).square(), axes, keepdim, 0.0, |a, b| a + b);
        let var: Vec<f32> = squares.to_vec().iter().map(|s| s / count as f32).collect();
        assert_close(&x.var_axes(axes, keepdim, false).to_vec(), &var, 1e-4);
    }
}

#[test]
fn every_axis_subset_of_a_random_tensor() {
    let mut rng = Rng::new(51);
    let x = random(&[3, 4, 5], &mut rng);
    let subsets: &[&[usize]] = &[&[0], &[1], &[2], &[0, 1], &[0, 2], &[1, 2], &[0, 1, 2]];
    for axes in subsets {
        check_all_reductions(&x, axes);
        // The same through non-contiguous views.
        check_all_reductions(&x.permute(&[2, 0, 1]), axes);
        check_all_reductions(&x.narrow(1, 1, 2), axes);
        check_all_reductions(&random(&[4, 5], &mut rng).broadcast_to(&[3, 4, 5]), axes);
    }
}

#[test]
fn argmax_matches_a_scan_on_random_data() {
    let mut rng = Rng::new(52);
    let x = random(&[4, 6, 5], &mut rng);
    for axis in 0..3 {
        let am = x.argmax(axis, false);
        let an = x.argmin(axis, false);
        for index in indices(am.shape()) {
            let at = |i: usize| {
                let mut full = index.clone();
                full.insert(axis, i);
                x.get(&full)
            };
            let values: Vec<f32> = (0..x.shape()[axis]).map(at).collect();
            let best = values.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let worst = values.iter().cloned().fold(f32::INFINITY, f32::min);
            assert_eq!(at(am.get(&index) as usize), best);
            assert_eq!(at(an.get(&index) as usize), worst);
        }
    }
}

#[test]
fn large_reductions_split_across_threads() {
    let mut rng = Rng::new(53);
    // Leading axis (the bias-gradient shape), trailing axis, middle axis, and everything.
    let rows = PAR_MIN_ELEMENTS / 256 + 3;
    let x = random(&[rows, 256], &mut rng);
    let values = x.to_vec();
    let col_sums: Vec<f32> = (0..256)
        .map(|j| (0..rows).map(|i| values[i * 256 + j] as f64).sum::<f64>() as f32)
        .collect();
    assert_close(&x.sum_axes(&[0], false).to_vec(), &col_sums, 1e-4);
    let row_max: Vec<f32> = values
        .chunks(256)
        .map(|r| r.iter().cloned().fold(f32::MIN, f32::max))
        .collect();
    assert_eq!(x.max_axes(&[1], false).to_vec(), row_max);
    let total: f64 = values.iter().map(|&v| v as f64).sum();
    assert!(
        (x.sum().item() as f64 - total).abs() < 1e-2,
        "{} vs {total}",
        x.sum().item()
    );

    let cube = random(&[96, 70, 40], &mut rng);
    assert!(cube.numel() >= PAR_MIN_ELEMENTS);
    check_large_middle(&cube);
    check_large_middle(&cube.permute(&[1, 0, 2]));
}

fn check_large_middle(cube: &Tensor) {
    let sums = cube.sum_axes(&[1], false);
    let reference = reference(cube, &[1], false, 0.0, |a, b| a + b);
    assert_close(&sums.to_vec(), &reference.to_vec(), 1e-4);
}

#[test]
fn reductions_of_empty_tensors() {
    let empty = Tensor::zeros(&[0, 3]);
    assert_tensor(&empty.sum_axes(&[0], false), &[3], &[0.0; 3]);
    assert_tensor(&empty.sum_axes(&[1], false), &[0], &[]);
    assert_tensor(&empty.sum_axes(&[1], true), &[0, 1], &[]);
    assert_eq!(empty.sum().item(), 0.0);
    assert!(empty.mean().item().is_nan());
    assert_tensor(&empty.max_axes(&[1], false), &[0], &[]);
    assert_tensor(&empty.argmax(1, false), &[0], &[]);
}
