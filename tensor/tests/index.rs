//! Joining and indexing along an axis: concat, stack, index_select, gather and their
//! scatter-add gradients.

mod common;

use common::{assert_close, assert_tensor, dot, random};
use strata_tensor::{Rng, Tensor};

fn arange(n: usize) -> Tensor {
    Tensor::arange(0.0, n as f32, 1.0)
}

#[test]
fn concat_along_each_axis() {
    let a = arange(4).reshape(&[2, 2]); // [[0, 1], [2, 3]]
    let b = Tensor::from_vec(vec![10.0, 11.0], &[1, 2]);
    let c = Tensor::from_vec(vec![20.0, 21.0, 22.0, 23.0, 24.0, 25.0], &[2, 3]);
    assert_tensor(
        &Tensor::concat(&[&a, &b], 0),
        &[3, 2],
        &[0.0, 1.0, 2.0, 3.0, 10.0, 11.0],
    );
    assert_tensor(
        &Tensor::concat(&[&a, &c], 1),
        &[2, 5],
        &[0.0, 1.0, 20.0, 21.0, 22.0, 2.0, 3.0, 23.0, 24.0, 25.0],
    );
    assert_tensor(
        &Tensor::concat(&[&c, &a, &a], -1),
        &[2, 7],
        &[
            20.0, 21.0, 22.0, 0.0, 1.0, 0.0, 1.0, 23.0, 24.0, 25.0, 2.0, 3.0, 2.0, 3.0,
        ],
    );
    // Views are read in logical order; a single tensor is copied as is.
    assert_tensor(
        &Tensor::concat(&[&a.t(), &b], 0),
        &[3, 2],
        &[0.0, 2.0, 1.0, 3.0, 10.0, 11.0],
    );
    assert_eq!(Tensor::concat(&[&c], 1), c);
    // Empty parts are allowed.
    let empty = Tensor::zeros(&[0, 2]);
    assert_eq!(Tensor::concat(&[&a, &empty], 0), a);
}

#[test]
fn stack_adds_an_axis() {
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]);
    let b = Tensor::from_vec(vec![4.0, 5.0, 6.0], &[3]);
    assert_tensor(
        &Tensor::stack(&[&a, &b], 0),
        &[2, 3],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    );
    assert_tensor(
        &Tensor::stack(&[&a, &b], 1),
        &[3, 2],
        &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0],
    );
    assert_tensor(
        &Tensor::stack(&[&a, &b], -1),
        &[3, 2],
        &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0],
    );
    let m = arange(4).reshape(&[2, 2]);
    let s = Tensor::stack(&[&m, &m.t()], 1);
    assert_tensor(&s, &[2, 2, 2], &[0.0, 1.0, 0.0, 2.0, 2.0, 3.0, 1.0, 3.0]);
}

#[test]
fn index_select_and_its_gradient() {
    let table = arange(12).reshape(&[4, 3]);
    assert_tensor(
        &table.index_select(0, &[3, 0, 3]),
        &[3, 3],
        &[9.0, 10.0, 11.0, 0.0, 1.0, 2.0, 9.0, 10.0, 11.0],
    );
    assert_tensor(
        &table.index_select(1, &[2, 0]),
        &[4, 2],
        &[2.0, 0.0, 5.0, 3.0, 8.0, 6.0, 11.0, 9.0],
    );
    assert_eq!(table.index_select(0, &[]).shape(), &[0, 3]);

    // index_add accumulates repeated indices, into a copy.
    let base = Tensor::zeros(&[4, 2]);
    let source = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]);
    let added = base.index_add(0, &[1, 3, 1], &source);
    assert_tensor(&added, &[4, 2], &[0.0, 0.0, 6.0, 8.0, 0.0, 0.0, 3.0, 4.0]);
    assert_eq!(base.to_vec(), vec![0.0; 8], "the input is not modified");
    let ones = Tensor::ones(&[2, 3]);
    let cols = ones.index_add(
        1,
        &[0, 0],
        &Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]),
    );
    assert_tensor(&cols, &[2, 3], &[4.0, 1.0, 1.0, 8.0, 1.0, 1.0]);
}

#[test]
fn index_add_is_the_adjoint_of_index_select() {
    // <select(x), g> == <x, index_add(0, g)> for random x, g.
    let mut rng = Rng::new(41);
    let x = random(&[5, 4, 3], &mut rng);
    let indices = [4, 0, 0, 2, 4, 4];
    for axis in 0..3 {
        let picks: Vec<usize> = indices.iter().map(|&i| i % x.shape()[axis]).collect();
        let selected = x.index_select(axis, &picks);
        let g = random(selected.shape(), &mut rng);
        let back = x.zeros_like().index_add(axis, &picks, &g);
        let (lhs, rhs) = (dot(&selected, &g), dot(&x, &back));
        assert!((lhs - rhs).abs() < 1e-4, "axis {axis}: {lhs} vs {rhs}");
    }
}

#[test]
fn gather_picks_per_position() {
    // out[i, j] = x[i, index[i, j]] along axis 1.
    let x = Tensor::from_vec(vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6], &[2, 3]);
    let index = Tensor::from_vec(vec![2.0, 0.0, 1.0, 1.0], &[2, 2]);
    assert_tensor(&x.gather(1, &index), &[2, 2], &[0.3, 0.1, 0.5, 0.5]);
    // Along axis 0: out[i, j] = x[index[i, j], j].
    let index = Tensor::from_vec(vec![1.0, 0.0, 1.0], &[1, 3]);
    assert_tensor(&x.gather(0, &index), &[1, 3], &[0.4, 0.2, 0.6]);
    // The cross-entropy pick: one label per row.
    let labels = Tensor::from_vec(vec![2.0, 0.0], &[2, 1]);
    assert_tensor(&x.gather(-1, &labels), &[2, 1], &[0.3, 0.4]);
}

#[test]
fn scatter_add_accumulates_and_is_the_adjoint_of_gather() {
    let base = Tensor::ones(&[2, 3]);
    let index = Tensor::from_vec(vec![2.0, 2.0, 0.0, 1.0], &[2, 2]);
    let source = Tensor::from_vec(vec![10.0, 20.0, 30.0, 40.0], &[2, 2]);
    let out = base.scatter_add(1, &index, &source);
    assert_tensor(&out, &[2, 3], &[1.0, 1.0, 31.0, 31.0, 41.0, 1.0]);
    assert_eq!(base.to_vec(), vec![1.0; 6]);

    let mut rng = Rng::new(42);
    let x = random(&[3, 4, 5], &mut rng);
    for axis in 0..3 {
        let mut shape = x.shape().to_vec();
        shape[axis] = 6;
        let bound = x.shape()[axis];
        let positions: Vec<f32> = (0..shape.iter().product::<usize>())
            .map(|_| rng.below(bound) as f32)
            .collect();
        let index = Tensor::from_vec(positions, &shape);
        let gathered = x.gather(axis, &index);
        let g = random(&shape, &mut rng);
        let back = x.zeros_like().scatter_add(axis, &index, &g);
        let (lhs, rhs) = (dot(&gathered, &g), dot(&x, &back));
        assert!((lhs - rhs).abs() < 1e-4, "axis {axis}: {lhs} vs {rhs}");
        // And gather reads what the index says.
        for i in 0..shape[0] {
            for j in 0..shape[1] {
                for k in 0..shape[2] {
                    let mut at = [i, j, k];
                    at[axis] = index.get(&[i, j, k]) as usize;
                    assert_eq!(gathered.get(&[i, j, k]), x.get(&at));
                }
            }
        }
    }
}

#[test]
fn gather_on_views() {
    let x = arange(6).reshape(&[2, 3]).t(); // [[0, 3], [1, 4], [2, 5]]
    let index = Tensor::from_vec(vec![1.0, 0.0, 1.0], &[3, 1]);
    assert_close(&x.gather(1, &index).to_vec(), &[3.0, 1.0, 5.0], 0.0);
    let index_view = Tensor::from_vec(vec![1.0, 0.0, 1.0], &[1, 3]).t();
    assert_close(&x.gather(1, &index_view).to_vec(), &[3.0, 1.0, 5.0], 0.0);
}
