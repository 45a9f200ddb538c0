//! NumPy broadcasting: hand-computed cases, then every pair of shapes below checked element
//! by element against a reference that reads each operand through `Tensor::get`.

mod common;

use common::{assert_tensor, get_broadcast, indices, random};
use strata_tensor::{broadcast_shapes, Rng, Tensor, PAR_MIN_ELEMENTS};

#[test]
fn broadcast_shape_rule() {
    let shape = |a: &[usize], b: &[usize]| broadcast_shapes(a, b, "add").map(|s| s.to_vec());
    assert_eq!(shape(&[2, 3], &[2, 3]).unwrap(), vec![2, 3]);
    assert_eq!(shape(&[2, 3], &[]).unwrap(), vec![2, 3]);
    assert_eq!(shape(&[2, 3], &[3]).unwrap(), vec![2, 3]);
    assert_eq!(shape(&[2, 1], &[1, 3]).unwrap(), vec![2, 3]);
    assert_eq!(shape(&[4, 1, 3], &[5, 1]).unwrap(), vec![4, 5, 3]);
    assert_eq!(shape(&[1], &[0]).unwrap(), vec![0]);
    assert!(shape(&[2, 3], &[2]).is_err());
    assert!(shape(&[3, 1], &[2, 1]).is_err());
}

#[test]
fn scalar_row_and_column_by_hand() {
    let m = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let scalar = Tensor::scalar(10.0);
    let row = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let row2 = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[1, 3]);
    let col = Tensor::from_vec(vec![100.0, 200.0], &[2, 1]);
    assert_tensor(
        &(&m + &scalar),
        &[2, 3],
        &[11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
    );
    assert_tensor(&(&scalar - &m), &[2, 3], &[9.0, 8.0, 7.0, 6.0, 5.0, 4.0]);
    assert_tensor(&(&m * &row), &[2, 3], &[1.0, 4.0, 9.0, 4.0, 10.0, 18.0]);
    assert_tensor(&(&m * &row2), &[2, 3], &[1.0, 4.0, 9.0, 4.0, 10.0, 18.0]);
    assert_tensor(
        &(&m + &col),
        &[2, 3],
        &[101.0, 102.0, 103.0, 204.0, 205.0, 206.0],
    );
    assert_tensor(
        &(&col / &m),
        &[2, 3],
        &[100.0, 50.0, 100.0 / 3.0, 50.0, 40.0, 200.0 / 6.0],
    );
    // Column times row: an outer product.
    assert_tensor(
        &(&col * &row),
        &[2, 3],
        &[100.0, 200.0, 300.0, 200.0, 400.0, 600.0],
    );
    // Scalar with scalar stays 0-d.
    assert_eq!((&scalar + &scalar).shape(), &[] as &[usize]);
    assert_eq!((&scalar + &scalar).item(), 20.0);
}

#[test]
fn three_dimensional_by_hand() {
    // [2, 1, 2] + [3, 1] -> [2, 3, 2]: out[i, j, k] = a[i, 0, k] + b[j, 0].
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 1, 2]);
    let b = Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3, 1]);
    #[rustfmt::skip]
    let expected = [
        11.0, 12.0, 21.0, 22.0, 31.0, 32.0,
        13.0, 14.0, 23.0, 24.0, 33.0, 34.0,
    ];
    assert_tensor(&(&a + &b), &[2, 3, 2], &expected);
}

/// A binary op's name, its result, and the scalar function it should have applied.
type Case<'a> = (&'a str, Tensor, fn(f32, f32) -> f32);

/// Checks `a op b` against the reference for the broadcast shape.
#[track_caller]
fn check_pair(a: &Tensor, b: &Tensor) {
    let shape = broadcast_shapes(a.shape(), b.shape(), "test").unwrap();
    let ops: [Case; 5] = [
        ("add", a.add(b), |x, y| x + y),
        ("sub", a.sub(b), |x, y| x - y),
        ("mul", a.mul(b), |x, y| x * y),
        ("maximum", a.maximum(b), f32::max),
        ("lt", a.lt(b), |x, y| if x < y { 1.0 } else { 0.0 }),
    ];
    for (name, out, f) in ops {
        assert_eq!(out.shape(), shape.as_slice(), "{name} shape");
        assert!(out.is_contiguous());
        for index in indices(&shape) {
            let expected = f(get_broadcast(a, &index), get_broadcast(b, &index));
            assert_eq!(
                out.get(&index),
                expected,
                "{name} {:?} {:?} at {index:?}",
                a.shape(),
                b.shape()
            );
        }
    }
}

#[test]
fn random_shape_pairs() {
    let mut rng = Rng::new(21);
    let pairs: &[(&[usize], &[usize])] = &[
        (&[3, 4], &[3, 4]),
        (&[3, 4], &[]),
        (&[], &[5]),
        (&[3, 4], &[4]),
        (&[3, 4], &[3, 1]),
        (&[1, 4], &[3, 1]),
        (&[2, 3, 4], &[3, 4]),
        (&[2, 1, 4], &[1, 3, 1]),
        (&[2, 3, 1, 5], &[4, 1]),
        (&[1, 1, 1], &[2, 2, 2]),
        (&[0, 3], &[3]),
    ];
    for &(sa, sb) in pairs {
        let a = random(sa, &mut rng);
        let b = random(sb, &mut rng);
        check_pair(&a, &b);
        check_pair(&b, &a);
    }
}

#[test]
fn non_contiguous_operands() {
    let mut rng = Rng::new(22);
    let base = random(&[4, 6], &mut rng);
    let transposed = base.t(); // [6, 4], strides [1, 6]
    let narrowed = base.narrow(1, 1, 4); // [4, 4], offset 1, row stride 6
    let stepped_col = base.narrow(1, 5, 1); // [4, 1] column with stride 6
    let broadcast = random(&[4], &mut rng).broadcast_to(&[6, 4]); // stride 0 rows
    let permuted = random(&[2, 3, 4], &mut rng).permute(&[2, 0, 1]); // [4, 2, 3]

    check_pair(&transposed, &broadcast);
    check_pair(&transposed, &transposed);
    check_pair(&narrowed, &narrowed.t());
    check_pair(&narrowed, &stepped_col);
    check_pair(&stepped_col, &base.narrow(0, 2, 1)); // [4, 1] with [1, 6]
    check_pair(&broadcast, &Tensor::scalar(0.5));
    check_pair(&permuted, &random(&[2, 1], &mut rng));
    check_pair(
        &permuted,
        &narrowed.unsqueeze(1).narrow(2, 0, 3).narrow(0, 0, 4),
    );
    check_pair(&broadcast.unsqueeze(0), &transposed.unsqueeze(1));
}

#[test]
fn large_broadcasts_split_across_threads() {
    // Above the threading threshold, with row and column operands and a transposed one.
    let mut rng = Rng::new(23);
    let rows = PAR_MIN_ELEMENTS / 300 + 17;
    let m = random(&[rows, 300], &mut rng);
    let row = random(&[300], &mut rng);
    let col = random(&[rows, 1], &mut rng);
    let mt = random(&[300, rows], &mut rng).t();
    let out = &(&m + &row) * &col;
    let out2 = &mt - &m;
    for &(i, j) in &[
        (0, 0),
        (rows - 1, 299),
        (rows / 2, 150),
        (1, 298),
        (rows - 2, 1),
    ] {
        let expected = (m.get(&[i, j]) + row.get(&[j])) * col.get(&[i, 0]);
        assert_eq!(out.get(&[i, j]), expected);
        assert_eq!(out2.get(&[i, j]), mt.get(&[i, j]) - m.get(&[i, j]));
    }
    // Every element, through a second independent route.
    let values = out.to_vec();
    let (mv, rv, cv) = (m.to_vec(), row.to_vec(), col.to_vec());
    for i in 0..rows {
        for j in 0..300 {
            assert_eq!(values[i * 300 + j], (mv[i * 300 + j] + rv[j]) * cv[i]);
        }
    }
}
