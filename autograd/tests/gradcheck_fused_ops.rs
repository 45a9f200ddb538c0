//! The fused ops (losses, batch norm, attention softmax, norms, the recurrence) against
//! central finite differences, with the tolerance of `gradcheck_ops.rs`.

#![allow(clippy::cloned_ref_to_slice_refs)] // `&[x.clone()]` reads best in a list of checks

use strata_autograd::{
    gradcheck, recurrence, ClassLossOptions, GruRule, LstmRule, NormStatistics, Reduction, RnnRule,
    Var,
};
use strata_tensor::{Rng, Tensor};

const TOL: f64 = 1e-2;

fn normal(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_normal(shape, 0.0, 1.0, &mut Rng::new(seed))
}

fn uniform(shape: &[usize], low: f32, high: f32, seed: u64) -> Tensor {
    Tensor::rand_uniform(shape, low, high, &mut Rng::new(seed))
}

fn check(f: impl Fn(&[Var]) -> Var, inputs: &[Tensor]) {
    gradcheck(f, inputs).unwrap().assert_within(TOL);
}

#[test]
fn softmax_cross_entropy_and_nll_with_options() {
    let targets = Tensor::from_vec(vec![2.0, 0.0, -1.0, 1.0], &[2, 2]);
    let options = ClassLossOptions {
        weight: Some(Tensor::from_vec(vec![1.0, 2.0, 0.5], &[3])),
        ignore_index: Some(-1),
        class_axis: Some(1),
        reduction: Reduction::Mean,
    };
    let logits = normal(&[2, 3, 2], 1);
    check(
        |v| v[0].softmax_cross_entropy(&targets, &options, 0.1),
        &[logits.clone()],
    );
    let summed = ClassLossOptions {
        reduction: Reduction::Sum,
        ..options.clone()
    };
    check(|v| v[0].nll(&targets, &summed), &[logits.clone()]);
    let per_row = ClassLossOptions {
        reduction: Reduction::None,
        ..options
    };
    let w = normal(&[2, 2], 2);
    check(
        |v| {
            v[0].softmax_cross_entropy(&targets, &per_row, 0.0)
                .mul(&Var::constant(w.clone()))
                .sum()
        },
        &[logits],
    );
}

#[test]
fn binary_cross_entropy_and_kl_terms() {
    let p = uniform(&[3, 2], 0.1, 0.9, 3);
    let y = uniform(&[3, 2], 0.0, 1.0, 4);
    check(|v| v[0].bce_terms(&v[1]).sum(), &[p.clone(), y.clone()]);
    let pos_weight = Tensor::from_vec(vec![2.0, 0.5], &[2]);
    check(
        |v| v[0].bce_with_logits_terms(&v[1], Some(&pos_weight)).sum(),
        &[normal(&[3, 2], 5), y],
    );
    let log_q = Var::constant(normal(&[2, 3], 6))
        .log_softmax(1)
        .value()
        .clone();
    check(
        |v| v[0].kl_div_terms(&v[1]).sum(),
        &[log_q, p.reshape(&[2, 3])],
    );
}

#[test]
fn norms_and_cosine_similarity() {
    for p in [1.5, 2.0, 3.0] {
        check(|v| v[0].norm_last_axis(p).sum(), &[normal(&[3, 4], 7)]);
    }
    check(
        |v| v[0].cosine_similarity(&v[1], 1, 1e-8).sum(),
        &[normal(&[3, 4], 8), normal(&[1, 4], 9)],
    );
}

#[test]
fn attention_softmax_with_blocked_scores() {
    let mask = Tensor::from_vec(vec![0.0, f32::NEG_INFINITY, 0.0, 0.0, 0.0, 0.0], &[2, 3]);
    let w = normal(&[2, 3], 10);
    check(
        |v| {
            v[0].add(&Var::constant(mask.clone()))
                .softmax_skipping_blocked()
                .mul(&Var::constant(w.clone()))
                .sum()
        },
        &[normal(&[2, 3], 11)],
    );
}

#[test]
fn batch_norm_with_batch_and_fixed_statistics() {
    let w = normal(&[4, 3, 2], 12);
    let weighted = |y: Var| y.mul(&Var::constant(w.clone())).sum();
    let inputs = [normal(&[4, 3, 2], 13), normal(&[3], 14), normal(&[3], 15)];
    check(
        |v| {
            weighted(
                v[0].batch_norm(Some(&v[1]), Some(&v[2]), NormStatistics::Batch, 1e-5)
                    .0,
            )
        },
        &inputs,
    );
    let (mean, var) = (normal(&[3], 16), uniform(&[3], 0.5, 2.0, 17));
    let fixed = NormStatistics::Fixed {
        mean: &mean,
        var: &var,
    };
    check(
        |v| weighted(v[0].batch_norm(Some(&v[1]), Some(&v[2]), fixed, 1e-5).0),
        &inputs,
    );
}

#[test]
fn recurrences_of_the_three_cells() {
    let (n, t, h) = (2, 3, 2);
    let w = normal(&[n, t, 2 * h], 18);
    let weighted = |y: Var| y.mul(&Var::constant(w.narrow(2, 0, y.shape()[2]))).sum();
    let run = |gates: usize, states: usize, f: &dyn Fn(&[Var]) -> Var| {
        let inputs = [
            normal(&[n, t, gates * h], 19).mul_scalar(0.5),
            normal(&[n, states * h], 20).mul_scalar(0.5),
            normal(&[gates * h, h], 21).mul_scalar(0.5),
            normal(&[gates * h], 22).mul_scalar(0.5),
        ];
        check(f, &inputs);
    };
    run(1, 1, &|v| {
        weighted(recurrence::<RnnRule>(&v[0], &v[1], &v[2], Some(&v[3])))
    });
    run(4, 2, &|v| {
        weighted(recurrence::<LstmRule>(&v[0], &v[1], &v[2], Some(&v[3])))
    });
    run(3, 1, &|v| {
        weighted(recurrence::<GruRule>(&v[0], &v[1], &v[2], Some(&v[3])))
    });
}
