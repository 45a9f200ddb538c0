//! Dropout (inverted scaling, expected mean, identity in evaluation, seeded stream saved in
//! checkpoints) and Embedding (lookup, shapes, errors, gradient only on the rows used).

use strata_autograd::gradcheck;
use strata_modules::{Checkpoint, Dropout, Embedding, Module, Params, Var};
use strata_tensor::{Rng, Tensor};

/// Elements in the statistical test of dropout's mean.
const SAMPLES: usize = 200_000;

#[test]
fn dropout_keeps_the_expected_mean() {
    // Each output is 0 with probability p and x/(1 − p) otherwise: mean x, variance
    // x²·p/(1 − p). For x = 1 and p = 0.3 the standard error of the mean of 200,000 outputs
    // is √(0.3/0.7/200000) ≈ 0.00146; 5 standard errors (0.0073) bound a false failure by
    // ~6e-7, while a missing 1/(1 − p) rescaling would move the mean by 0.3.
    let p = 0.3f32;
    let dropout = Dropout::new(p, 11);
    let x = Var::constant(Tensor::ones(&[SAMPLES]));
    let y = dropout.forward(&x).value().to_vec();
    let scale = 1.0 / (1.0 - p);
    assert!(y.iter().all(|&v| v == 0.0 || (v - scale).abs() < 1e-6));
    let mean = y.iter().map(|&v| v as f64).sum::<f64>() / SAMPLES as f64;
    let standard_error = (p as f64 / (1.0 - p as f64) / SAMPLES as f64).sqrt();
    assert!(
        (mean - 1.0).abs() < 5.0 * standard_error,
        "mean {mean}, standard error {standard_error}"
    );
    // The fraction dropped is p, within 5 standard errors of a binomial proportion.
    let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / SAMPLES as f64;
    let proportion_error = (p as f64 * (1.0 - p as f64) / SAMPLES as f64).sqrt();
    assert!(
        (dropped - p as f64).abs() < 5.0 * proportion_error,
        "dropped {dropped}"
    );
}

#[test]
fn dropout_is_the_identity_in_evaluation_mode() {
    let mut dropout = Dropout::new(0.5, 3);
    let x = Var::leaf(Tensor::rand_normal(&[4, 5], 0.0, 1.0, &mut Rng::new(0)));
    dropout.eval();
    assert!(!dropout.is_training());
    let y = dropout.forward(&x);
    assert_eq!(y.value(), x.value());
    let grads = y.sum().backward().unwrap();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![1.0; 20]);
    dropout.train();
    assert_ne!(dropout.forward(&x).value(), x.value());
}

#[test]
fn dropout_gradient_uses_the_same_mask() {
    let x = Tensor::rand_normal(&[3, 7], 0.0, 1.0, &mut Rng::new(1));
    // A fresh layer with the same seed draws the same mask at every evaluation.
    gradcheck(|v| Dropout::new(0.4, 9).forward(&v[0]), &[x])
        .unwrap()
        .assert_within(1e-2);
}

#[test]
fn dropout_stream_is_seeded_and_restored_from_checkpoints() {
    let x = Var::constant(Tensor::ones(&[64]));
    let a = Dropout::new(0.5, 5);
    let b = Dropout::new(0.5, 5);
    assert_eq!(a.forward(&x).value(), b.forward(&x).value());
    let saved = Checkpoint::of_model(&a);
    assert_eq!(saved.rngs.len(), 1);
    assert_eq!(saved.rngs[0].0, "rng");
    let next = a.forward(&x).value().clone();
    let mut restored = Dropout::new(0.5, 1234);
    saved.apply_to(&mut restored).unwrap();
    assert_eq!(restored.forward(&x).value(), &next);
}

#[test]
#[should_panic(expected = "drop probability must be in [0, 1)")]
fn dropout_rejects_a_probability_of_one() {
    Dropout::new(1.0, 0);
}

#[test]
fn embedding_looks_up_rows_for_ids_of_any_shape() {
    let embedding = Embedding::new(6, 3, &mut Rng::new(2));
    assert_eq!(embedding.named_parameters()[0].0, "weight");
    assert_eq!(
        (embedding.num_embeddings(), embedding.embedding_dim()),
        (6, 3)
    );
    let ids = Tensor::from_vec(vec![5.0, 0.0, 2.0, 2.0], &[2, 1, 2]);
    let y = embedding.forward(&Var::constant(ids.clone()));
    assert_eq!(y.shape(), &[2, 1, 2, 3]);
    let w = embedding.weight.value();
    for (k, &id) in ids.to_vec().iter().enumerate() {
        let row = y.value().reshape(&[4, 3]).narrow(0, k, 1).to_vec();
        assert_eq!(row, w.narrow(0, id as usize, 1).to_vec());
    }
    // PyTorch's N(0, 1) initialisation: a large table has mean ≈ 0 and std ≈ 1.
    let big = Embedding::new(1000, 100, &mut Rng::new(3));
    let values = big.weight.value();
    assert!(values.mean().item().abs() < 0.01);
    let std = values.var_axes(&[0, 1], false, false).item().sqrt();
    assert!((std - 1.0).abs() < 0.01, "std {std}");
}

#[test]
fn embedding_rejects_ids_outside_the_table() {
    let embedding = Embedding::new(4, 2, &mut Rng::new(0));
    for bad in [4.0, -1.0, 1.5, f32::NAN] {
        let err = embedding
            .try_lookup(&Tensor::from_vec(vec![0.0, bad], &[2]))
            .unwrap_err();
        assert!(err.to_string().contains("0..4"), "{err}");
    }
}

#[test]
fn embedding_gradient_reaches_only_the_rows_used() {
    let embedding = Embedding::new(8, 4, &mut Rng::new(4));
    let ids = Tensor::from_vec(vec![1.0, 6.0, 1.0], &[3]);
    let y = embedding.forward(&Var::constant(ids.clone()));
    let upstream = Tensor::rand_normal(&[3, 4], 0.0, 1.0, &mut Rng::new(5));
    let grads = y.backward_with_seed(&upstream).unwrap();
    let grad = grads.get(&embedding.weight).unwrap();
    assert_eq!(grad.shape(), &[8, 4]);
    for row in 0..8 {
        let values = grad.narrow(0, row, 1).to_vec();
        match row {
            // Row 1 is used twice: its gradient is the sum of both upstream rows.
            1 => {
                let expected = upstream.narrow(0, 0, 1).add(&upstream.narrow(0, 2, 1));
                assert_eq!(values, expected.to_vec());
            }
            6 => assert_eq!(values, upstream.narrow(0, 1, 1).to_vec()),
            _ => assert!(values.iter().all(|&g| g == 0.0), "row {row}: {values:?}"),
        }
    }
    let weight = embedding.weight.value().clone();
    gradcheck(
        |v| {
            let layer = Embedding {
                weight: v[0].clone(),
                padding_idx: None,
            };
            layer.forward(&Var::constant(ids.clone()))
        },
        &[weight],
    )
    .unwrap()
    .assert_within(1e-2);
}
