//! Training end to end: XOR to 100 %, and every optimizer to ≥ 95 % held-out accuracy on a
//! two-spiral problem.

mod common;

use common::{batches, mlp, split_rows, two_spirals};
use strata_modules::{
    evaluate, Adam, AdamW, BinaryClassification, Classification, Module, Optimizer, RmsProp, Sgd,
    TrainConfig, Trainer,
};
use strata_tensor::{Rng, Tensor};

#[test]
fn mlp_2_16_16_1_with_tanh_learns_xor() {
    let mut rng = Rng::new(11);
    let mut model = strata_modules::Sequential::new()
        .push(strata_modules::Dense::new(2, 16, &mut rng))
        .push(strata_modules::Tanh)
        .push(strata_modules::Dense::new(16, 16, &mut rng))
        .push(strata_modules::Tanh)
        .push(strata_modules::Dense::new(16, 1, &mut rng));
    let x = Tensor::from_vec(vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]);
    let y = Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], &[4, 1]);
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 300,
        ..Default::default()
    });
    trainer
        .fit(
            &mut model.with_objective(BinaryClassification),
            &mut Adam::new(0.05),
            |_| [(x.clone(), y.clone())],
            (),
        )
        .unwrap();
    let held_out = evaluate(&mut model.with_objective(BinaryClassification), |_| {
        [(x.clone(), y.clone())]
    })
    .unwrap();
    assert_eq!(held_out["accuracy"], 1.0);
}

/// Trains the spiral MLP with `optimizer` and returns the held-out accuracy.
fn spiral_accuracy(optimizer: &mut dyn Optimizer, epochs: usize) -> f32 {
    let (x, y) = two_spirals(300, 0.05, 5);
    let (train_x, test_x) = split_rows(&x, 450);
    let (train_y, test_y) = split_rows(&y, 450);
    let mut model = mlp(32, 2, &mut Rng::new(21));
    let mut trainer = Trainer::new(TrainConfig {
        epochs,
        ..Default::default()
    });
    trainer
        .fit(
            &mut model.with_objective(Classification::default()),
            optimizer,
            |epoch| batches(&train_x, &train_y, 32, 3, epoch),
            (),
        )
        .unwrap();
    let held_out = evaluate(&mut model.with_objective(Classification::default()), |_| {
        [(test_x.clone(), test_y.clone())]
    })
    .unwrap();
    held_out["accuracy"]
}

#[test]
fn sgd_with_momentum_learns_the_spirals() {
    let accuracy = spiral_accuracy(&mut Sgd::new(0.1).momentum(0.9), 150);
    assert!(accuracy >= 0.95, "held-out accuracy {accuracy}");
}

#[test]
fn sgd_with_nesterov_learns_the_spirals() {
    let accuracy = spiral_accuracy(&mut Sgd::new(0.1).momentum(0.9).nesterov(true), 150);
    assert!(accuracy >= 0.95, "held-out accuracy {accuracy}");
}

#[test]
fn adam_learns_the_spirals() {
    let accuracy = spiral_accuracy(&mut Adam::new(0.01), 150);
    assert!(accuracy >= 0.95, "held-out accuracy {accuracy}");
}

#[test]
fn adamw_learns_the_spirals() {
    let accuracy = spiral_accuracy(&mut AdamW::new(0.01), 150);
    assert!(accuracy >= 0.95, "held-out accuracy {accuracy}");
}

#[test]
fn rmsprop_learns_the_spirals() {
    let accuracy = spiral_accuracy(&mut RmsProp::new(0.005), 150);
    assert!(accuracy >= 0.95, "held-out accuracy {accuracy}");
}
