//! Losses with PyTorch's options against PyTorch: float64 losses and input gradients computed
//! by PyTorch from the same float32 inputs, for every reduction
//! (`fixtures/make_loss_fixture.py` writes `fixtures/losses_io.safetensors`).

#[path = "common/pytorch_fixture.rs"]
mod pytorch_fixture;

use pytorch_fixture::{assert_matches_pytorch as assert_matches, Fixture};
use strata_modules::{
    cosine_similarity, BceLoss, BceWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, NllLoss,
    Reduction, TripletMarginLoss, Var,
};

const REDUCTIONS: [(&str, Reduction); 3] = [
    ("mean", Reduction::Mean),
    ("sum", Reduction::Sum),
    ("none", Reduction::None),
];

/// Checks case `case` of the fixture for each reduction: the loss of the tensors `inputs`
/// (`<case>.<input>`, tracked) and their gradients, of the loss itself or, unreduced, of
/// `Σ loss·<case>.upstream`.
#[track_caller]
fn check_case(
    fixture: &Fixture,
    case: &str,
    inputs: &[&str],
    loss: impl Fn(Reduction, &[Var]) -> Var,
) {
    for (name, reduction) in REDUCTIONS {
        let vars: Vec<Var> = inputs
            .iter()
            .map(|input| Var::leaf(fixture.get(&format!("{case}.{input}"))))
            .collect();
        let out = loss(reduction, &vars);
        let key = format!("{case}.{name}");
        assert_matches(&key, out.value(), &fixture.get(&key));
        let scalar = match reduction {
            Reduction::None => {
                let upstream = fixture.get(&format!("{case}.upstream"));
                out.mul(&Var::constant(upstream)).sum()
            }
            _ => out,
        };
        let grads = scalar.backward().unwrap();
        for (input, var) in inputs.iter().zip(&vars) {
            let grad = format!("{key}.grad_{input}");
            assert_matches(&grad, grads.get(var).unwrap(), &fixture.get(&grad));
        }
    }
}

#[test]
fn cross_entropy_with_class_weights_ignore_index_and_smoothing_matches_pytorch() {
    let fixture = Fixture::read("losses_io.safetensors");
    for (case, axis) in [("ce", -1), ("ce_axis1", 1)] {
        let targets = fixture.get(&format!("{case}.targets"));
        let loss = CrossEntropyLoss::new()
            .weight(fixture.get(&format!("{case}.weight")))
            .ignore_index(-100)
            .label_smoothing(0.1)
            .class_axis(axis);
        check_case(&fixture, case, &["x"], |reduction, v| {
            loss.clone().reduction(reduction).forward(&v[0], &targets)
        });
    }
}

#[test]
fn nll_loss_with_class_weights_and_ignore_index_matches_pytorch() {
    let fixture = Fixture::read("losses_io.safetensors");
    for (case, axis) in [("nll", -1), ("nll_axis1", 1)] {
        let targets = fixture.get(&format!("{case}.targets"));
        let loss = NllLoss::new()
            .weight(fixture.get(&format!("{case}.weight")))
            .ignore_index(-100)
            .class_axis(axis);
        check_case(&fixture, case, &["x"], |reduction, v| {
            loss.clone().reduction(reduction).forward(&v[0], &targets)
        });
    }
}

#[test]
fn bce_with_logits_pos_weight_and_weight_match_pytorch_for_logits_and_targets() {
    let fixture = Fixture::read("losses_io.safetensors");
    let loss = BceWithLogitsLoss::new()
        .pos_weight(fixture.get("bce_logits.pos_weight"))
        .weight(fixture.get("bce_logits.weight"));
    check_case(&fixture, "bce_logits", &["x", "y"], |reduction, v| {
        loss.clone().reduction(reduction).forward(&v[0], &v[1])
    });
}

#[test]
fn bce_with_weight_matches_pytorch() {
    let fixture = Fixture::read("losses_io.safetensors");
    let loss = BceLoss::new().weight(fixture.get("bce.weight"));
    check_case(&fixture, "bce", &["p", "y"], |reduction, v| {
        loss.clone().reduction(reduction).forward(&v[0], &v[1])
    });
}

#[test]
fn triplet_margin_loss_with_norm_degree_and_swap_matches_pytorch() {
    let fixture = Fixture::read("losses_io.safetensors");
    for (case, p, eps, swap) in [
        ("triplet_p1", 1.0, 1e-6, true),
        ("triplet_p3", 3.0, 0.1, true),
        ("triplet_p2", 2.0, 1e-6, false),
    ] {
        let loss = TripletMarginLoss::new().norm_degree(p).eps(eps).swap(swap);
        check_case(&fixture, case, &["a", "pos", "neg"], |reduction, v| {
            loss.reduction(reduction).forward(&v[0], &v[1], &v[2])
        });
    }
}

#[test]
fn cosine_similarity_matches_pytorch_with_zero_and_tiny_vectors_and_broadcasting() {
    let fixture = Fixture::read("losses_io.safetensors");
    // `cosine`: a zero row and a row of norm below eps in `a`; `cosine3d`: b broadcast.
    for case in ["cosine", "cosine3d"] {
        let get = |name: &str| fixture.get(&format!("{case}.{name}"));
        let (a, b) = (Var::leaf(get("a")), Var::leaf(get("b")));
        let out = cosine_similarity(&a, &b, 1, 1e-8);
        assert_matches(&format!("{case}.out"), out.value(), &get("out"));
        let grads = out
            .mul(&Var::constant(get("upstream")))
            .sum()
            .backward()
            .unwrap();
        for (name, var) in [("grad_a", &a), ("grad_b", &b)] {
            let what = format!("{case}.{name}");
            assert_matches(&what, grads.get(var).unwrap(), &get(name));
        }
    }
}

#[test]
fn cosine_embedding_loss_matches_pytorch() {
    let fixture = Fixture::read("losses_io.safetensors");
    let labels = fixture.get("cosine_embedding.y");
    check_case(&fixture, "cosine_embedding", &["a", "b"], |reduction, v| {
        CosineEmbeddingLoss::new()
            .margin(0.2)
            .reduction(reduction)
            .forward(&v[0], &v[1], &labels)
    });
}
