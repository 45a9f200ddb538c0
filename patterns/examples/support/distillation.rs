//! Model compression on the digits: a large MLP teacher trained on the labels, then a small
//! MLP student trained by distillation from it (and, for comparison, on the labels alone).

use super::data::{accuracy, shuffled_batches, Digits, CLASSES, PIXELS};
use super::step;
use strata_autograd::no_grad;
use strata_modules::{
    cross_entropy, Adam, Dense, Module, Optimizer, Params, Reduction, Relu, Sequential, Var,
};
use strata_patterns::TeacherStudent;
use strata_tensor::{Rng, Tensor};

/// Seed of the teacher's training.
pub const TEACHER_SEED: u64 = 13;
/// Seed of the students' initialisation and batch order.
pub const STUDENT_SEED: u64 = 14;
/// Hidden width of the teacher's two hidden layers.
const TEACHER_HIDDEN: usize = 512;
/// Hidden width of the student's one hidden layer: about 60 times fewer parameters.
const STUDENT_HIDDEN: usize = 64;
/// Passes over the training digits for the teacher.
pub const TEACHER_EPOCHS: usize = 30;
/// Passes over the training digits for a student.
pub const STUDENT_EPOCHS: usize = 100;
/// Mini-batch size.
const BATCH: usize = 32;
/// Adam's learning rate for the teacher (larger rates make the 512-wide layers noisy).
const TEACHER_LEARNING_RATE: f32 = 1e-3;
/// Adam's learning rate for the student.
const STUDENT_LEARNING_RATE: f32 = 3e-3;
/// Softening temperature: at 4 the teacher's second and third choices get probabilities of
/// a few percent instead of ~1e-6, which is the "dark knowledge" the student learns from.
pub const TEMPERATURE: f32 = 4.0;
/// Weight of the soft (teacher) term; the rest goes to the labels.
pub const ALPHA: f32 = 0.7;

/// 64 → 512 → 512 → 10 with ReLUs.
pub fn teacher(rng: &mut Rng) -> Sequential {
    Sequential::new()
        .push(Dense::new(PIXELS, TEACHER_HIDDEN, rng))
        .push(Relu)
        .push(Dense::new(TEACHER_HIDDEN, TEACHER_HIDDEN, rng))
        .push(Relu)
        .push(Dense::new(TEACHER_HIDDEN, CLASSES, rng))
}

/// 64 → 64 → 10 with a ReLU.
pub fn student(rng: &mut Rng) -> Sequential {
    Sequential::new()
        .push(Dense::new(PIXELS, STUDENT_HIDDEN, rng))
        .push(Relu)
        .push(Dense::new(STUDENT_HIDDEN, CLASSES, rng))
}

/// Runs `epochs` passes of mini-batch training of `model` on `loss(model, images, labels)`.
fn fit<M: Params>(
    model: &mut M,
    optimizer: &mut dyn Optimizer,
    digits: &Digits,
    epochs: usize,
    rng: &mut Rng,
    loss: impl Fn(&M, &Var, &Tensor) -> Var,
) {
    for _ in 0..epochs {
        for rows in shuffled_batches(digits.len(), BATCH, rng) {
            let batch = digits.rows(&rows);
            let value = loss(model, &Var::constant(batch.images), &batch.labels);
            step(model, optimizer, &value);
        }
    }
}

fn hard_label_loss(model: &Sequential, x: &Var, labels: &Tensor) -> Var {
    cross_entropy(&model.forward(x), labels, 0.0, Reduction::Mean)
}

/// Held-out accuracy of a classifier.
pub fn classifier_accuracy(model: &dyn Module, digits: &Digits) -> f32 {
    let predicted = no_grad(|| {
        model
            .forward(&Var::constant(digits.images.clone()))
            .value()
            .argmax(-1, false)
    });
    accuracy(&predicted, &digits.labels)
}

/// Trains the teacher on the labels.
pub fn train_teacher(train: &Digits, seed: u64) -> Sequential {
    let mut rng = Rng::new(seed);
    let mut model = teacher(&mut rng);
    let mut optimizer = Adam::new(TEACHER_LEARNING_RATE);
    fit(
        &mut model,
        &mut optimizer,
        train,
        TEACHER_EPOCHS,
        &mut rng,
        hard_label_loss,
    );
    model
}

/// Distils `teacher` into a fresh student; returns the pair (teacher unchanged).
pub fn distil(
    teacher: Sequential,
    train: &Digits,
    seed: u64,
) -> TeacherStudent<Sequential, Sequential> {
    let mut rng = Rng::new(seed);
    let mut pair = TeacherStudent::new(teacher, student(&mut rng), TEMPERATURE, ALPHA);
    let mut optimizer = Adam::new(STUDENT_LEARNING_RATE);
    fit(
        &mut pair,
        &mut optimizer,
        train,
        STUDENT_EPOCHS,
        &mut rng,
        |pair, x, labels| pair.loss(x, labels),
    );
    pair
}

/// The same student trained on the labels alone, with the same budget and seed: the
/// reference that shows what the teacher adds.
pub fn train_student_alone(train: &Digits, seed: u64) -> Sequential {
    let mut rng = Rng::new(seed);
    let mut model = student(&mut rng);
    let mut optimizer = Adam::new(STUDENT_LEARNING_RATE);
    fit(
        &mut model,
        &mut optimizer,
        train,
        STUDENT_EPOCHS,
        &mut rng,
        hard_label_loss,
    );
    model
}
