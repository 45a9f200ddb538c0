//! Views that change how a buffer is read: reshape, permute, transpose, squeeze, unsqueeze,
//! broadcast_to, narrow, flatten.

mod common;

use common::{assert_tensor, indices, random};
use strata_tensor::{Rng, Tensor};

fn arange(n: usize) -> Tensor {
    Tensor::arange(0.0, n as f32, 1.0)
}

#[test]
fn reshape_with_an_inferred_dimension() {
    let t = arange(12);
    let r = t.reshape(&[3, -1]);
    assert_tensor(&r, &[3, 4], &t.to_vec());
    assert!(
        r.shares_buffer(&t),
        "reshaping a contiguous tensor is a view"
    );
    assert_eq!(t.reshape(&[-1, 2, 3]).shape(), &[2, 2, 3]);
    assert_eq!(t.reshape(&[2, 1, 6]).shape(), &[2, 1, 6]);
    assert_eq!(t.reshape(&[12]).shape(), &[12]);
    assert_eq!(Tensor::scalar(5.0).reshape(&[1, 1]).to_vec(), vec![5.0]);
    assert_eq!(Tensor::zeros(&[0, 4]).reshape(&[4, 0]).shape(), &[4, 0]);
}

#[test]
fn reshape_of_a_view_reads_in_logical_order() {
    let t = arange(6).reshape(&[2, 3]).t(); // [[0, 3], [1, 4], [2, 5]]
    let r = t.reshape(&[-1]);
    assert_tensor(&r, &[6], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    let narrowed = arange(12).reshape(&[3, 4]).narrow(1, 1, 2);
    assert_tensor(
        &narrowed.reshape(&[2, 3]),
        &[2, 3],
        &[1.0, 2.0, 5.0, 6.0, 9.0, 10.0],
    );
}

#[test]
fn permute_and_transpose() {
    let t = arange(24).reshape(&[2, 3, 4]);
    let p = t.permute(&[2, 0, 1]);
    assert_eq!(p.shape(), &[4, 2, 3]);
    assert!(p.shares_buffer(&t));
    for index in indices(p.shape()) {
        let (k, i, j) = (index[0], index[1], index[2]);
        assert_eq!(p.get(&index), t.get(&[i, j, k]));
    }
    let negative = t.permute(&[-1, 0, 1]);
    assert_eq!(negative, p);

    let s = t.transpose(0, 2);
    assert_eq!(s.shape(), &[4, 3, 2]);
    for index in indices(s.shape()) {
        assert_eq!(s.get(&index), t.get(&[index[2], index[1], index[0]]));
    }
    assert_eq!(t.transpose(-1, -3), s);

    let m = arange(6).reshape(&[2, 3]);
    assert_tensor(&m.t(), &[3, 2], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    assert_eq!(m.t().t(), m);
    // On 3-D tensors, `t` swaps the last two dimensions.
    assert_eq!(t.t(), t.transpose(1, 2));
}

#[test]
fn squeeze_and_unsqueeze() {
    let t = arange(6).reshape(&[1, 2, 1, 3]);
    assert_eq!(t.squeeze(0).shape(), &[2, 1, 3]);
    assert_eq!(t.squeeze(-2).shape(), &[1, 2, 3]);
    assert_eq!(t.squeeze_all().shape(), &[2, 3]);
    assert_eq!(t.squeeze_all().to_vec(), t.to_vec());
    let v = arange(3);
    assert_eq!(v.unsqueeze(0).shape(), &[1, 3]);
    assert_eq!(v.unsqueeze(1).shape(), &[3, 1]);
    assert_eq!(v.unsqueeze(-1).shape(), &[3, 1]);
    assert_eq!(Tensor::scalar(2.0).unsqueeze(0).shape(), &[1]);
    // Unsqueezing a transposed view keeps its element order.
    let m = arange(6).reshape(&[2, 3]).t();
    let u = m.unsqueeze(1);
    assert_eq!(u.shape(), &[3, 1, 2]);
    assert_eq!(u.to_vec(), m.to_vec());
    assert_eq!(u.squeeze(1), m);
}

#[test]
fn broadcast_to_is_a_stride_zero_view() {
    let col = Tensor::from_vec(vec![1.0, 2.0], &[2, 1]);
    let b = col.broadcast_to(&[3, 2, 4]);
    assert_eq!(b.shape(), &[3, 2, 4]);
    assert_eq!(b.strides(), &[0, 1, 0]);
    assert!(b.shares_buffer(&col));
    for index in indices(b.shape()) {
        assert_eq!(b.get(&index), col.get(&[index[1], 0]));
    }
    assert_eq!(
        Tensor::scalar(7.0).broadcast_to(&[2, 2]).to_vec(),
        vec![7.0; 4]
    );
}

#[test]
fn narrow_selects_a_range() {
    let t = arange(12).reshape(&[3, 4]);
    assert_tensor(
        &t.narrow(0, 1, 2),
        &[2, 4],
        &[4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0],
    );
    assert_tensor(
        &t.narrow(-1, 2, 2),
        &[3, 2],
        &[2.0, 3.0, 6.0, 7.0, 10.0, 11.0],
    );
    assert!(t.narrow(0, 1, 2).is_contiguous());
    assert!(!t.narrow(1, 1, 2).is_contiguous());
    assert_eq!(t.narrow(1, 4, 0).shape(), &[3, 0]);
    // Narrowing a narrowed, transposed view.
    let v = t.t().narrow(0, 1, 3).narrow(1, 1, 2); // rows 1..4 of t^T, columns 1..3
    assert_tensor(&v, &[3, 2], &[5.0, 9.0, 6.0, 10.0, 7.0, 11.0]);
}

#[test]
fn flatten_merges_a_range_of_dimensions() {
    let t = arange(24).reshape(&[2, 3, 4]);
    assert_tensor(&t.flatten(1, 2), &[2, 12], &t.to_vec());
    assert_tensor(&t.flatten(0, 1), &[6, 4], &t.to_vec());
    assert_eq!(t.flatten(0, -1).shape(), &[24]);
    assert_eq!(t.flatten(1, 1).shape(), &[2, 3, 4]);
    assert_eq!(t.flatten_all().shape(), &[24]);
    assert_eq!(Tensor::scalar(1.0).flatten(0, 0).shape(), &[1]);
    // Flattening a permuted view copies it into logical order.
    let p = t.permute(&[2, 0, 1]);
    assert_eq!(p.flatten(1, 2).to_vec(), p.to_vec());
    assert_eq!(p.flatten_all().to_vec(), p.to_vec());
}

#[test]
fn views_of_random_tensors_agree_with_index_arithmetic() {
    let mut rng = Rng::new(31);
    let t = random(&[3, 5, 4], &mut rng);
    let v = t.permute(&[1, 2, 0]).narrow(0, 1, 3).narrow(2, 1, 2); // [3, 4, 2]
    for index in indices(v.shape()) {
        let (a, b, c) = (index[0], index[1], index[2]);
        assert_eq!(v.get(&index), t.get(&[c + 1, a + 1, b]));
    }
    let flat = v.reshape(&[-1]).to_vec();
    let expected: Vec<f32> = indices(v.shape()).iter().map(|i| v.get(i)).collect();
    assert_eq!(flat, expected);
}
