//! Multi-output decoder: a shared trunk computes one representation, and named heads read it
//! for several tasks at once, each with its own loss; training minimises the weighted sum.

use crate::expect_ok;
use strata_autograd::Var;
use strata_datasets::Batch;
use strata_modules::{
    join_name, Mean, Metrics, Module, Objective, Params, Step, TrainStep, Visitor, VisitorMut,
};
use strata_tensor::{ErrorKind, Result, Tensor, TensorError};

/// One task of a [`MultiOutput`]: a head module, its objective and its weight in the sum.
pub struct TaskHead<H> {
    /// The task's name (the key of its output and target).
    pub name: String,
    /// Maps the trunk's representation to this task's output.
    pub module: H,
    /// The task's loss (and its notion of a correct answer, for accuracy).
    pub objective: Box<dyn Objective>,
    /// The loss's weight in the combined loss.
    pub weight: f32,
}

/// The outputs of a [`MultiOutput`] by task name, in the order the heads were added.
pub struct Outputs(Vec<(String, Var)>);

impl Outputs {
    /// The output of task `name`.
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// `(name, output)` pairs in head order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }
}

/// The combined loss of a batch and each task's own (unweighted) loss.
pub struct MultiLoss {
    /// `Σ weight_h · loss_h`: differentiate this one.
    pub total: Var,
    /// `(name, loss_h)` in head order.
    pub per_task: Vec<(String, f32)>,
}

/// A shared trunk `T` and named task heads `H` (`Box<dyn Module>` by default, so heads of
/// different kinds mix).
///
/// ```
/// use strata_modules::{BinaryClassification, Classification, Dense, Var};
/// use strata_patterns::MultiOutput;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let model = MultiOutput::new(Dense::new(4, 8, &mut rng))
///     .with_head("kind", Dense::new(8, 3, &mut rng), Classification::default(), 1.0)
///     .with_head("flag", Dense::new(8, 1, &mut rng), BinaryClassification, 0.5);
/// let x = Var::constant(Tensor::ones(&[2, 4]));
/// let outputs = model.forward(&x);
/// assert_eq!(outputs.get("kind").unwrap().shape(), &[2, 3]);
/// let kind = Tensor::from_vec(vec![0.0, 2.0], &[2]);
/// let flag = Tensor::from_vec(vec![1.0, 0.0], &[2, 1]);
/// let loss = model.loss(&outputs, &[("kind", &kind), ("flag", &flag)]);
/// let (kind_loss, flag_loss) = (loss.per_task[0].1, loss.per_task[1].1);
/// assert!((loss.total.item() - (kind_loss + 0.5 * flag_loss)).abs() < 1e-5);
/// ```
pub struct MultiOutput<T, H = Box<dyn Module>> {
    /// The shared representation, named `trunk`.
    pub trunk: T,
    heads: Vec<TaskHead<H>>,
}

impl<T: Module, H: Module> MultiOutput<T, H> {
    /// A trunk without heads yet.
    pub fn new(trunk: T) -> Self {
        Self {
            trunk,
            heads: Vec::new(),
        }
    }

    /// Adds the task `name` (builder style). Panics if a task of that name exists: outputs and
    /// targets are matched by name.
    #[track_caller]
    pub fn with_head(
        mut self,
        name: &str,
        module: H,
        objective: impl Objective + 'static,
        weight: f32,
    ) -> Self {
        assert!(
            self.heads.iter().all(|h| h.name != name),
            "MultiOutput: a task named `{name}` already exists"
        );
        self.heads.push(TaskHead {
            name: name.to_string(),
            module,
            objective: Box::new(objective),
            weight,
        });
        self
    }

    /// The tasks, in the order they were added.
    pub fn heads(&self) -> &[TaskHead<H>] {
        &self.heads
    }

    /// The tasks, mutably (e.g. to change a weight during training).
    pub fn heads_mut(&mut self) -> &mut [TaskHead<H>] {
        &mut self.heads
    }

    /// Runs the trunk once and every head on its representation.
    pub fn forward(&self, x: &Var) -> Outputs {
        let shared = self.trunk.forward(x);
        Outputs(
            self.heads
                .iter()
                .map(|h| (h.name.clone(), h.module.forward(&shared)))
                .collect(),
        )
    }

    /// The weighted sum of the tasks' losses, with `targets` given by task name. Panics if a
    /// task has no target.
    #[track_caller]
    pub fn loss(&self, outputs: &Outputs, targets: &[(&str, &Tensor)]) -> MultiLoss {
        expect_ok(self.try_loss(outputs, targets))
    }

    /// Fallible [`MultiOutput::loss`].
    pub fn try_loss(&self, outputs: &Outputs, targets: &[(&str, &Tensor)]) -> Result<MultiLoss> {
        let mut total: Option<Var> = None;
        let mut per_task = Vec::with_capacity(self.heads.len());
        for head in &self.heads {
            let (output, target) = task_pair(&head.name, outputs, targets)?;
            let loss = head.objective.loss(output, target);
            per_task.push((head.name.clone(), loss.item()));
            let weighted = loss.mul_scalar(head.weight);
            total = Some(match total {
                Some(sum) => sum.add(&weighted),
                None => weighted,
            });
        }
        let total = total.ok_or_else(|| {
            TensorError::new(
                "MultiOutput::loss",
                ErrorKind::InvalidArgument,
                "the model has no task head",
            )
        })?;
        Ok(MultiLoss { total, per_task })
    }
}

/// Trained by [`strata_modules::Trainer::fit`] on batches whose first input is the trunk's
/// input and whose targets are named after the tasks. The loss is the weighted sum; each task
/// reports its own loss and its objective's metrics under its name (`class.loss`,
/// `class.accuracy`, `parity.accuracy`…), beside the combined `loss`.
///
/// ```
/// use strata_datasets::{DataLoader, Fields, TensorDataset};
/// use strata_modules::{evaluate, Adam, BinaryClassification, Classification, Dense, Relu,
///                      Sequential, TrainConfig, Trainer};
/// use strata_patterns::MultiOutput;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// // Points of the plane: which quadrant (4 classes), and is x > 0 (yes/no).
/// let x = Tensor::rand_uniform(&[256, 2], -1.0, 1.0, &mut rng);
/// let right = x.narrow(1, 0, 1).gt(&Tensor::scalar(0.0));
/// let upper = x.narrow(1, 1, 1).gt(&Tensor::scalar(0.0));
/// let quadrant = right.add(&upper.mul_scalar(2.0)).squeeze(1);
/// let data = TensorDataset::from_fields(
///     Fields::new().with("point", x),
///     Fields::new().with("quadrant", quadrant).with("right", right),
/// ).unwrap();
/// let loader = DataLoader::new(data, 32).shuffle(1);
/// let trunk = Sequential::new().push(Dense::new(2, 16, &mut rng)).push(Relu);
/// let mut model = MultiOutput::new(trunk)
///     .with_head("quadrant", Dense::new(16, 4, &mut rng), Classification::default(), 1.0)
///     .with_head("right", Dense::new(16, 1, &mut rng), BinaryClassification, 0.5);
/// let mut trainer = Trainer::new(TrainConfig { epochs: 40, ..Default::default() });
/// trainer.fit(&mut model, &mut Adam::new(0.02), &loader, ()).unwrap();
/// let held_out = evaluate(&mut model, &loader).unwrap();
/// assert!(held_out["quadrant.accuracy"] > 0.9 && held_out["right.accuracy"] > 0.9);
/// ```
impl<T: Module, H: Module> TrainStep for MultiOutput<T, H> {
    #[track_caller]
    fn step(&self, batch: &Batch) -> Step {
        let outputs = self.forward(&Var::constant(batch.input().clone()));
        let targets: Vec<(&str, &Tensor)> = self
            .heads
            .iter()
            .map(|head| (head.name.as_str(), &batch.targets[head.name.as_str()]))
            .collect();
        let MultiLoss { total, per_task } = self.loss(&outputs, &targets);
        let mut metrics = Metrics::new();
        let tasks = self.heads.iter().zip(outputs.iter()).zip(&per_task);
        for ((head, (name, output)), (_, loss)) in tasks {
            metrics.add(&join_name(name, "loss"), Mean::of(*loss, batch.len()));
            let target = &batch.targets[name];
            metrics.merge_prefixed(name, &head.objective.metrics(output.value(), target));
        }
        Step::new(total, batch.len()).with_metrics(&metrics)
    }
}

/// The output and target of task `name`.
fn task_pair<'a>(
    name: &str,
    outputs: &'a Outputs,
    targets: &'a [(&str, &Tensor)],
) -> Result<(&'a Var, &'a Tensor)> {
    let missing = |what: &str| {
        TensorError::new(
            "MultiOutput",
            ErrorKind::InvalidArgument,
            format!("no {what} for task `{name}`"),
        )
    };
    let output = outputs.get(name).ok_or_else(|| missing("output"))?;
    let target = targets
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .ok_or_else(|| missing("target"))?;
    Ok((output, target))
}

/// Parameters are named `trunk.…` and `heads.<task name>.…`.
impl<T: Params, H: Params> Params for MultiOutput<T, H> {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        self.trunk.visit(&join_name(prefix, "trunk"), visitor);
        let heads = join_name(prefix, "heads");
        for head in &self.heads {
            head.module.visit(&join_name(&heads, &head.name), visitor);
        }
    }
    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        self.trunk.visit_mut(&join_name(prefix, "trunk"), visitor);
        let heads = join_name(prefix, "heads");
        for head in &mut self.heads {
            head.module
                .visit_mut(&join_name(&heads, &head.name), visitor);
        }
    }
    fn set_training(&mut self, training: bool) {
        self.trunk.set_training(training);
        for head in &mut self.heads {
            head.module.set_training(training);
        }
    }
}
