//! Model compression on the digits: a large MLP teacher trained on the labels, then a small
//! MLP student trained by distillation from it (and, for comparison, on the labels alone).

use super::data::evaluation_loader;
use super::data::{CLASSES, PIXELS};
use super::{fit, Progress};
use strata_datasets::{DataLoader, TensorDataset};
use strata_modules::{evaluate, Adam, Classification, Dense, Module, Relu, Sequential, Supervised};
use strata_patterns::TeacherStudent;
use strata_tensor::Rng;

/// Seed of the teacher's initialisation and batch order.
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

/// The pair of this recipe.
pub type Distillation = TeacherStudent<Sequential, Sequential>;

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

/// Shuffled mini-batches of the digits, in an order drawn from `seed`.
fn batches(digits: &TensorDataset, seed: u64) -> DataLoader {
    DataLoader::new(digits.clone(), BATCH).shuffle(seed)
}

/// A classifier trained on the labels alone.
fn train_on_labels(
    mut model: Sequential,
    digits: &TensorDataset,
    epochs: usize,
    learning_rate: f32,
    seed: u64,
    progress: Progress,
) -> Sequential {
    fit(
        &mut model.with_objective(Classification::default()),
        &mut Adam::new(learning_rate),
        super::epochs(epochs),
        &batches(digits, seed),
        (),
        progress,
    );
    model
}

/// Held-out accuracy of a classifier.
pub fn classifier_accuracy(model: &mut dyn Module, digits: &TensorDataset) -> f32 {
    let loader = evaluation_loader(digits.clone());
    let metrics = evaluate(
        &mut Supervised::new(model, Classification::default()),
        &loader,
    );
    metrics.expect("the digits are in memory")["accuracy"]
}

/// Trains the teacher on the labels.
pub fn train_teacher(digits: &TensorDataset, seed: u64, progress: Progress) -> Sequential {
    let model = teacher(&mut Rng::new(seed));
    train_on_labels(
        model,
        digits,
        TEACHER_EPOCHS,
        TEACHER_LEARNING_RATE,
        seed,
        progress,
    )
}

/// Distils `teacher` into a fresh student; returns the pair (teacher unchanged).
pub fn distil(
    teacher: Sequential,
    digits: &TensorDataset,
    seed: u64,
    progress: Progress,
) -> Distillation {
    let mut pair = TeacherStudent::new(teacher, student(&mut Rng::new(seed)), TEMPERATURE, ALPHA);
    fit(
        &mut pair,
        &mut Adam::new(STUDENT_LEARNING_RATE),
        super::epochs(STUDENT_EPOCHS),
        &batches(digits, seed),
        (),
        progress,
    );
    pair
}

/// The same student trained on the labels alone, with the same budget and seed: the
/// reference that shows what the teacher adds.
pub fn train_student_alone(digits: &TensorDataset, seed: u64, progress: Progress) -> Sequential {
    let model = student(&mut Rng::new(seed));
    train_on_labels(
        model,
        digits,
        STUDENT_EPOCHS,
        STUDENT_LEARNING_RATE,
        seed,
        progress,
    )
}
