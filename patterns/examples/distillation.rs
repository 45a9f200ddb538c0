//! Teacher-student model compression: a 64-512-512-10 MLP teacher trained on the digits is
//! distilled into a 64-64-10 student (temperature-softened KL to the frozen teacher, mixed
//! with the labels' cross-entropy). The same student trained on the labels alone is shown
//! for comparison.
//!
//! `cargo run --release -p strata-patterns --example distillation`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use strata_modules::Params;
use support::data::digit_datasets;
use support::distillation::{classifier_accuracy, distil, train_student_alone, train_teacher};
use support::distillation::{ALPHA, STUDENT_SEED, TEACHER_SEED, TEMPERATURE};
use support::{Progress, SPLIT_SEED};

fn main() {
    let (train_set, test_set) = digit_datasets(SPLIT_SEED);
    let mut teacher = train_teacher(&train_set, TEACHER_SEED, Progress::Bar);
    let teacher_accuracy = classifier_accuracy(&mut teacher, &test_set);
    let mut alone = train_student_alone(&train_set, STUDENT_SEED, Progress::Bar);
    let mut pair = distil(teacher, &train_set, STUDENT_SEED, Progress::Bar);
    let student_accuracy = classifier_accuracy(&mut pair.student, &test_set);
    let (teacher_params, student_params) =
        (pair.teacher.num_parameters(), pair.student.num_parameters());
    println!(
        "teacher: {teacher_params} parameters, held-out accuracy {:.2}%",
        100.0 * teacher_accuracy
    );
    println!(
        "student on labels only: {student_params} parameters, held-out accuracy {:.2}%",
        100.0 * classifier_accuracy(&mut alone, &test_set)
    );
    println!("distilled student (T = {TEMPERATURE}, α = {ALPHA}):");
    println!(
        "student {:.2}% vs teacher {:.2}% held out = {:.1}% of the teacher's accuracy with {:.0}× fewer parameters",
        100.0 * student_accuracy,
        100.0 * teacher_accuracy,
        100.0 * student_accuracy / teacher_accuracy,
        teacher_params as f32 / student_params as f32
    );
}
