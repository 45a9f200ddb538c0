//! Losses against hand-computed values and finite differences.

use strata_autograd::{gradcheck, Var};
use strata_modules::{
    bce_loss, bce_with_logits, cosine_similarity, cross_entropy, l1_loss, mse_loss, nll_loss,
    BceLoss, BceWithLogitsLoss, ContrastiveLoss, CosineEmbeddingLoss, CrossEntropyLoss, KlDivLoss,
    L1Loss, MseLoss, NllLoss, Reduction, TripletMarginLoss,
};
use strata_tensor::{ErrorKind, Rng, Tensor};

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
    assert!(close(mse_loss(&x, &y).item(), 10.0 / 3.0));
    assert!(close(
        MseLoss::new()
            .reduction(Reduction::Sum)
            .forward(&x, &y)
            .item(),
        10.0
    ));
    assert_eq!(
        MseLoss::new()
            .reduction(Reduction::None)
            .forward(&x, &y)
            .value()
            .to_vec(),
        vec![1.0, 0.0, 9.0]
    );
    assert!(close(l1_loss(&x, &y).item(), 4.0 / 3.0));
    gradcheck(
        |v| mse_loss(&v[0], &v[1]),
        &[t(&[0.3, -1.0], &[2]), t(&[1.0, 0.5], &[2])],
    )
    .unwrap()
    .assert_within(TOL);
    gradcheck(
        |v| {
            L1Loss::new()
                .reduction(Reduction::Sum)
                .forward(&v[0], &v[1])
        },
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
    assert!(close(bce_loss(&p, &y).item(), expected));
    // A probability of exactly 0 for a positive gives the clamped 100, not infinity.
    assert_eq!(
        BceLoss::new()
            .reduction(Reduction::Sum)
            .forward(&c(&[0.0], &[1]), &c(&[1.0], &[1]))
            .item(),
        100.0
    );
    gradcheck(
        |v| bce_loss(&v[0], &v[1]),
        &[t(&[0.3, 0.9, 0.5], &[3]), t(&[1.0, 0.0, 0.3], &[3])],
    )
    .unwrap()
    .assert_within(TOL);

    // On logits: logit ln 4 (p = 0.8) with y = 1 gives −ln 0.8.
    let logits = c(&[4f32.ln()], &[1]);
    assert!(close(
        BceWithLogitsLoss::new()
            .reduction(Reduction::Sum)
            .forward(&logits, &c(&[1.0], &[1]))
            .item(),
        -(0.8f32.ln())
    ));
    // |x| = 100: finite, with the right limits (0 when right, |x| when wrong).
    let extreme = c(&[100.0, -100.0, 100.0, -100.0], &[4]);
    let targets = c(&[1.0, 0.0, 0.0, 1.0], &[4]);
    let losses = BceWithLogitsLoss::new()
        .reduction(Reduction::None)
        .forward(&extreme, &targets)
        .value()
        .to_vec();
    // ln(1 + e⁻¹⁰⁰) ≈ 3.7e-44 when right; 100 when wrong.
    assert!(
        losses[..2].iter().all(|&l| (0.0..1e-40).contains(&l)),
        "{losses:?}"
    );
    assert_eq!(&losses[2..], &[100.0, 100.0]);
    let x = Var::leaf(t(&[100.0, -100.0], &[2]));
    let grads = BceWithLogitsLoss::new()
        .reduction(Reduction::Sum)
        .forward(&x, &c(&[0.0, 1.0], &[2]))
        .backward()
        .unwrap();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![1.0, -1.0]);
    gradcheck(
        |v| bce_with_logits(&v[0], &v[1]),
        &[t(&[0.3, -2.0, 1.5], &[3]), t(&[1.0, 0.0, 0.3], &[3])],
    )
    .unwrap()
    .assert_within(TOL);
}

#[test]
fn binary_cross_entropy_weights_by_hand_and_gradcheck() {
    // pos_weight [C] along the last axis, weight [N, 1] across it: logit 0 costs ln 2 per
    // count, a positive label counting pos_weight times.
    let x = c(&[0.0; 4], &[2, 2]);
    let y = c(&[1.0, 1.0, 0.0, 1.0], &[2, 2]);
    let loss = BceWithLogitsLoss::new()
        .pos_weight(t(&[2.0, 3.0], &[2]))
        .weight(t(&[1.0, 0.5], &[2, 1]))
        .reduction(Reduction::None)
        .forward(&x, &y);
    let ln2 = 2f32.ln();
    let want = [2.0 * ln2, 3.0 * ln2, 0.5 * ln2, 1.5 * ln2];
    for (got, want) in loss.value().to_vec().into_iter().zip(want) {
        assert!(close(got, want), "{got} {want}");
    }
    // Stable at any finite logit: a positive with logit −100 costs pos_weight·100.
    let far = BceWithLogitsLoss::new()
        .pos_weight(t(&[4.0], &[1]))
        .reduction(Reduction::Sum)
        .forward(&c(&[-100.0], &[1]), &c(&[1.0], &[1]));
    assert_eq!(far.item(), 400.0);

    let logits = Tensor::rand_normal(&[3, 4], 0.0, 2.0, &mut Rng::new(9));
    let targets = Tensor::rand_uniform(&[3, 4], 0.0, 1.0, &mut Rng::new(10));
    for reduction in [Reduction::Mean, Reduction::None] {
        let loss = BceWithLogitsLoss::new()
            .pos_weight(t(&[0.5, 1.0, 2.0, 3.0], &[4]))
            .weight(t(&[1.0, 2.0, 0.5], &[3, 1]))
            .reduction(reduction);
        gradcheck(
            |v| loss.forward(&v[0], &v[1]),
            &[logits.clone(), targets.clone()],
        )
        .unwrap()
        .assert_within(TOL);
    }
    let probabilities = Tensor::rand_uniform(&[3, 4], 0.1, 0.9, &mut Rng::new(11));
    let loss = BceLoss::new().weight(t(&[0.5, 1.0, 2.0, 3.0], &[4]));
    gradcheck(
        |v| loss.forward(&v[0], &v[1]),
        &[probabilities, targets.clone()],
    )
    .unwrap()
    .assert_within(TOL);

    let err = BceWithLogitsLoss::new()
        .pos_weight(t(&[1.0; 3], &[3]))
        .try_forward(&c(&[0.0; 4], &[2, 2]), &c(&[0.0; 4], &[2, 2]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bce_with_logits: pos_weight [3] does not broadcast to the input [2, 2]"
    );
    let err = BceLoss::new()
        .weight(t(&[1.0; 4], &[4, 1]))
        .try_forward(&c(&[0.5; 4], &[2, 2]), &c(&[0.0; 4], &[2, 2]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bce_loss: weight [4, 1] does not broadcast to the input [2, 2]"
    );
}

#[test]
fn cross_entropy_by_hand_with_and_without_smoothing() {
    // Logits [0, ln 3]: p = [1/4, 3/4].
    let logits = c(&[0.0, 3f32.ln(), 3f32.ln(), 0.0], &[2, 2]);
    let targets = t(&[1.0, 1.0], &[2]);
    let expected = -(0.75f32.ln() + 0.25f32.ln()) / 2.0;
    assert!(close(cross_entropy(&logits, &targets).item(), expected));
    // Smoothing ε = 0.2 over 2 classes: target (0.1, 0.9) for class 1.
    let row = c(&[0.0, 3f32.ln()], &[1, 2]);
    let smoothed = CrossEntropyLoss::new()
        .label_smoothing(0.2)
        .reduction(Reduction::Sum)
        .forward(&row, &t(&[1.0], &[1]))
        .item();
    assert!(close(smoothed, -(0.1 * 0.25f32.ln() + 0.9 * 0.75f32.ln())));
    let x = Tensor::rand_normal(&[4, 5], 0.0, 2.0, &mut Rng::new(3));
    let ids = t(&[0.0, 4.0, 2.0, 2.0], &[4]);
    for eps in [0.0, 0.1] {
        gradcheck(
            |v| {
                CrossEntropyLoss::new()
                    .label_smoothing(eps)
                    .forward(&v[0], &ids)
            },
            std::slice::from_ref(&x),
        )
        .unwrap()
        .assert_within(TOL);
    }
    gradcheck(
        |v| {
            CrossEntropyLoss::new()
                .reduction(Reduction::None)
                .forward(&v[0], &ids)
        },
        std::slice::from_ref(&x),
    )
    .unwrap()
    .assert_within(TOL);
    // Sequences: [N, T, C] logits with [N, T] targets.
    let seq = Tensor::rand_normal(&[2, 3, 4], 0.0, 1.0, &mut Rng::new(4));
    let seq_ids = t(&[0.0, 1.0, 2.0, 3.0, 0.0, 1.0], &[2, 3]);
    gradcheck(|v| cross_entropy(&v[0], &seq_ids), &[seq])
        .unwrap()
        .assert_within(TOL);
    // NLL on log-softmax equals cross-entropy.
    let via_nll = nll_loss(&Var::constant(x.clone()).log_softmax(-1), &ids).item();
    let direct = cross_entropy(&Var::constant(x), &ids).item();
    assert!(close(via_nll, direct));
}

#[test]
fn class_targets_are_checked() {
    let logits = c(&[0.0; 6], &[2, 3]);
    let err = strata_modules::loss::try_cross_entropy(&logits, &t(&[0.0, 3.0], &[2])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cross_entropy: target 3 is not a class index in 0..3"
    );
    let err = strata_modules::loss::try_cross_entropy(&logits, &t(&[0.0], &[1])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cross_entropy: logits [2, 3] need classes on the last axis and targets shaped like the rest, found targets [1]"
    );
    let err = strata_modules::loss::try_mse_loss(&logits, &c(&[0.0], &[1])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "mse_loss: input [2, 3] and target [1] differ"
    );
}

#[test]
fn class_weights_and_ignored_targets_by_hand() {
    // Rows [0, ln 3] and [ln 3, 0] (p = [¼, ¾] and [¾, ¼]) with target 1, weight 3; a third
    // row ignored. Mean divides by the weights of the targets counted: (3·a + 3·b) / 6.
    let logits = c(&[0.0, 3f32.ln(), 3f32.ln(), 0.0, 5.0, 5.0], &[3, 2]);
    let targets = t(&[1.0, 1.0, -100.0], &[3]);
    let loss = CrossEntropyLoss::new()
        .weight(t(&[1.0, 3.0], &[2]))
        .ignore_index(-100);
    let mean = loss.forward(&logits, &targets).item();
    assert!(close(mean, -(0.75f32.ln() + 0.25f32.ln()) / 2.0));
    let each = loss
        .clone()
        .reduction(Reduction::None)
        .forward(&logits, &targets);
    let want = [-3.0 * 0.75f32.ln(), -3.0 * 0.25f32.ln(), 0.0];
    for (got, want) in each.value().to_vec().into_iter().zip(want) {
        assert!(close(got, want), "{got} {want}");
    }
    // The ignored index may be a class; every target ignored gives NaN under Mean, as in
    // PyTorch (0/0), and no gradient.
    let class_zero_ignored = CrossEntropyLoss::new()
        .ignore_index(0)
        .forward(&logits, &t(&[1.0, 0.0, 0.0], &[3]));
    assert!(close(class_zero_ignored.item(), -(0.75f32.ln())));
    let x = Var::leaf(t(&[1.0, 2.0], &[1, 2]));
    let nothing = CrossEntropyLoss::new()
        .ignore_index(-100)
        .forward(&x, &t(&[-100.0], &[1]));
    assert!(nothing.item().is_nan());
    let grads = nothing.backward().unwrap();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![0.0, 0.0]);
    // NLL: −w_t·x_t over Σ w_t.
    let log_probs = c(&[-1.0, -2.0, -3.0, -4.0, -5.0, -6.0], &[3, 2]);
    let nll = NllLoss::new()
        .weight(t(&[3.0, 1.0], &[2]))
        .ignore_index(-100)
        .forward(&log_probs, &t(&[1.0, 0.0, -100.0], &[3]));
    assert_eq!(nll.item(), (2.0 + 3.0 * 3.0) / 4.0);
}

#[test]
fn classes_on_axis_one_equal_classes_last_after_a_permutation() {
    // [N, C, L] logits with PyTorch's layout against the same logits moved to [N, L, C].
    let x = Tensor::rand_normal(&[2, 3, 4], 0.0, 1.5, &mut Rng::new(12));
    let targets = t(&[2.0, 0.0, 1.0, 1.0, 0.0, 2.0, 2.0, 1.0], &[2, 4]);
    let weight = t(&[0.5, 2.0, 1.0], &[3]);
    let axis_one = CrossEntropyLoss::new()
        .weight(weight.clone())
        .label_smoothing(0.2)
        .reduction(Reduction::None);
    let got = axis_one
        .clone()
        .class_axis(1)
        .forward(&c(&x.to_vec(), &[2, 3, 4]), &targets);
    let last = axis_one.forward(&Var::constant(x.permute(&[0, 2, 1])), &targets);
    assert_eq!(got.shape(), &[2, 4]);
    for (a, b) in got.value().to_vec().iter().zip(last.value().to_vec()) {
        assert!(close(*a, b), "{a} {b}");
    }
}

#[test]
fn class_options_gradcheck() {
    // PyTorch's layout [N, C, L] with class weights, an ignored target and smoothing.
    let x = Tensor::rand_normal(&[2, 3, 2], 0.0, 1.5, &mut Rng::new(11));
    let targets = t(&[2.0, -100.0, 0.0, 1.0], &[2, 2]);
    let weight = t(&[0.5, 2.0, 1.0], &[3]);
    let cases = [
        (0.0, Reduction::Mean),
        (0.2, Reduction::Mean),
        (0.2, Reduction::None),
        (0.1, Reduction::Sum),
    ];
    for (eps, reduction) in cases {
        let loss = CrossEntropyLoss::new()
            .weight(weight.clone())
            .ignore_index(-100)
            .class_axis(1)
            .label_smoothing(eps)
            .reduction(reduction);
        gradcheck(|v| loss.forward(&v[0], &targets), std::slice::from_ref(&x))
            .unwrap()
            .assert_within(TOL);
    }
    for reduction in [Reduction::Mean, Reduction::None] {
        let loss = NllLoss::new()
            .weight(weight.clone())
            .ignore_index(-100)
            .class_axis(1)
            .reduction(reduction);
        gradcheck(
            |v| loss.forward(&v[0].log_softmax(1), &targets),
            std::slice::from_ref(&x),
        )
        .unwrap()
        .assert_within(TOL);
    }
}

#[test]
fn class_options_are_checked() {
    let logits = c(&[0.0; 6], &[2, 3]);
    let targets = t(&[0.0, 2.0], &[2]);
    let message = |loss: CrossEntropyLoss, logits: &Var, targets: &Tensor| {
        loss.try_forward(logits, targets).unwrap_err().to_string()
    };
    assert_eq!(
        message(
            CrossEntropyLoss::new().weight(t(&[1.0, 1.0], &[2])),
            &logits,
            &targets
        ),
        "cross_entropy: weight [2] needs one value per class, [3] for logits [2, 3]"
    );
    assert_eq!(
        message(CrossEntropyLoss::new().class_axis(2), &logits, &targets),
        "cross_entropy: axis 2 is out of range for a tensor with 2 dimensions"
    );
    assert_eq!(
        message(
            CrossEntropyLoss::new().class_axis(1),
            &c(&[0.0; 24], &[2, 3, 4]),
            &t(&[0.0; 6], &[2, 3])
        ),
        "cross_entropy: logits [2, 3, 4] need classes on axis 1 and targets shaped like the \
         rest, found targets [2, 3]"
    );
    assert_eq!(
        message(
            CrossEntropyLoss::new().label_smoothing(1.5),
            &logits,
            &targets
        ),
        "cross_entropy: label smoothing must be in [0, 1], found 1.5"
    );
    // −100 is a target like any other unless it is the ignored index.
    assert_eq!(
        message(CrossEntropyLoss::new(), &logits, &t(&[0.0, -100.0], &[2])),
        "cross_entropy: target -100 is not a class index in 0..3"
    );
    let err = NllLoss::new()
        .ignore_index(-1)
        .try_forward(&logits, &t(&[-1.0, 3.0], &[2]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "nll_loss: target 3 is not a class index in 0..3"
    );
}

#[test]
fn kl_divergence_by_hand() {
    // p = (1/2, 1/2), q = (1/4, 3/4): KL = ½ln2 + ½ln(2/3).
    let log_q = c(&[0.25f32.ln(), 0.75f32.ln()], &[1, 2]);
    let p = c(&[0.5, 0.5], &[1, 2]);
    let expected = 0.5 * 2f32.ln() + 0.5 * (2.0f32 / 3.0).ln();
    assert!(close(
        KlDivLoss::new()
            .reduction(Reduction::BatchMean)
            .forward(&log_q, &p)
            .item(),
        expected
    ));
    // Zero-probability targets contribute nothing (and no NaN).
    let zero = KlDivLoss::new()
        .reduction(Reduction::Sum)
        .forward(&log_q, &c(&[0.0, 1.0], &[1, 2]))
        .item();
    assert!(close(zero, -(0.75f32.ln())));
    let lq = Tensor::rand_normal(&[3, 4], 0.0, 1.0, &mut Rng::new(5));
    let pt = Tensor::rand_uniform(&[3, 4], 0.1, 1.0, &mut Rng::new(6));
    gradcheck(
        |v| {
            KlDivLoss::new()
                .reduction(Reduction::BatchMean)
                .forward(&v[0].log_softmax(-1), &v[1])
        },
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
    let contrastive = ContrastiveLoss::new()
        .margin(2.0)
        .reduction(Reduction::None)
        .forward(&a, &b, &same)
        .value()
        .to_vec();
    assert!(close(contrastive[0], 25.0));
    assert!(close(contrastive[1], (2.0 - 2f32.sqrt()).powi(2)));
    // Cosine: rows (1,0)·(0,1) = 0 → y = 1 gives 1 − 0 = 1; y = −1 with margin 0 gives 0.
    let cos = CosineEmbeddingLoss::new()
        .reduction(Reduction::Sum)
        .forward(
            &c(&[1.0, 0.0], &[1, 2]),
            &c(&[0.0, 1.0], &[1, 2]),
            &t(&[1.0], &[1]),
        );
    assert!(close(cos.item(), 1.0));
    // Triplet: d(a,p) = 1, d(a,n) = 3, margin 1 → max(0, 1 − 3 + 1) = 0; margin 3 → 1.
    let anchor = c(&[0.0, 0.0], &[1, 2]);
    let positive = c(&[1.0, 0.0], &[1, 2]);
    let negative = c(&[0.0, 3.0], &[1, 2]);
    assert!(close(
        TripletMarginLoss::new()
            .reduction(Reduction::Sum)
            .forward(&anchor, &positive, &negative)
            .item(),
        0.0
    ));
    assert!(close(
        TripletMarginLoss::new()
            .margin(3.0)
            .reduction(Reduction::Sum)
            .forward(&anchor, &positive, &negative)
            .item(),
        1.0
    ));

    let mut rng = Rng::new(8);
    let mut r = |n| Tensor::rand_normal(&[3, n], 0.0, 1.0, &mut rng);
    let (x, y, z) = (r(4), r(4), r(4));
    let labels = t(&[1.0, 0.0, 1.0], &[3]);
    let signs = t(&[1.0, -1.0, -1.0], &[3]);
    gradcheck(
        |v| {
            ContrastiveLoss::new()
                .margin(3.0)
                .forward(&v[0], &v[1], &labels)
        },
        &[x.clone(), y.clone()],
    )
    .unwrap()
    .assert_within(TOL);
    gradcheck(
        |v| {
            CosineEmbeddingLoss::new()
                .margin(-0.5)
                .forward(&v[0], &v[1], &signs)
        },
        &[x.clone(), y.clone()],
    )
    .unwrap()
    .assert_within(TOL);
    gradcheck(
        |v| {
            TripletMarginLoss::new()
                .margin(5.0)
                .forward(&v[0], &v[1], &v[2])
        },
        &[x, y, z],
    )
    .unwrap()
    .assert_within(TOL);
}

#[test]
fn triplet_options_by_hand_and_gradcheck() {
    let row = |v: &[f32]| c(v, &[1, 2]);
    let (anchor, positive, negative) = (row(&[0.0, 0.0]), row(&[1.0, 0.0]), row(&[0.0, 3.0]));
    // eps is added to the difference (PyTorch's pairwise_distance): ‖a − p + ε‖₂ with ε = ½
    // is ‖(−½, ½)‖ = √½, and ‖a − n + ε‖₂ = ‖(½, −2½)‖ = √6.5.
    let loss = TripletMarginLoss::new()
        .eps(0.5)
        .margin(3.0)
        .forward(&anchor, &positive, &negative);
    assert!(close(loss.item(), 0.5f32.sqrt() - 6.5f32.sqrt() + 3.0));
    // p = 3: ‖(−1, 0)‖₃ = 1 and ‖(0, −3)‖₃ = 3; swapped, the negative is ‖(1, −3)‖₃ = 28^⅓ away
    // from the positive, farther than 3, so the swap changes nothing here.
    let cubic = TripletMarginLoss::new()
        .norm_degree(3.0)
        .eps(0.0)
        .margin(3.0);
    let plain = cubic.forward(&anchor, &positive, &negative).item();
    assert!(close(plain, 1.0));
    assert_eq!(
        cubic
            .swap(true)
            .forward(&anchor, &positive, &negative)
            .item(),
        plain
    );
    // An anchor equal to its positive (distance 0 with eps 0) gets a finite gradient.
    let a = Var::leaf(t(&[1.0, 2.0], &[1, 2]));
    let grads = TripletMarginLoss::new()
        .eps(0.0)
        .forward(&a, &c(&[1.0, 2.0], &[1, 2]), &c(&[1.5, 2.0], &[1, 2]))
        .backward()
        .unwrap();
    assert_eq!(grads.get(&a).unwrap().to_vec(), vec![1.0, 0.0]);

    let mut rng = Rng::new(13);
    let mut r = || Tensor::rand_normal(&[4, 3], 0.0, 1.0, &mut rng);
    let (x, y) = (r(), r());
    // Negatives near the positives, so that the swap picks d(p, n) on some rows.
    let z = y.add(&r().mul_scalar(0.3));
    for (p, swap) in [(1.0, true), (3.0, true), (2.0, false)] {
        let loss = TripletMarginLoss::new()
            .norm_degree(p)
            .swap(swap)
            .margin(2.0)
            .reduction(Reduction::None);
        gradcheck(
            |v| loss.forward(&v[0], &v[1], &v[2]),
            &[x.clone(), y.clone(), z.clone()],
        )
        .unwrap()
        .assert_within(TOL);
    }
    let err = TripletMarginLoss::new()
        .norm_degree(0.0)
        .try_forward(&anchor, &positive, &negative)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "triplet_margin_loss: the norm degree p must be positive and finite, found 0"
    );
}

#[test]
fn cosine_similarity_by_hand_and_gradcheck() {
    // Each norm is clamped at eps separately: a zero vector has similarity 0 and a finite
    // gradient b/(eps·‖b‖).
    let a = Var::leaf(t(&[0.0, 0.0, 3.0, 4.0], &[2, 2]));
    let b = Var::leaf(t(&[0.0, 2.0, 4.0, -3.0], &[2, 2]));
    let cos = cosine_similarity(&a, &b, -1, 0.5);
    assert_eq!(cos.value().to_vec(), vec![0.0, 0.0]);
    let grads = cos.sum().backward().unwrap();
    assert_eq!(grads.get(&a).unwrap().to_vec()[..2], [0.0, 2.0]);
    // Along axis 0 of [3, 2, 2], b broadcast from [3, 1, 2].
    let x = Tensor::rand_normal(&[3, 2, 2], 0.0, 1.0, &mut Rng::new(14));
    let y = Tensor::rand_normal(&[3, 1, 2], 0.0, 1.0, &mut Rng::new(15));
    gradcheck(|v| cosine_similarity(&v[0], &v[1], 0, 1e-8), &[x, y])
        .unwrap()
        .assert_within(TOL);
    let err = strata_modules::loss::try_cosine_similarity(
        &c(&[0.0; 6], &[2, 3]),
        &c(&[0.0; 4], &[2, 2]),
        1,
        1e-8,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ShapeMismatch);
    // The cosine-embedding loss takes labels 1 and −1 only (PyTorch silently scores others 0).
    let err = strata_modules::loss::try_cosine_embedding_loss(
        &c(&[1.0, 0.0], &[1, 2]),
        &c(&[0.0, 1.0], &[1, 2]),
        &t(&[0.0], &[1]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cosine_embedding_loss: labels must be 1 or -1, found 0"
    );
}
