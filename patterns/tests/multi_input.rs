//! Multi-input encoders: fusion values against hand computations, misuse errors, the shared
//! Siamese encoder's summed gradients, nearest-neighbour accuracy against a naive loop, and
//! the multimodal, metric-learning and relation recipes' held-out results.

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // the tests use some of the shared recipes
#[path = "../examples/support/mod.rs"]
mod support;

use strata_modules::{Dense, Module, Params, Var};
use strata_patterns::{nearest_neighbour_accuracy, Fusion, MultiInput, Relation, Siamese};
use strata_tensor::{Rng, Tensor};
use support::data::digits_split;
use support::SPLIT_SEED;

fn codes(rng: &mut Rng) -> [Tensor; 2] {
    [
        Tensor::rand_normal(&[3, 4], 0.0, 1.0, rng),
        Tensor::rand_normal(&[3, 4], 0.0, 1.0, rng),
    ]
}

fn fuse(fusion: &Fusion, codes: &[Tensor]) -> Vec<f32> {
    let vars: Vec<Var> = codes.iter().cloned().map(Var::constant).collect();
    fusion.fuse(&vars).value().to_vec()
}

fn assert_close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
    }
}

#[test]
fn concat_sum_and_product_fuse_element_by_element() {
    let [a, b] = codes(&mut Rng::new(1));
    let (av, bv) = (a.to_vec(), b.to_vec());
    let concat: Vec<f32> = (0..3)
        .flat_map(|r| {
            av[r * 4..r * 4 + 4]
                .iter()
                .chain(&bv[r * 4..r * 4 + 4])
                .copied()
        })
        .collect();
    let sum: Vec<f32> = av.iter().zip(&bv).map(|(x, y)| x + y).collect();
    let product: Vec<f32> = av.iter().zip(&bv).map(|(x, y)| x * y).collect();
    let both = [a, b];
    assert_close(&fuse(&Fusion::Concat, &both), &concat);
    assert_close(&fuse(&Fusion::Sum, &both), &sum);
    assert_close(&fuse(&Fusion::Product, &both), &product);
    assert_eq!(Fusion::Concat.output_width(&[4, 4]), 8);
    assert_eq!(Fusion::Sum.output_width(&[4, 4]), 4);
}

#[test]
fn gated_fusion_weights_each_flow_by_a_softmax_of_the_gate() {
    let mut rng = Rng::new(2);
    let [a, b] = codes(&mut rng);
    let fusion = Fusion::gated(2, 4, &mut rng);
    let Fusion::Gated(gate) = &fusion else {
        unreachable!()
    };
    let (w, bias) = (
        gate.weight.value().to_vec(),
        gate.bias.as_ref().unwrap().value().to_vec(),
    );
    let (av, bv) = (a.to_vec(), b.to_vec());
    let mut expected = Vec::new();
    for r in 0..3 {
        let input: Vec<f32> = av[r * 4..r * 4 + 4]
            .iter()
            .chain(&bv[r * 4..r * 4 + 4])
            .copied()
            .collect();
        let score = |f: usize| bias[f] + (0..8).map(|i| w[f * 8 + i] * input[i]).sum::<f32>();
        let (s0, s1) = (score(0), score(1));
        let w0 = 1.0 / (1.0 + (s1 - s0).exp());
        expected.extend((0..4).map(|i| w0 * av[r * 4 + i] + (1.0 - w0) * bv[r * 4 + i]));
    }
    let both = [a, b];
    assert_close(&fuse(&fusion, &both), &expected);
    let vars: Vec<Var> = both.iter().cloned().map(Var::constant).collect();
    let weights = fusion
        .gate_weights(&vars)
        .unwrap()
        .value()
        .sum_axes(&[1], false);
    assert_close(&weights.to_vec(), &[1.0; 3]);
    assert!(Fusion::Sum.gate_weights(&vars).is_none());
}

#[test]
fn fusion_rejects_codes_that_do_not_fit() {
    let vars = [
        Var::constant(Tensor::zeros(&[3, 4])),
        Var::constant(Tensor::zeros(&[3, 5])),
    ];
    assert_eq!(Fusion::Concat.fuse(&vars).shape(), &[3, 9]);
    let err = Fusion::Sum.try_fuse(&vars).unwrap_err();
    assert!(err.to_string().contains("equal widths"), "{err}");
    let err = Fusion::gated(3, 4, &mut Rng::new(0))
        .try_fuse(&[vars[0].clone(), vars[0].clone()])
        .unwrap_err();
    assert!(err.to_string().contains("2 flows of width 4"), "{err}");
    assert!(Fusion::Concat.try_fuse(&[]).is_err());
}

#[test]
fn multi_input_encodes_each_flow_and_names_its_parameters() {
    let mut rng = Rng::new(3);
    let encoders: Vec<Box<dyn Module>> = vec![
        Box::new(Dense::new(2, 4, &mut rng)),
        Box::new(Dense::new(6, 4, &mut rng)),
    ];
    let model = MultiInput::new(encoders, Fusion::gated(2, 4, &mut rng));
    let names: Vec<String> = model.parameter_names();
    assert_eq!(
        names,
        [
            "encoders.0.weight",
            "encoders.0.bias",
            "encoders.1.weight",
            "encoders.1.bias",
            "fusion.gate.weight",
            "fusion.gate.bias"
        ]
    );
    let x1 = Var::constant(Tensor::rand_normal(&[5, 2], 0.0, 1.0, &mut rng));
    let x2 = Var::constant(Tensor::rand_normal(&[5, 6], 0.0, 1.0, &mut rng));
    let fused = model.forward_inputs(&[&x1, &x2]);
    let by_hand = model.fusion.fuse(&[
        model.encoders[0].forward(&x1),
        model.encoders[1].forward(&x2),
    ]);
    assert_eq!(fused.value().to_vec(), by_hand.value().to_vec());
    let err = model.try_forward_inputs(&[&x1]).unwrap_err();
    assert!(
        err.to_string()
            .contains("one input per encoder (2), found 1"),
        "{err}"
    );
}

/// The shared encoder's gradient is the sum of what each branch sends it: computed once
/// through the Siamese loss, and once per branch with the other branch's embedding frozen.
#[test]
fn siamese_gradients_from_both_branches_add_up() {
    let mut rng = Rng::new(4);
    let siamese = Siamese::new(Dense::new(5, 3, &mut rng));
    let a = Var::constant(Tensor::rand_normal(&[4, 5], 0.0, 1.0, &mut rng));
    let b = Var::constant(Tensor::rand_normal(&[4, 5], 0.0, 1.0, &mut rng));
    let same = Tensor::from_vec(vec![1.0, 0.0, 1.0, 0.0], &[4]);
    let margin = 10.0; // large, so every dissimilar pair contributes
    let weight = &siamese.encoder.weight;
    let both = siamese
        .contrastive_loss(&a, &b, &same, margin)
        .backward()
        .unwrap();
    let loss_with = |za: Var, zb: Var| {
        strata_modules::contrastive_loss(&za, &zb, &same, margin, Default::default())
    };
    let through_a = loss_with(siamese.embed(&a), siamese.embed(&b).detach())
        .backward()
        .unwrap();
    let through_b = loss_with(siamese.embed(&a).detach(), siamese.embed(&b))
        .backward()
        .unwrap();
    let sum = through_a
        .get(weight)
        .unwrap()
        .add(through_b.get(weight).unwrap());
    assert_close(&both.get(weight).unwrap().to_vec(), &sum.to_vec());
    assert_eq!(siamese.num_parameters(), 5 * 3 + 3, "one encoder, not two");
}

#[test]
fn nearest_neighbour_accuracy_matches_a_naive_search() {
    let mut rng = Rng::new(5);
    let references = Tensor::rand_normal(&[40, 3], 0.0, 1.0, &mut rng);
    let reference_labels = Tensor::from_vec((0..40).map(|i| (i % 4) as f32).collect(), &[40]);
    let queries = Tensor::rand_normal(&[25, 3], 0.0, 1.0, &mut rng);
    let query_labels = Tensor::from_vec((0..25).map(|i| (i % 4) as f32).collect(), &[25]);
    let (r, q) = (references.to_vec(), queries.to_vec());
    let mut correct = 0;
    for i in 0..25 {
        let distance = |j: usize| {
            (0..3)
                .map(|d| (q[i * 3 + d] - r[j * 3 + d]).powi(2))
                .sum::<f32>()
        };
        let nearest = (0..40)
            .min_by(|&x, &y| distance(x).total_cmp(&distance(y)))
            .unwrap();
        correct += usize::from(nearest % 4 == i % 4);
    }
    let got = nearest_neighbour_accuracy(&queries, &query_labels, &references, &reference_labels);
    assert!(
        (got - correct as f32 / 25.0).abs() < 1e-6,
        "{got} vs {correct}/25"
    );
    // Queries that are references find themselves.
    let itself = nearest_neighbour_accuracy(
        &references,
        &reference_labels,
        &references,
        &reference_labels,
    );
    assert_eq!(itself, 1.0);
}

#[test]
fn relation_scores_pairs_from_symmetric_features() {
    let mut rng = Rng::new(6);
    let relation = Relation::new(Dense::new(4, 3, &mut rng), Dense::new(6, 1, &mut rng));
    let za = Var::constant(Tensor::from_vec(vec![1.0, -2.0, 3.0], &[1, 3]));
    let zb = Var::constant(Tensor::from_vec(vec![0.5, 1.0, 3.0], &[1, 3]));
    let features = Relation::<Dense, Dense>::pair_features(&za, &zb);
    assert_eq!(features.value().to_vec(), [0.5, 3.0, 0.0, 0.5, -2.0, 9.0]);
    let a = Tensor::rand_normal(&[6, 4], 0.0, 1.0, &mut rng);
    let b = Tensor::rand_normal(&[6, 4], 0.0, 1.0, &mut rng);
    let predicted = relation.predict(&a, &b);
    let logits = relation.score(&Var::constant(a), &Var::constant(b));
    let by_sign: Vec<f32> = logits
        .value()
        .to_vec()
        .iter()
        .map(|&l| f32::from(l > 0.0))
        .collect();
    assert_eq!(predicted.to_vec(), by_sign);
}

#[test]
fn fusing_both_halves_beats_either_half_alone() {
    use support::multimodal::{train, FusionChoice, View, SEED};
    let (train_set, test_set) = digits_split(SPLIT_SEED);
    let single: Vec<f32> = [View::Left, View::Right]
        .iter()
        .map(|&view| train(&[view], FusionChoice::Concat, &train_set, SEED).accuracy(&test_set))
        .collect();
    let best_single = single.iter().copied().fold(0.0, f32::max);
    for fusion in FusionChoice::ALL {
        let fused = train(&[View::Left, View::Right], fusion, &train_set, SEED).accuracy(&test_set);
        println!("{fusion:?}: fused {fused:.4} vs single views {single:?}");
        assert!(
            fused > best_single,
            "{fusion:?}: fused {fused} vs single views {single:?}"
        );
    }
}

/// The bar for nearest-neighbour accuracy in the learned embedding.
const MIN_NEAREST_NEIGHBOUR_ACCURACY: f32 = 0.90;

#[test]
fn metric_learning_embeds_digits_for_nearest_neighbour_search() {
    use strata_tensor::Rng;
    use support::siamese::{build, embedding_accuracy, train, MetricLoss, SEED};
    let (train_set, test_set) = digits_split(SPLIT_SEED);
    let untrained = embedding_accuracy(&build(&mut Rng::new(SEED)), &train_set, &test_set);
    for loss in [MetricLoss::Contrastive, MetricLoss::Triplet] {
        let accuracy = embedding_accuracy(&train(loss, &train_set, SEED), &train_set, &test_set);
        println!("{loss:?}: {accuracy:.4} (untrained {untrained:.4})");
        assert!(
            accuracy >= MIN_NEAREST_NEIGHBOUR_ACCURACY,
            "{loss:?}: {accuracy}"
        );
        assert!(
            accuracy > untrained,
            "{loss:?}: {accuracy} vs untrained {untrained}"
        );
    }
}

/// The bar for same-class judgements on held-out pairs.
const MIN_PAIR_ACCURACY: f32 = 0.90;

#[test]
fn relation_head_judges_held_out_pairs() {
    use support::relation::{pair_accuracy, train, SEED, TEST_SEED};
    let (train_set, test_set) = digits_split(SPLIT_SEED);
    let accuracy = pair_accuracy(&train(&train_set, SEED), &test_set, TEST_SEED);
    println!("pair accuracy {accuracy:.4}");
    assert!(accuracy >= MIN_PAIR_ACCURACY, "{accuracy}");
}
