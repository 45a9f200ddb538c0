//! Matrix products against the textbook triple loop: random and odd shapes, vector shapes,
//! transposed and sliced operands (views, not copies), batches with broadcast batch
//! dimensions, and sizes above the multi-threading threshold.

mod common;

use common::{assert_product, assert_tensor, naive_matmul, random};
use strata_tensor::{Rng, Tensor, MATMUL_PAR_MIN_FLOPS, PAR_MIN_ELEMENTS};

/// Checks a 2-D product against the naive loop.
#[track_caller]
fn check(a: &Tensor, b: &Tensor) {
    let c = a.matmul(b);
    assert_eq!(c.shape(), &[a.shape()[0], b.shape()[1]]);
    let (expected, scale) = naive_matmul(a, b);
    assert_product(&c.to_vec(), &expected, &scale);
}

#[test]
fn two_by_two_by_hand() {
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]);
    assert_tensor(&a.matmul(&b), &[2, 2], &[19.0, 22.0, 43.0, 50.0]);
    assert_tensor(&a.t().matmul(&b), &[2, 2], &[26.0, 30.0, 38.0, 44.0]);
    assert_tensor(&a.matmul(&b.t()), &[2, 2], &[17.0, 23.0, 39.0, 53.0]);
    // [2, 3] · [3, 1]
    let m = Tensor::from_vec(vec![1.0, 0.0, -1.0, 2.0, 1.0, 0.5], &[2, 3]);
    let v = Tensor::from_vec(vec![3.0, 4.0, 2.0], &[3, 1]);
    assert_tensor(&m.matmul(&v), &[2, 1], &[1.0, 11.0]);
}

#[test]
fn random_shapes_including_vectors_and_odd_sizes() {
    let mut rng = Rng::new(61);
    let shapes = [
        (1, 1, 1),
        (1, 7, 1),
        (1, 33, 17), // 1 x N result
        (19, 33, 1), // N x 1 result
        (5, 1, 9),   // rank one
        (3, 5, 7),
        (17, 31, 13),
        (64, 65, 63),
        (128, 10, 3),
        (2, 300, 2),
    ];
    for (m, k, n) in shapes {
        let a = random(&[m, k], &mut rng);
        let b = random(&[k, n], &mut rng);
        check(&a, &b);
    }
}

#[test]
fn transposed_and_sliced_operands_are_read_as_views() {
    let mut rng = Rng::new(62);
    // The last shape is wide enough (n ≥ 128) that a column-major `a` is copied row-major.
    for (m, k, n) in [
        (7, 5, 3),
        (1, 9, 4),
        (33, 17, 1),
        (40, 41, 39),
        (35, 21, 130),
    ] {
        let at = random(&[k, m], &mut rng).t(); // [m, k], column-major
        let bt = random(&[n, k], &mut rng).t(); // [k, n], column-major
        let a = random(&[m, k], &mut rng);
        let b = random(&[k, n], &mut rng);
        assert!(!at.is_contiguous() || m == 1 || k == 1);
        check(&at, &b);
        check(&a, &bt);
        check(&at, &bt);
        // Sliced: a block inside a larger matrix (offset, row stride wider than the row).
        let big = random(&[m + 3, k + 5], &mut rng);
        let block = big.narrow(0, 2, m).narrow(1, 3, k);
        check(&block, &b);
        let wide = random(&[n + 2, k + 6], &mut rng);
        check(&block, &wide.narrow(0, 1, n).narrow(1, 4, k).t());
        // Column-major and sliced: a transposed block with a leading dimension wider than m.
        let tall = random(&[k + 4, m + 6], &mut rng);
        check(&tall.narrow(0, 1, k).narrow(1, 2, m).t(), &b);
        // A stride-0 operand: every row of `a` the same.
        let row = random(&[1, k], &mut rng).broadcast_to(&[m, k]);
        check(&row, &b);
    }
}

#[test]
fn vector_operands_drop_their_dimension() {
    let m = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let x = Tensor::from_vec(vec![1.0, 0.0, -1.0], &[3]);
    let y = Tensor::from_vec(vec![2.0, 1.0], &[2]);
    assert_tensor(&m.matmul(&x), &[2], &[-2.0, -2.0]);
    assert_tensor(&y.matmul(&m), &[3], &[6.0, 9.0, 12.0]);
    // Vector · vector is the dot product, a 0-d tensor.
    assert_tensor(&x.matmul(&x), &[], &[2.0]);
    // A vector against a batch.
    let batch = Tensor::arange(0.0, 12.0, 1.0).reshape(&[2, 2, 3]);
    assert_tensor(&batch.matmul(&x), &[2, 2], &[-2.0, -2.0, -2.0, -2.0]);
    assert_tensor(
        &y.matmul(&batch),
        &[2, 3],
        &[3.0, 6.0, 9.0, 21.0, 24.0, 27.0],
    );
}

/// Checks a batched product slice by slice against the naive loop; `a` and `b` are read
/// through broadcasting of their leading dimensions.
#[track_caller]
fn check_batched(a: &Tensor, b: &Tensor, batch: &[usize]) {
    let c = a.matmul(b);
    let (m, n) = (a.shape()[a.ndim() - 2], b.shape()[b.ndim() - 1]);
    let mut expected_shape = batch.to_vec();
    expected_shape.extend([m, n]);
    assert_eq!(c.shape(), expected_shape.as_slice());
    let slice_of = |t: &Tensor, index: &[usize]| -> Tensor {
        let lead = index.len() - (t.ndim() - 2);
        let mut s = t.clone();
        for d in 0..t.ndim() - 2 {
            let i = if t.shape()[d] == 1 {
                0
            } else {
                index[lead + d]
            };
            s = s.narrow(0, i, 1).squeeze(0);
        }
        s
    };
    for index in common::indices(batch) {
        let (sa, sb) = (slice_of(a, &index), slice_of(b, &index));
        let got = slice_of(&c, &index);
        let (expected, scale) = naive_matmul(&sa, &sb);
        assert_product(&got.to_vec(), &expected, &scale);
    }
}

#[test]
fn batched_products_with_broadcast_batch_dimensions() {
    let mut rng = Rng::new(63);
    let (m, k, n) = (5, 7, 3);
    // Same batch on both sides.
    check_batched(
        &random(&[4, m, k], &mut rng),
        &random(&[4, k, n], &mut rng),
        &[4],
    );
    // Shared right operand: folded into one GEMM.
    check_batched(
        &random(&[4, m, k], &mut rng),
        &random(&[k, n], &mut rng),
        &[4],
    );
    check_batched(
        &random(&[2, 3, m, k], &mut rng),
        &random(&[k, n], &mut rng),
        &[2, 3],
    );
    // Shared left operand.
    check_batched(
        &random(&[m, k], &mut rng),
        &random(&[3, k, n], &mut rng),
        &[3],
    );
    // Broadcast on both sides: [2, 1] x [3] -> [2, 3].
    check_batched(
        &random(&[2, 1, m, k], &mut rng),
        &random(&[3, k, n], &mut rng),
        &[2, 3],
    );
    check_batched(
        &random(&[1, 4, m, k], &mut rng),
        &random(&[3, 1, k, n], &mut rng),
        &[3, 4],
    );
    // Transposed batch operands (the attention pattern q · kᵀ).
    let q = random(&[2, 3, m, k], &mut rng);
    let key = random(&[2, 3, n, k], &mut rng);
    check_batched(&q, &key.transpose(-1, -2), &[2, 3]);
    // A permuted left operand and a batch-broadcast (stride 0) view.
    let p = random(&[m, 3, k], &mut rng).permute(&[1, 0, 2]);
    check_batched(&p, &random(&[k, n], &mut rng), &[3]);
    let expanded = random(&[1, m, k], &mut rng).broadcast_to(&[3, m, k]);
    check_batched(&expanded, &random(&[k, n], &mut rng), &[3]);
    check_batched(&expanded, &random(&[3, k, n], &mut rng), &[3]);
    // Rows of one batch folded: single-row matrices.
    check_batched(
        &random(&[6, 1, k], &mut rng),
        &random(&[k, n], &mut rng),
        &[6],
    );
}

#[test]
fn large_products_take_the_multithreaded_path() {
    let mut rng = Rng::new(64);
    // m·n·k well above the threshold, with odd sizes so the split is uneven.
    let (m, k, n) = (161, 203, 187);
    assert!(m * n * k >= MATMUL_PAR_MIN_FLOPS);
    let a = random(&[m, k], &mut rng);
    let b = random(&[k, n], &mut rng);
    check(&a, &b);
    check(&a, &random(&[n, k], &mut rng).t());
    // A column-major left operand large enough that its row-major copy is split over threads.
    let (m2, k2) = (370, 360);
    assert!(m2 * k2 >= PAR_MIN_ELEMENTS);
    check(
        &random(&[k2, m2], &mut rng).t(),
        &random(&[k2, 128], &mut rng),
    );
    // A column-major left operand much larger than the right one: computed as (bᵀ·aᵀ)ᵀ.
    let long = random(&[900, 300], &mut rng).t();
    check(&long, &random(&[900, 130], &mut rng));
    check(&long, &random(&[130, 900], &mut rng).t());
    // A large batched product with a shared right operand (folded into one big GEMM).
    check_batched(
        &random(&[3, 60, 256], &mut rng),
        &random(&[256, 300], &mut rng),
        &[3],
    );
}

#[test]
fn empty_inner_dimension_gives_zeros() {
    let a = Tensor::zeros(&[3, 0]);
    let b = Tensor::zeros(&[0, 2]);
    assert_tensor(&a.matmul(&b), &[3, 2], &[0.0; 6]);
    assert_eq!(
        Tensor::zeros(&[0, 4])
            .matmul(&Tensor::zeros(&[4, 2]))
            .shape(),
        &[0, 2]
    );
}
