//! Element-wise maps: unary math, binary arithmetic, comparisons, select and the operators,
//! on hand-computed values and on tensors large enough to be split across threads.

mod common;

use common::{assert_close, assert_tensor, random};
use strata_tensor::{sigmoid, Rng, Tensor, PAR_MIN_ELEMENTS};

fn v(values: &[f32]) -> Tensor {
    Tensor::from_slice(values, &[values.len()])
}

#[test]
fn unary_math() {
    let x = v(&[-2.0, -0.5, 0.0, 1.0, 4.0]);
    assert_tensor(&x.neg(), &[5], &[2.0, 0.5, -0.0, -1.0, -4.0]);
    assert_tensor(&x.abs(), &[5], &[2.0, 0.5, 0.0, 1.0, 4.0]);
    assert_tensor(&x.square(), &[5], &[4.0, 0.25, 0.0, 1.0, 16.0]);
    assert_tensor(&x.sign(), &[5], &[-1.0, -1.0, 0.0, 1.0, 1.0]);
    assert_tensor(&x.relu(), &[5], &[0.0, 0.0, 0.0, 1.0, 4.0]);
    assert_tensor(&x.clamp(-1.0, 2.0), &[5], &[-1.0, -0.5, 0.0, 1.0, 2.0]);
    assert_tensor(&x.add_scalar(1.5), &[5], &[-0.5, 1.0, 1.5, 2.5, 5.5]);
    assert_tensor(&x.mul_scalar(-2.0), &[5], &[4.0, 1.0, -0.0, -2.0, -8.0]);

    let p = v(&[0.25, 1.0, 4.0]);
    assert_tensor(&p.sqrt(), &[3], &[0.5, 1.0, 2.0]);
    assert_tensor(&p.recip(), &[3], &[4.0, 1.0, 0.25]);
    assert_tensor(&p.powf(1.5), &[3], &[0.125, 1.0, 8.0]);
    assert_tensor(&p.powf(-0.5), &[3], &[2.0, 1.0, 0.5]);
    let e = std::f32::consts::E;
    assert_tensor(&v(&[0.0, 1.0, 2.0]).exp(), &[3], &[1.0, e, e * e]);
    assert_tensor(&v(&[1.0, e, e * e]).log(), &[3], &[0.0, 1.0, 2.0]);
    assert_eq!(v(&[0.0]).log().item(), f32::NEG_INFINITY);
    assert!(v(&[-1.0]).sqrt().item().is_nan());
}

#[test]
fn sigmoid_and_tanh() {
    // σ(0) = 1/2, σ(ln 3) = 3/4, σ(-ln 3) = 1/4; tanh(ln 2) = 3/5.
    let ln3 = 3.0f32.ln();
    assert_tensor(&v(&[0.0, ln3, -ln3]).sigmoid(), &[3], &[0.5, 0.75, 0.25]);
    assert_tensor(&v(&[0.0, 2.0f32.ln()]).tanh(), &[2], &[0.0, 0.6]);
    // No overflow to NaN at the extremes.
    assert_eq!(sigmoid(-200.0), 0.0);
    assert_eq!(sigmoid(200.0), 1.0);
    assert_eq!(sigmoid(-1e30), 0.0);
}

#[test]
fn binary_arithmetic() {
    let a = v(&[1.0, -2.0, 3.0, 8.0]);
    let b = v(&[4.0, 5.0, -6.0, 2.0]);
    assert_tensor(&a.add(&b), &[4], &[5.0, 3.0, -3.0, 10.0]);
    assert_tensor(&a.sub(&b), &[4], &[-3.0, -7.0, 9.0, 6.0]);
    assert_tensor(&a.mul(&b), &[4], &[4.0, -10.0, -18.0, 16.0]);
    assert_tensor(&a.div(&b), &[4], &[0.25, -0.4, -0.5, 4.0]);
    assert_tensor(&a.maximum(&b), &[4], &[4.0, 5.0, 3.0, 8.0]);
    assert_tensor(&a.minimum(&b), &[4], &[1.0, -2.0, -6.0, 2.0]);
    assert_tensor(
        &v(&[2.0, 9.0, 4.0]).pow(&v(&[3.0, 0.5, -1.0])),
        &[3],
        &[8.0, 3.0, 0.25],
    );
    assert_tensor(
        &a.zip_map(&b, |x, y| 10.0 * x + y),
        &[4],
        &[14.0, -15.0, 24.0, 82.0],
    );
}

#[test]
fn maximum_and_minimum_propagate_nan() {
    let a = v(&[f32::NAN, 1.0]);
    let b = v(&[1.0, f32::NAN]);
    for t in [a.maximum(&b), a.minimum(&b), b.maximum(&a), b.minimum(&a)] {
        assert!(t.to_vec().iter().all(|x| x.is_nan()), "{t}");
    }
}

#[test]
fn comparisons_give_masks() {
    let a = v(&[1.0, 2.0, 3.0]);
    let b = v(&[2.0, 2.0, 2.0]);
    assert_tensor(&a.eq(&b), &[3], &[0.0, 1.0, 0.0]);
    assert_tensor(&a.ne(&b), &[3], &[1.0, 0.0, 1.0]);
    assert_tensor(&a.lt(&b), &[3], &[1.0, 0.0, 0.0]);
    assert_tensor(&a.le(&b), &[3], &[1.0, 1.0, 0.0]);
    assert_tensor(&a.gt(&b), &[3], &[0.0, 0.0, 1.0]);
    assert_tensor(&a.ge(&b), &[3], &[0.0, 1.0, 1.0]);
    // NaN compares false, except for "not equal".
    let nan = v(&[f32::NAN]);
    assert_eq!(nan.eq(&nan).item(), 0.0);
    assert_eq!(nan.ne(&nan).item(), 1.0);
    assert_eq!(nan.lt(&v(&[0.0])).item(), 0.0);
}

#[test]
fn select_picks_by_mask_with_broadcasting() {
    let mask = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[2, 2]);
    let on_true = Tensor::from_vec(vec![10.0, 20.0], &[2]);
    let on_false = Tensor::from_vec(vec![-1.0, -2.0], &[2, 1]);
    let t = Tensor::select(&mask, &on_true, &on_false);
    assert_tensor(&t, &[2, 2], &[10.0, -1.0, -2.0, 20.0]);
    // Any non-zero value counts as true.
    let t = Tensor::select(
        &v(&[0.5, -3.0, 0.0]),
        &Tensor::scalar(1.0),
        &Tensor::scalar(0.0),
    );
    assert_tensor(&t, &[3], &[1.0, 1.0, 0.0]);
}

#[test]
fn operators_match_methods() {
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = Tensor::from_vec(vec![10.0, 20.0], &[2]);
    assert_tensor(&(&a + &b), &[2, 2], &[11.0, 22.0, 13.0, 24.0]);
    assert_tensor(&(&a - &b), &[2, 2], &[-9.0, -18.0, -7.0, -16.0]);
    assert_tensor(&(&a * &b), &[2, 2], &[10.0, 40.0, 30.0, 80.0]);
    assert_tensor(&(&a / &b), &[2, 2], &[0.1, 0.1, 0.3, 0.2]);
    assert_tensor(&(a.clone() + b.clone()), &[2, 2], &[11.0, 22.0, 13.0, 24.0]);
    assert_tensor(&(a.clone() * &b), &[2, 2], &[10.0, 40.0, 30.0, 80.0]);
    assert_tensor(&(&a + 1.0), &[2, 2], &[2.0, 3.0, 4.0, 5.0]);
    assert_tensor(&(&a - 1.0), &[2, 2], &[0.0, 1.0, 2.0, 3.0]);
    assert_tensor(&(&a * 3.0), &[2, 2], &[3.0, 6.0, 9.0, 12.0]);
    assert_tensor(&(a.clone() / 2.0), &[2, 2], &[0.5, 1.0, 1.5, 2.0]);
    assert_tensor(&(-&a), &[2, 2], &[-1.0, -2.0, -3.0, -4.0]);
    assert_tensor(&(-a), &[2, 2], &[-1.0, -2.0, -3.0, -4.0]);
}

#[test]
fn map_on_a_view_follows_its_strides() {
    let t = Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]).t();
    assert_tensor(
        &t.map(|x| x * 10.0),
        &[3, 2],
        &[0.0, 30.0, 10.0, 40.0, 20.0, 50.0],
    );
}

/// Sizes around and far above the threading threshold, odd so chunks do not divide evenly.
fn large_sizes() -> [usize; 3] {
    [
        PAR_MIN_ELEMENTS - 1,
        PAR_MIN_ELEMENTS + 7,
        4 * PAR_MIN_ELEMENTS + 13,
    ]
}

#[test]
fn large_unary_maps_agree_with_a_scalar_loop() {
    let mut rng = Rng::new(11);
    for n in large_sizes() {
        let x = random(&[n], &mut rng);
        let values = x.to_vec();
        let expected: Vec<f32> = values.iter().map(|&a| (a * 3.0).max(0.0)).collect();
        assert_eq!(x.map(|a| (a * 3.0).max(0.0)).to_vec(), expected, "n = {n}");
        let exp: Vec<f32> = values.iter().map(|a| a.exp()).collect();
        assert_eq!(x.exp().to_vec(), exp, "n = {n}");
    }
}

#[test]
fn large_binary_ops_agree_with_a_scalar_loop() {
    let mut rng = Rng::new(12);
    for n in large_sizes() {
        let (a, b) = (random(&[n], &mut rng), random(&[n], &mut rng));
        let (av, bv) = (a.to_vec(), b.to_vec());
        let sum: Vec<f32> = av.iter().zip(&bv).map(|(x, y)| x + y).collect();
        let prod: Vec<f32> = av.iter().zip(&bv).map(|(x, y)| x * y).collect();
        assert_eq!((&a + &b).to_vec(), sum, "n = {n}");
        assert_eq!((&a * &b).to_vec(), prod, "n = {n}");
        let gt: Vec<f32> = av
            .iter()
            .zip(&bv)
            .map(|(x, y)| if x > y { 1.0 } else { 0.0 })
            .collect();
        assert_eq!(a.gt(&b).to_vec(), gt);
        let picked = Tensor::select(&a.gt(&b), &a, &b);
        assert_close(&picked.to_vec(), &a.maximum(&b).to_vec(), 0.0);
    }
}

#[test]
fn large_maps_over_views() {
    // A transposed 600 x 500 view (non-contiguous, above the threshold) and a narrowed one.
    let mut rng = Rng::new(13);
    let base = random(&[600, 500], &mut rng);
    assert!(base.numel() >= PAR_MIN_ELEMENTS);
    let t = base.t();
    let doubled = t.map(|x| 2.0 * x);
    assert_eq!(doubled.shape(), &[500, 600]);
    for &(i, j) in &[(0, 0), (499, 599), (123, 456), (7, 300)] {
        assert_eq!(doubled.get(&[i, j]), 2.0 * base.get(&[j, i]));
    }
    let narrow = base.narrow(1, 3, 400);
    let plus = &narrow + &narrow;
    for &(i, j) in &[(0, 0), (599, 399), (250, 17)] {
        assert_eq!(plus.get(&[i, j]), 2.0 * base.get(&[i, j + 3]));
    }
}
