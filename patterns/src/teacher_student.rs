//! Teacher-student (knowledge distillation, Hinton, Vinyals & Dean 2015): a student learns to
//! predict a frozen teacher's softened output distribution as well as the true labels, and
//! so inherits what the teacher knows about how classes resemble each other.

use strata_autograd::{no_grad, Var};
use strata_datasets::Batch;
use strata_modules::{accuracy, cross_entropy, join_name, KlDivLoss, Module, Params, Reduction};
use strata_modules::{Step, TrainStep, Visitor, VisitorMut};
use strata_tensor::Tensor;

/// Distillation loss on logits `[N, C]` and class ids `[N]`:
///
/// `α · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α) · CE(student, labels)`.
///
/// The temperature `T > 1` softens both distributions so the small probabilities the teacher
/// gives wrong classes carry signal; the soft term's gradient scales as `1/T²`, so it is
/// multiplied by `T²` to keep its weight independent of `T`. No gradient flows into
/// `teacher_logits` (they are detached).
///
/// ```
/// use strata_modules::Var;
/// use strata_patterns::distillation_loss;
/// use strata_tensor::Tensor;
/// let logits = Var::leaf(Tensor::from_vec(vec![2.0, 0.5, -1.0], &[1, 3]));
/// let labels = Tensor::from_vec(vec![0.0], &[1]);
/// // A student that matches the teacher exactly pays only the hard-label part.
/// let loss = distillation_loss(&logits, &logits, &labels, 4.0, 0.7);
/// let hard = strata_modules::cross_entropy(&logits, &labels);
/// assert!((loss.item() - 0.3 * hard.item()).abs() < 1e-6);
/// ```
pub fn distillation_loss(
    student_logits: &Var,
    teacher_logits: &Var,
    labels: &Tensor,
    temperature: f32,
    alpha: f32,
) -> Var {
    let inverse_t = 1.0 / temperature;
    let soft_targets = teacher_logits.detach().mul_scalar(inverse_t).softmax(-1);
    let student_log_probs = student_logits.mul_scalar(inverse_t).log_softmax(-1);
    let soft = KlDivLoss::new()
        .reduction(Reduction::BatchMean)
        .forward(&student_log_probs, &soft_targets)
        .mul_scalar(temperature * temperature);
    let hard = cross_entropy(student_logits, labels);
    soft.mul_scalar(alpha).add(&hard.mul_scalar(1.0 - alpha))
}

/// A frozen teacher `T` and a student `S` that learns from it.
///
/// The teacher is frozen in both senses: it always runs in evaluation mode (no dropout,
/// running statistics) and under [`no_grad`], so no gradient reaches its parameters and an
/// optimizer stepping the whole pair only ever moves the student. Parameters are named
/// `teacher.…` and `student.…`.
///
/// ```
/// use strata_modules::{Dense, Params, Var};
/// use strata_patterns::TeacherStudent;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let pair = TeacherStudent::new(Dense::new(4, 3, &mut rng), Dense::new(4, 3, &mut rng), 4.0, 0.5);
/// let x = Var::constant(Tensor::ones(&[2, 4]));
/// let loss = pair.loss(&x, &Tensor::from_vec(vec![0.0, 2.0], &[2]));
/// let grads = loss.backward().unwrap();
/// assert!(grads.get(&pair.teacher.weight).is_none());
/// assert!(grads.get(&pair.student.weight).is_some());
/// ```
pub struct TeacherStudent<T, S> {
    /// The trained model whose outputs are imitated (kept in evaluation mode).
    pub teacher: T,
    /// The model being trained.
    pub student: S,
    /// Softening temperature `T` (> 0; 1 leaves the distributions as they are).
    pub temperature: f32,
    /// Weight `α ∈ [0, 1]` of the soft (teacher) term; `1 − α` goes to the hard labels.
    pub alpha: f32,
}

impl<T: Module, S: Module> TeacherStudent<T, S> {
    /// Pairs a trained `teacher` (switched to evaluation mode) with a `student`.
    pub fn new(mut teacher: T, student: S, temperature: f32, alpha: f32) -> Self {
        teacher.eval();
        Self {
            teacher,
            student,
            temperature,
            alpha,
        }
    }

    /// The teacher's logits, not recorded: constants for the student's loss.
    pub fn teacher_logits(&self, x: &Var) -> Var {
        no_grad(|| self.teacher.forward(x).detach())
    }

    /// The distillation loss of the student on a batch with class ids `labels`.
    pub fn loss(&self, x: &Var, labels: &Tensor) -> Var {
        self.loss_and_logits(x, labels).0
    }

    /// The distillation loss and the student's logits.
    fn loss_and_logits(&self, x: &Var, labels: &Tensor) -> (Var, Var) {
        let teacher = self.teacher_logits(x);
        let student = self.student.forward(x);
        let loss = distillation_loss(&student, &teacher, labels, self.temperature, self.alpha);
        (loss, student)
    }
}

/// Trained by [`strata_modules::Trainer::fit`] on batches whose first input is the examples
/// and first target their class ids `[N]`: the student minimises the distillation loss (no
/// gradient reaches the frozen teacher, so only the student changes); reports the loss and
/// the student's `accuracy`.
///
/// ```
/// use strata_datasets::{DataLoader, TensorDataset};
/// use strata_modules::{Adam, Classification, Dense, Module, Params, Relu, Sequential,
///                      TrainConfig, Trainer};
/// use strata_patterns::TeacherStudent;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let x = Tensor::rand_uniform(&[128, 2], -1.0, 1.0, &mut rng);
/// let y = x.narrow(1, 0, 1).gt(&x.narrow(1, 1, 1)).squeeze(1); // class 1 when x0 > x1
/// let loader = DataLoader::new(TensorDataset::new(x, y).unwrap(), 16).shuffle(0);
/// let mut trainer = Trainer::new(TrainConfig { epochs: 30, ..Default::default() });
/// let mut teacher = Sequential::new().push(Dense::new(2, 32, &mut rng)).push(Relu)
///     .push(Dense::new(32, 2, &mut rng));
/// trainer.fit(&mut teacher.with_objective(Classification::default()), &mut Adam::new(0.02), &loader, ()).unwrap();
/// let mut pair = TeacherStudent::new(teacher, Dense::new(2, 2, &mut rng), 2.0, 0.5);
/// let teacher_before = pair.teacher.parameters()[0].value().clone();
/// let history = Trainer::new(TrainConfig { epochs: 30, ..Default::default() })
///     .fit(&mut pair, &mut Adam::new(0.02), &loader, &loader).unwrap().to_vec();
/// assert!(history.last().unwrap().val_accuracy().unwrap() > 0.9);
/// assert_eq!(pair.teacher.parameters()[0].value(), &teacher_before);
/// ```
impl<T: Module, S: Module> TrainStep for TeacherStudent<T, S> {
    #[track_caller]
    fn step(&self, batch: &Batch) -> Step {
        let labels = batch.target();
        let (loss, student) = self.loss_and_logits(&Var::constant(batch.input().clone()), labels);
        Step::new(loss, batch.len()).with("accuracy", accuracy(student.value(), labels))
    }
}

impl<T: Params, S: Params> Params for TeacherStudent<T, S> {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        self.teacher.visit(&join_name(prefix, "teacher"), visitor);
        self.student.visit(&join_name(prefix, "student"), visitor);
    }
    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        self.teacher
            .visit_mut(&join_name(prefix, "teacher"), visitor);
        self.student
            .visit_mut(&join_name(prefix, "student"), visitor);
    }
    /// Only the student changes mode; the teacher stays in evaluation mode.
    fn set_training(&mut self, training: bool) {
        self.student.set_training(training);
    }
}

impl<T: Module, S: Module> Module for TeacherStudent<T, S> {
    /// The student's output: what is deployed after distillation.
    fn forward(&self, x: &Var) -> Var {
        self.student.forward(x)
    }
}
