//! Building tensors and reading them back: constructors, accessors, sharing and copy-on-write.

mod common;

use common::assert_tensor;
use strata_tensor::Tensor;

#[test]
fn from_vec_keeps_row_major_order() {
    let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    assert_eq!(t.shape(), &[2, 3]);
    assert_eq!(t.strides(), &[3, 1]);
    assert_eq!(t.ndim(), 2);
    assert_eq!(t.numel(), 6);
    assert_eq!(t.dim(0), 2);
    assert_eq!(t.dim(-1), 3);
    assert_eq!(t.get(&[0, 2]), 3.0);
    assert_eq!(t.get(&[1, 0]), 4.0);
    assert!(t.is_contiguous());
    assert_eq!(
        t.as_slice(),
        Some([1.0, 2.0, 3.0, 4.0, 5.0, 6.0].as_slice())
    );
    assert_eq!(
        Tensor::from_slice(&[7.0, 8.0], &[2, 1]).to_vec(),
        vec![7.0, 8.0]
    );
}

#[test]
fn filled_constructors() {
    assert_tensor(&Tensor::zeros(&[2, 2]), &[2, 2], &[0.0; 4]);
    assert_tensor(&Tensor::ones(&[3]), &[3], &[1.0; 3]);
    assert_tensor(&Tensor::full(&[1, 2], -2.5), &[1, 2], &[-2.5, -2.5]);
    let like = Tensor::from_vec(vec![9.0; 6], &[3, 2]);
    assert_tensor(&like.zeros_like(), &[3, 2], &[0.0; 6]);
    assert_tensor(&like.ones_like(), &[3, 2], &[1.0; 6]);
    assert_tensor(&like.full_like(4.0), &[3, 2], &[4.0; 6]);
    // Empty shapes are allowed.
    assert_eq!(Tensor::zeros(&[0, 3]).numel(), 0);
    assert_eq!(Tensor::zeros(&[0, 3]).to_vec(), Vec::<f32>::new());
}

#[test]
fn scalar_and_default_are_zero_dimensional() {
    let s = Tensor::scalar(3.5);
    assert_eq!(s.shape(), &[] as &[usize]);
    assert_eq!(s.numel(), 1);
    assert_eq!(s.item(), 3.5);
    assert_eq!(s.get(&[]), 3.5);
    assert_eq!(Tensor::default().item(), 0.0);
}

#[test]
fn arange_counts_up_and_down() {
    assert_tensor(
        &Tensor::arange(0.0, 5.0, 1.0),
        &[5],
        &[0.0, 1.0, 2.0, 3.0, 4.0],
    );
    assert_tensor(&Tensor::arange(1.0, 2.0, 0.5), &[2], &[1.0, 1.5]);
    // The end is excluded even when the step does not divide the range.
    assert_tensor(&Tensor::arange(0.0, 1.0, 0.3), &[4], &[0.0, 0.3, 0.6, 0.9]);
    assert_tensor(&Tensor::arange(3.0, 0.0, -1.0), &[3], &[3.0, 2.0, 1.0]);
    assert_eq!(Tensor::arange(2.0, 2.0, 1.0).shape(), &[0]);
}

#[test]
fn eye_has_ones_on_the_diagonal() {
    assert_tensor(
        &Tensor::eye(3),
        &[3, 3],
        &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
    );
    // Large enough to come from the buffer pool: still zero off the diagonal.
    let big = Tensor::eye(200);
    let values = big.to_vec();
    let ones = values.iter().filter(|&&v| v == 1.0).count();
    let zeros = values.iter().filter(|&&v| v == 0.0).count();
    assert_eq!((ones, zeros), (200, 200 * 200 - 200));
    assert_eq!(big.get(&[17, 17]), 1.0);
}

#[test]
fn clones_and_views_share_the_buffer() {
    let a = Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    let b = a.clone();
    let t = a.t();
    assert!(a.shares_buffer(&b));
    assert!(a.shares_buffer(&t));
    assert!(!t.is_contiguous());
    assert_eq!(t.as_slice(), None);
    assert_eq!(t.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    let c = t.contiguous();
    assert!(c.is_contiguous());
    assert!(!c.shares_buffer(&a));
    assert_eq!(c, t);
    // A contiguous tensor's `contiguous` is the same buffer.
    assert!(a.contiguous().shares_buffer(&a));
}

#[test]
fn data_mut_copies_on_write() {
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let mut b = a.clone();
    b.data_mut()[0] = 10.0;
    assert_eq!(a.to_vec(), vec![1.0, 2.0, 3.0], "the original is untouched");
    assert_eq!(b.to_vec(), vec![10.0, 2.0, 3.0]);
    assert!(!a.shares_buffer(&b));

    // A sole owner is written in place.
    let mut c = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    c.data_mut()[1] = 5.0;
    assert_eq!(c.to_vec(), vec![1.0, 5.0]);

    // A view is first made dense, in its own row-major order.
    let base = Tensor::arange(0.0, 4.0, 1.0).reshape(&[2, 2]);
    let mut view = base.t();
    view.data_mut()[1] = -1.0;
    assert_eq!(view.to_vec(), vec![0.0, -1.0, 1.0, 3.0]);
    assert_eq!(base.to_vec(), vec![0.0, 1.0, 2.0, 3.0]);
}

#[test]
fn into_vec_and_values() {
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    assert!(matches!(a.values(), std::borrow::Cow::Borrowed(_)));
    assert!(matches!(a.t().values(), std::borrow::Cow::Owned(_)));
    let shared = a.clone();
    assert_eq!(shared.into_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(a.narrow(0, 1, 1).into_vec(), vec![3.0, 4.0]);
    assert_eq!(a.t().into_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    assert_eq!(a.into_vec(), vec![1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn equality_compares_shape_and_values() {
    let a = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    assert_eq!(a, Tensor::from_vec(vec![1.0, 2.0], &[2]));
    assert_ne!(a, Tensor::from_vec(vec![1.0, 2.0], &[1, 2]));
    assert_ne!(a, Tensor::from_vec(vec![1.0, 3.0], &[2]));
    let nan = Tensor::scalar(f32::NAN);
    assert_ne!(nan, nan.clone());
}
