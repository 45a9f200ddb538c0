//! Teacher-student: the distillation loss against a hand computation and its gradient
//! against the closed form, the teacher frozen (no gradient, evaluation mode, parameters
//! unchanged by training), and the compression recipe's accuracy retention.

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // the tests use some of the shared recipes
#[path = "../examples/support/mod.rs"]
mod support;

use strata_datasets::{DataLoader, TensorDataset};
use strata_modules::{cross_entropy, Adam, Dense, Module, Params, TrainConfig, Trainer, Var};
use strata_patterns::{distillation_loss, TeacherStudent};
use strata_tensor::{Rng, Tensor};
use support::data::digit_datasets;
use support::distillation::{
    classifier_accuracy, distil, train_teacher, STUDENT_SEED, TEACHER_SEED,
};
use support::{Progress, SPLIT_SEED};

fn softmax(row: &[f64]) -> Vec<f64> {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = row.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

const STUDENT: [f64; 6] = [1.0, -0.5, 0.25, 0.3, 2.0, -1.0];
const TEACHER: [f64; 6] = [3.0, 0.0, -1.0, -0.5, 1.5, 0.5];
const LABELS: [f32; 2] = [0.0, 1.0];
const CLASSES: usize = 3;

fn tensor(values: &[f64]) -> Tensor {
    let rows = values.len() / CLASSES;
    Tensor::from_vec(values.iter().map(|&v| v as f32).collect(), &[rows, CLASSES])
}

#[test]
fn distillation_loss_matches_a_hand_computation() {
    let (temperature, alpha) = (2.5, 0.6);
    let mut expected = 0.0;
    for row in 0..2 {
        let s = &STUDENT[row * CLASSES..(row + 1) * CLASSES];
        let t = &TEACHER[row * CLASSES..(row + 1) * CLASSES];
        let soft = |v: &[f64]| softmax(&v.iter().map(|x| x / temperature).collect::<Vec<_>>());
        let (p, q) = (soft(t), soft(s));
        let kl: f64 = p.iter().zip(&q).map(|(p, q)| p * (p / q).ln()).sum();
        let hard = -softmax(s)[LABELS[row] as usize].ln();
        expected += (alpha * temperature * temperature * kl + (1.0 - alpha) * hard) / 2.0;
    }
    let loss = distillation_loss(
        &Var::leaf(tensor(&STUDENT)),
        &Var::constant(tensor(&TEACHER)),
        &Tensor::from_slice(&LABELS, &[2]),
        temperature as f32,
        alpha as f32,
    );
    assert!(
        (loss.item() as f64 - expected).abs() < 1e-5,
        "{} vs {expected}",
        loss.item()
    );
}

/// d/ds of the loss is `α·T·(softmax(s/T) − softmax(t/T)) + (1 − α)·(softmax(s) − onehot)`,
/// divided by the batch size; no gradient reaches the teacher's logits.
#[test]
fn distillation_gradient_matches_the_closed_form_and_skips_the_teacher() {
    let (temperature, alpha) = (4.0, 0.7);
    let student = Var::leaf(tensor(&STUDENT));
    let teacher = Var::leaf(tensor(&TEACHER));
    let labels = Tensor::from_slice(&LABELS, &[2]);
    let loss = distillation_loss(&student, &teacher, &labels, temperature as f32, alpha);
    let grads = loss.backward().unwrap();
    assert!(
        grads.get(&teacher).is_none(),
        "the teacher's logits got a gradient"
    );
    let grad = grads.get(&student).unwrap().to_vec();
    for row in 0..2 {
        let s = &STUDENT[row * CLASSES..(row + 1) * CLASSES];
        let t = &TEACHER[row * CLASSES..(row + 1) * CLASSES];
        let soft = |v: &[f64]| softmax(&v.iter().map(|x| x / temperature).collect::<Vec<_>>());
        let (q, p, plain) = (soft(s), soft(t), softmax(s));
        for c in 0..CLASSES {
            let onehot = if c == LABELS[row] as usize { 1.0 } else { 0.0 };
            let expected = (f64::from(alpha) * temperature * (q[c] - p[c])
                + (1.0 - f64::from(alpha)) * (plain[c] - onehot))
                / 2.0;
            let got = f64::from(grad[row * CLASSES + c]);
            assert!(
                (got - expected).abs() < 1e-5,
                "[{row}, {c}]: {got} vs {expected}"
            );
        }
    }
}

#[test]
fn alpha_zero_is_plain_cross_entropy() {
    let (student, teacher) = (tensor(&STUDENT), tensor(&TEACHER));
    let labels = Tensor::from_slice(&LABELS, &[2]);
    let loss = distillation_loss(
        &Var::constant(student.clone()),
        &Var::constant(teacher),
        &labels,
        3.0,
        0.0,
    );
    let hard = cross_entropy(&Var::constant(student), &labels);
    assert!((loss.item() - hard.item()).abs() < 1e-6);
}

/// A module that records the training flag it was last given.
#[derive(Params)]
struct ModeProbe {
    dense: Dense,
    #[module(training)]
    training: bool,
}

impl Module for ModeProbe {
    fn forward(&self, x: &Var) -> Var {
        self.dense.forward(x)
    }
}

#[test]
fn the_teacher_stays_frozen_while_the_student_trains() {
    let mut rng = Rng::new(3);
    let teacher = ModeProbe {
        dense: Dense::new(4, 3, &mut rng),
        training: true,
    };
    let student = Dense::new(4, 3, &mut rng);
    let mut pair = TeacherStudent::new(teacher, student, 2.0, 0.5);
    assert!(
        !pair.teacher.training,
        "new() puts the teacher in evaluation mode"
    );
    pair.train();
    assert!(!pair.teacher.training, "train() must not reach the teacher");
    let names: Vec<String> = pair.parameter_names();
    assert_eq!(
        names,
        [
            "teacher.dense.weight",
            "teacher.dense.bias",
            "student.weight",
            "student.bias"
        ]
    );

    let teacher_before: Vec<Tensor> = pair
        .teacher
        .parameters()
        .iter()
        .map(|p| p.value().clone())
        .collect();
    let student_before = pair.student.weight.value().clone();
    let x = Tensor::rand_normal(&[8, 4], 0.0, 1.0, &mut rng);
    let labels = Tensor::from_vec(vec![0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 1.0], &[8]);
    let data = DataLoader::new(TensorDataset::new(x, labels).unwrap(), 4);
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 10,
        ..TrainConfig::default()
    });
    let history = trainer
        .fit(&mut pair, &mut Adam::new(0.05), &data, &data)
        .unwrap();
    assert!(history.last().unwrap().train_loss() < history[0].train_loss());
    assert!(
        !pair.teacher.training,
        "fit must not switch the teacher to training"
    );
    for (before, after) in teacher_before.iter().zip(pair.teacher.parameters()) {
        assert_eq!(
            before.to_vec(),
            after.value().to_vec(),
            "a teacher parameter moved"
        );
    }
    assert_ne!(
        student_before.to_vec(),
        pair.student.weight.value().to_vec()
    );
}

/// The student must keep this share of the teacher's held-out accuracy (the bar);
/// measured 99.1% (99.1-100% over teacher seeds 13-15 and student seeds 14-16).
const MIN_RETENTION: f32 = 0.97;
/// The student must have at least this many times fewer parameters.
const MIN_COMPRESSION: f32 = 10.0;

#[test]
fn distilled_student_keeps_the_teachers_accuracy_with_far_fewer_parameters() {
    let (train, test) = digit_datasets(SPLIT_SEED);
    let mut teacher = train_teacher(&train, TEACHER_SEED, Progress::Quiet);
    let teacher_weights: Vec<Vec<f32>> = teacher
        .parameters()
        .iter()
        .map(|p| p.value().to_vec())
        .collect();
    let teacher_accuracy = classifier_accuracy(&mut teacher, &test);
    let mut pair = distil(teacher, &train, STUDENT_SEED, Progress::Quiet);
    let student_accuracy = classifier_accuracy(&mut pair.student, &test);
    let compression = pair.teacher.num_parameters() as f32 / pair.student.num_parameters() as f32;
    println!(
        "teacher {teacher_accuracy:.4}, student {student_accuracy:.4}, {compression:.0}x fewer parameters"
    );
    assert!(
        compression >= MIN_COMPRESSION,
        "only {compression}x fewer parameters"
    );
    assert!(
        student_accuracy >= MIN_RETENTION * teacher_accuracy,
        "student {student_accuracy} < {MIN_RETENTION} × teacher {teacher_accuracy}"
    );
    let after: Vec<Vec<f32>> = pair
        .teacher
        .parameters()
        .iter()
        .map(|p| p.value().to_vec())
        .collect();
    assert_eq!(teacher_weights, after, "distillation changed the teacher");
}
