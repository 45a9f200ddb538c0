//! Printing (PyTorch-like, summarised when large) and serde round trips through JSON.

use strata_tensor::{Conv2dSpec, Pool2dSpec, Rng, Tensor};

#[test]
fn display_small_matrices() {
    let t = Tensor::from_vec(vec![1.0, 2.5, -3.0, 4.0], &[2, 2]);
    assert_eq!(
        t.to_string(),
        "tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]])"
    );
    let whole = Tensor::arange(1.0, 7.0, 1.0).reshape(&[2, 3]);
    assert_eq!(
        whole.to_string(),
        "tensor([[1., 2., 3.],\n        [4., 5., 6.]])"
    );
    // A transposed view prints in its logical order.
    assert_eq!(
        whole.t().to_string(),
        "tensor([[1., 4.],\n        [2., 5.],\n        [3., 6.]])"
    );
}

#[test]
fn display_vectors_scalars_and_higher_ranks() {
    assert_eq!(
        Tensor::from_vec(vec![0.5, 1.25], &[2]).to_string(),
        "tensor([0.5000, 1.2500])"
    );
    assert_eq!(Tensor::scalar(3.5).to_string(), "tensor(3.5000)");
    assert_eq!(Tensor::scalar(-2.0).to_string(), "tensor(-2.)");
    let cube = Tensor::arange(1.0, 5.0, 1.0).reshape(&[2, 1, 2]);
    assert_eq!(
        cube.to_string(),
        "tensor([[[1., 2.]],\n\n        [[3., 4.]]])"
    );
    assert_eq!(
        Tensor::zeros(&[0, 3]).to_string(),
        "tensor([], shape=[0, 3])"
    );
}

#[test]
fn display_special_and_extreme_values() {
    let t = Tensor::from_vec(vec![f32::NAN, f32::INFINITY, 1.0], &[3]);
    assert_eq!(t.to_string(), "tensor([   NaN,    inf, 1.0000])");
    let t = Tensor::from_vec(vec![0.5, 1e-5, 123456.0], &[3]);
    assert_eq!(t.to_string(), "tensor([   0.5000, 1.0000e-5,  1.2346e5])");
}

#[test]
fn display_summarises_large_tensors() {
    let t = Tensor::arange(0.0, 100.0, 1.0).reshape(&[10, 10]);
    let expected = "\
tensor([[ 0.,  1.,  2., ...,  7.,  8.,  9.],
        [10., 11., 12., ..., 17., 18., 19.],
        [20., 21., 22., ..., 27., 28., 29.],
        ...,
        [70., 71., 72., ..., 77., 78., 79.],
        [80., 81., 82., ..., 87., 88., 89.],
        [90., 91., 92., ..., 97., 98., 99.]], shape=[10, 10])";
    assert_eq!(t.to_string(), expected);
    // A long vector keeps three entries at each end.
    let v = Tensor::arange(0.0, 1000.0, 1.0);
    assert_eq!(
        v.to_string(),
        "tensor([  0.,   1.,   2., ..., 997., 998., 999.], shape=[1000])"
    );
}

#[test]
fn debug_names_the_shape() {
    let t = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    assert_eq!(format!("{t:?}"), "Tensor[2] tensor([1., 2.])");
}

#[test]
fn serde_round_trip() {
    let t = Tensor::from_vec(vec![1.0, 2.5, -3.0, 4.0, 0.1, 1e-7], &[2, 3]);
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(
        json,
        r#"{"shape":[2,3],"data":[1.0,2.5,-3.0,4.0,0.1,1e-7]}"#
    );
    let back: Tensor = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
    // Views are written in logical order and come back dense.
    let view = t.t();
    let back: Tensor = serde_json::from_str(&serde_json::to_string(&view).unwrap()).unwrap();
    assert_eq!(back, view);
    assert!(back.is_contiguous());
    // Random values survive exactly (f32 -> JSON text -> f32 round-trips).
    let r = Tensor::rand_normal(&[5, 7], 0.0, 1.0, &mut Rng::new(3));
    let back: Tensor = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let s: Tensor = serde_json::from_str(r#"{"shape":[],"data":[2.0]}"#).unwrap();
    assert_eq!(s.item(), 2.0);
}

#[test]
fn serde_rejects_inconsistent_records() {
    let err = serde_json::from_str::<Tensor>(r#"{"shape":[2,2],"data":[1.0]}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("from_vec: shape [2, 2] needs 4 elements, found 1"),
        "{err}"
    );
    assert!(serde_json::from_str::<Tensor>(r#"{"shape":[2]}"#).is_err());
    // 2^32 x 2^32 elements with no data: the product wraps to 0 without an overflow check.
    let err = serde_json::from_str::<Tensor>(r#"{"shape":[4294967296,4294967296],"data":[]}"#)
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("elements, found [4294967296, 4294967296]"),
        "{err}"
    );
}

#[test]
fn specs_and_rng_round_trip() {
    let conv = Conv2dSpec::new(2, 1).with_groups(3).with_dilation(2);
    let back: Conv2dSpec = serde_json::from_str(&serde_json::to_string(&conv).unwrap()).unwrap();
    assert_eq!(back, conv);
    let pool = Pool2dSpec {
        kernel: [2, 3],
        stride: [1, 2],
        padding: [1, 0],
        ceil_mode: true,
        count_include_pad: false,
    };
    let back: Pool2dSpec = serde_json::from_str(&serde_json::to_string(&pool).unwrap()).unwrap();
    assert_eq!(back, pool);
    // Specs saved before dilation, ceil_mode and count_include_pad read with the defaults.
    let old: Conv2dSpec =
        serde_json::from_str(r#"{"stride":[2,2],"padding":[1,1],"groups":3}"#).unwrap();
    assert_eq!(old, Conv2dSpec::new(2, 1).with_groups(3));
    let old: Pool2dSpec =
        serde_json::from_str(r#"{"kernel":[3,3],"stride":[2,2],"padding":[1,1]}"#).unwrap();
    assert_eq!(old, Pool2dSpec::new(3, 2, 1));
    // A saved generator resumes the same stream.
    let mut rng = Rng::new(9);
    rng.next_u64();
    let mut restored: Rng = serde_json::from_str(&serde_json::to_string(&rng).unwrap()).unwrap();
    assert_eq!(restored.next_u64(), rng.next_u64());
}
