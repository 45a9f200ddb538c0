//! Losses against hand-computed values and finite differences.

use strata_autograd::{gradcheck, Var};
use strata_modules::{
    bce_loss, bce_with_logits, contrastive_loss, cosine_embedding_loss, cross_entropy, kl_div,
    l1_loss, mse_loss, nll_loss, triplet_margin_loss, Reduction,
};
use strata_tensor::{Rng, Tensor};

const TOL: f64 = 1e-2;

fn t(values: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape)
}

fn c(values: &[f32], shape: &[usize]) -> Var {
    Var::constant(t(values, shape))
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-5 * (1.0 + b.abs())
}

#[test]
fn regression_losses_by_hand() {
    let x = c(&[1.0, 2.0, 4.0], &[3]);
    let y = c(&[0.0, 2.0, 1.0], &[3]);
    // Differences 1, 0, 3.
    assert!(close(mse_loss(&x, &y, Reduction::Mean).item(), 10.0 / 3.0));
    assert!(close(mse_loss(&x, &y, Reduction::Sum).item(), 10.0));
    assert_eq!(
        mse_loss(&x, &y, Reduction::None).value().to_vec(),
        vec![1.0, 0.0, 9.0]
    );
    assert!(close(l1_loss(&x, &y, Reduction::Mean).item(), 4.0 / 3.0));
    gradcheck(
        |v| mse_loss(&v[0], &v[1], Reduction::Mean),
        &[t(&[0.3, -1.0], &[2]), t(&[1.0, 0.5], &[2])],
    )
    .unwrap()
    .assert_within(TOL);
    gradcheck(
        |v| l1_loss(&v[0], &v[1], Reduction::Sum),
        &[t(&[0.3, -1.0], &[2]), t(&[1.0, 0.5], &[2])],
    )
    .unwrap()
    .assert_within(TOL);
}

#[test]
fn binary_cross_entropy_by_hand_and_stable() {
    // p = 0.8 with y = 1: −ln 0.8; p = 0.25 with y = 0: −ln 0.75.
    let p = c(&[0.8, 0.25], &[2]);
    let y = c(&[1.0, 0.0], &[2]);
    let expected = -(0.8f32.ln() + 0.75f32.ln()) / 2.0;
    assert!(close(bce_loss(&p, &y, Reduction::Mean).item(), expected));
    // A probability of exactly 0 for a positive gives the clamped 100, not infinity.
    assert_eq!(
        bce_loss(&c(&[0.0], &[1]), &c(&[1.0], &[1]), Reduction::Sum).item(),
        100.0
    );
    gradcheck(
        |v| bce_loss(&v[0], &v[1], Reduction::Mean),
        &[t(&[0.3, 0.9, 0.5], &[3]), t(&[1.0, 0.0, 0.3], &[3])],
    )
    .unwrap()
    .assert_within(TOL);

    // On logits: logit ln 4 (p = 0.8) with y = 1 gives −ln 0.8.
    let logits = c(&[4f32.ln()], &[1]);
    assert!(close(
        bce_with_logits(&logits, &c(&[1.0], &[1]), Reduction::Sum).item(),
        -(0.8f32.ln())
    ));
    // |x| = 100: finite, with the right limits (0 when right, |x| when wrong).
    let extreme = c(&[100.0, -100.0, 100.0, -100.0], &[4]);
    let targets = c(&[1.0, 0.0, 0.0, 1.0], &[4]);
    let losses = bce_with_logits(&extreme, &targets, Reduction::None)
        .value()
        .to_vec();
    // ln(1 + e⁻¹⁰⁰) ≈ 3.7e-44 when right; 100 when wrong.
    assert!(
        losses[..2].iter().all(|&l| (0.0..1e-40).contains(&l)),
        "{losses:?}"
    );
    assert_eq!(&losses[2..], &[100.0, 100.0]);
    let x = Var::leaf(t(&[100.0, -100.0], &[2]));
    let grads = bce_with_logits(&x, &c(&[0.0, 1.0], &[2]), Reduction::Sum)
        .backward()
        .unwrap();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![1.0, -1.0]);
    gradcheck(
        |v| bce_with_logits(&v[0], &v[1], Reduction::Mean),
        &[t(&[0.3, -2.0, 1.5], &[3]), t(&[1.0, 0.0, 0.3], &[3])],
    )
    .unwrap()
    .assert_within(TOL);
}

#[test]
fn cross_entropy_by_hand_with_and_without_smoothing() {
    // Logits [0, ln 3]: p = [1/4, 3/4].
    let logits = c(&[0.0, 3f32.ln(), 3f32.ln(), 0.0], &[2, 2]);
    let targets = t(&[1.0, 1.0], &[2]);
    let expected = -(0.75f32.ln() + 0.25f32.ln()) / 2.0;
    assert!(close(
        cross_entropy(&logits, &targets, 0.0, Reduction::Mean).item(),
        expected
    ));
    // Smoothing ε = 0.2 over 2 classes: target (0.1, 0.9) for class 1.
    let row = c(&[0.0, 3f32.ln()], &[1, 2]);
    let smoothed = cross_entropy(&row, &t(&[1.0], &[1]), 0.2, Reduction::Sum).item();
    assert!(close(smoothed, -(0.1 * 0.25f32.ln() + 0.9 * 0.75f32.ln())));
    let x = Tensor::rand_normal(&[4, 5], 0.0, 2.0, &mut Rng::new(3));
    let ids = t(&[0.0, 4.0, 2.0, 2.0], &[4]);
    for eps in [0.0, 0.1] {
        gradcheck(
            |v| cross_entropy(&v[0], &ids, eps, Reduction::Mean),
            std::slice::from_ref(&x),
        )
        .unwrap()
        .assert_within(TOL);
    }
    gradcheck(
        |v| cross_entropy(&v[0], &ids, 0.0, Reduction::None),
        std::slice::from_ref(&x),
    )
    .unwrap()
    .assert_within(TOL);
    // Sequences: [N, T, C] logits with [N, T] targets.
    let seq = Tensor::rand_normal(&[2, 3, 4], 0.0, 1.0, &mut Rng::new(4));
    let seq_ids = t(&[0.0, 1.0, 2.0, 3.0, 0.0, 1.0], &[2, 3]);
    gradcheck(
        |v| cross_entropy(&v[0], &seq_ids, 0.0, Reduction::Mean),
        &[seq],
    )
    .unwrap()
    .assert_within(TOL);
    // NLL on log-softmax equals cross-entropy.
    let via_nll = nll_loss(
        &Var::constant(x.clone()).log_softmax(-1),
        &ids,
        Reduction::Mean,
    )
    .item();
    let direct = cross_entropy(&Var::constant(x), &ids, 0.0, Reduction::Mean).item();
    assert!(close(via_nll, direct));
}

#[test]
fn class_targets_are_checked() {
    let logits = c(&[0.0; 6], &[2, 3]);
    let err = strata_modules::loss::try_cross_entropy(
        &logits,
        &t(&[0.0, 3.0], &[2]),
        0.0,
        Reduction::Mean,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cross_entropy: target 3 is not a class index in 0..3"
    );
    let err =
        strata_modules::loss::try_cross_entropy(&logits, &t(&[0.0], &[1]), 0.0, Reduction::Mean)
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cross_entropy: logits [2, 3] need classes on the last axis and targets shaped like the rest, found targets [1]"
    );
    let err =
        strata_modules::loss::try_mse_loss(&logits, &c(&[0.0], &[1]), Reduction::Mean).unwrap_err();
    assert_eq!(
        err.to_string(),
        "mse_loss: input [2, 3] and target [1] differ"
    );
}

#[test]
fn kl_divergence_by_hand() {
    // p = (1/2, 1/2), q = (1/4, 3/4): KL = ½ln2 + ½ln(2/3).
    let log_q = c(&[0.25f32.ln(), 0.75f32.ln()], &[1, 2]);
    let p = c(&[0.5, 0.5], &[1, 2]);
    let expected = 0.5 * 2f32.ln() + 0.5 * (2.0f32 / 3.0).ln();
    assert!(close(kl_div(&log_q, &p, Reduction::Mean).item(), expected));
    // Zero-probability targets contribute nothing (and no NaN).
    let zero = kl_div(&log_q, &c(&[0.0, 1.0], &[1, 2]), Reduction::Sum).item();
    assert!(close(zero, -(0.75f32.ln())));
    let lq = Tensor::rand_normal(&[3, 4], 0.0, 1.0, &mut Rng::new(5));
    let pt = Tensor::rand_uniform(&[3, 4], 0.1, 1.0, &mut Rng::new(6));
    gradcheck(
        |v| kl_div(&v[0].log_softmax(-1), &v[1], Reduction::Mean),
        &[lq, pt],
    )
    .unwrap()
    .assert_within(TOL);
}

#[test]
fn metric_learning_losses_by_hand() {
    let a = c(&[0.0, 0.0, 1.0, 0.0], &[2, 2]);
    let b = c(&[3.0, 4.0, 0.0, 1.0], &[2, 2]);
    // Distances 5 and √2 (up to the 1e-6 inside the square root).
    let same = t(&[1.0, 0.0], &[2]);
    let contrastive = contrastive_loss(&a, &b, &same, 2.0, Reduction::None)
        .value()
        .to_vec();
    assert!(close(contrastive[0], 25.0));
    assert!(close(contrastive[1], (2.0 - 2f32.sqrt()).powi(2)));
    // Cosine: rows (1,0)·(0,1) = 0 → y = 1 gives 1 − 0 = 1; y = −1 with margin 0 gives 0.
    let cos = cosine_embedding_loss(
        &c(&[1.0, 0.0], &[1, 2]),
        &c(&[0.0, 1.0], &[1, 2]),
        &t(&[1.0], &[1]),
        0.0,
        Reduction::Sum,
    );
    assert!(close(cos.item(), 1.0));
    // Triplet: d(a,p) = 1, d(a,n) = 3, margin 1 → max(0, 1 − 3 + 1) = 0; margin 3 → 1.
    let anchor = c(&[0.0, 0.0], &[1, 2]);
    let positive = c(&[1.0, 0.0], &[1, 2]);
    let negative = c(&[0.0, 3.0], &[1, 2]);
    assert!(close(
        triplet_margin_loss(&anchor, &positive, &negative, 1.0, Reduction::Sum).item(),
        0.0
    ));
    assert!(close(
        triplet_margin_loss(&anchor, &positive, &negative, 3.0, Reduction::Sum).item(),
        1.0
    ));

    let mut rng = Rng::new(8);
    let mut r = |n| Tensor::rand_normal(&[3, n], 0.0, 1.0, &mut rng);
    let (x, y, z) = (r(4), r(4), r(4));
    let labels = t(&[1.0, 0.0, 1.0], &[3]);
    let signs = t(&[1.0, -1.0, -1.0], &[3]);
    gradcheck(
        |v| contrastive_loss(&v[0], &v[1], &labels, 3.0, Reduction::Mean),
        &[x.clone(), y.clone()],
    )
    .unwrap()
    .assert_within(TOL);
    gradcheck(
        |v| cosine_embedding_loss(&v[0], &v[1], &signs, -0.5, Reduction::Mean),
        &[x.clone(), y.clone()],
    )
    .unwrap()
    .assert_within(TOL);
    gradcheck(
        |v| triplet_margin_loss(&v[0], &v[1], &v[2], 5.0, Reduction::Mean),
        &[x, y, z],
    )
    .unwrap()
    .assert_within(TOL);
}
