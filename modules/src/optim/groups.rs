//! Several optimizers for one model, each over the parameters under one name: a GAN's
//! generator and discriminator, a backbone and a head with their own learning rates.

use super::{Optimizer, OptimizerState, OptimizerStateError};
use crate::params::{Buffer, Params, RngCell, Visitor, VisitorMut};
use std::collections::BTreeMap;
use strata_autograd::{Gradients, Var};

/// Whether the parameter `name` belongs to `group`: it is `group` itself or lies under
/// `group.`; the empty group holds every parameter.
pub fn in_group(name: &str, group: &str) -> bool {
    group.is_empty()
        || name
            .strip_prefix(group)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Optimizers by parameter group: `group("generator", Adam::new(2e-4))` updates the
/// parameters named `generator.…` with its own Adam, step count and learning rate.
/// Parameters outside every group are not trained. A group none of whose parameters has a
/// gradient is not stepped (its step count, which Adam's bias correction uses, stays put),
/// so [`crate::Optimization::minimize_group`] updates one group at a time.
///
/// The learning rate is that of the first group added with a rate above zero (the reference);
/// setting it (as schedules do) scales every group by the same factor, keeping their ratios
/// (a group added with rate zero stays frozen).
///
/// ```
/// use strata_modules::{Adam, Dense, Module, Optimizer, OptimizerGroups, Params, Sgd, Var};
/// use strata_tensor::{Rng, Tensor};
/// #[derive(Params)]
/// struct Pair { backbone: Dense, head: Dense }
/// let mut rng = Rng::new(0);
/// let mut model = Pair { backbone: Dense::new(2, 2, &mut rng), head: Dense::new(2, 1, &mut rng) };
/// let mut optimizers = OptimizerGroups::new()
///     .group("backbone", Sgd::new(0.125))
///     .group("head", Adam::new(0.5));
/// let x = Var::constant(Tensor::ones(&[1, 2]));
/// let before = model.backbone.weight.value().to_vec();
/// let grads = model.head.forward(&model.backbone.forward(&x)).sum().backward().unwrap();
/// optimizers.step(&mut model, &grads);
/// assert_ne!(model.backbone.weight.value().to_vec(), before);
/// optimizers.set_learning_rate(0.0625); // half the first group's: the head's halves too
/// assert_eq!(optimizers.group_learning_rates(), vec![0.0625, 0.25]);
/// ```
#[derive(Default)]
pub struct OptimizerGroups {
    groups: Vec<Group>,
}

struct Group {
    name: String,
    optimizer: Box<dyn Optimizer>,
    /// The learning rate the group was added with: schedules scale it.
    base_learning_rate: f32,
}

/// The kind recorded in the state of an [`OptimizerGroups`].
const KIND: &str = "groups";

impl OptimizerGroups {
    /// No group yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `optimizer` for the parameters named `name` or `name.…` (builder style). Panics
    /// if the group overlaps one already added (the same parameter would be stepped twice).
    #[track_caller]
    pub fn group(mut self, name: &str, optimizer: impl Optimizer + 'static) -> Self {
        if let Some(other) = self
            .groups
            .iter()
            .find(|g| in_group(name, &g.name) || in_group(&g.name, name))
        {
            panic!(
                "OptimizerGroups: group `{name}` overlaps group `{}`: each parameter belongs to one group",
                other.name
            );
        }
        self.groups.push(Group {
            name: name.to_string(),
            base_learning_rate: optimizer.learning_rate(),
            optimizer: Box::new(optimizer),
        });
        self
    }

    /// The group names, in the order they were added.
    pub fn names(&self) -> Vec<&str> {
        self.groups.iter().map(|g| g.name.as_str()).collect()
    }

    /// Each group's current learning rate, in order.
    pub fn group_learning_rates(&self) -> Vec<f32> {
        self.groups
            .iter()
            .map(|g| g.optimizer.learning_rate())
            .collect()
    }

    /// The group whose learning rate stands for all: the first added with a rate above zero.
    fn reference(&self) -> Option<&Group> {
        self.groups.iter().find(|g| g.base_learning_rate > 0.0)
    }

    /// The optimizer of group `name`.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut (dyn Optimizer + 'static)> {
        let group = self.groups.iter_mut().find(|g| g.name == name)?;
        Some(group.optimizer.as_mut())
    }
}

impl Optimizer for OptimizerGroups {
    fn step(&mut self, model: &mut dyn Params, grads: &Gradients) {
        for group in &mut self.groups {
            let mut view = GroupView {
                model: &mut *model,
                group: &group.name,
            };
            if has_gradient(&mut view, grads) {
                group.optimizer.step(&mut view, grads);
            }
        }
    }

    fn learning_rate(&self) -> f32 {
        self.reference()
            .map_or(0.0, |g| g.optimizer.learning_rate())
    }

    fn set_learning_rate(&mut self, lr: f32) {
        let Some(reference_base) = self.reference().map(|g| g.base_learning_rate) else {
            return;
        };
        for group in &mut self.groups {
            let scaled = lr * group.base_learning_rate / reference_base;
            group.optimizer.set_learning_rate(scaled);
        }
    }

    fn state(&self) -> OptimizerState {
        OptimizerState {
            kind: KIND.to_string(),
            steps: 0,
            learning_rate: self.learning_rate(),
            slots: BTreeMap::new(),
            groups: self
                .groups
                .iter()
                .map(|g| (g.name.clone(), g.optimizer.state()))
                .collect(),
        }
    }

    /// Restores every group from a state saved by the same groups; on error, every group is
    /// left as it was.
    fn load_state(&mut self, state: &OptimizerState) -> Result<(), OptimizerStateError> {
        let names: Vec<&String> = state.groups.keys().collect();
        let mut mine: Vec<&String> = self.groups.iter().map(|g| &g.name).collect();
        mine.sort();
        if state.kind != KIND || names != mine {
            return Err(OptimizerStateError {
                expected: format!("a `{KIND}` state with groups {mine:?}"),
                found: format!("a `{}` state with groups {names:?}", state.kind),
            });
        }
        let before: Vec<OptimizerState> = self.groups.iter().map(|g| g.optimizer.state()).collect();
        let failure = self.groups.iter_mut().find_map(|group| {
            let loaded = group.optimizer.load_state(&state.groups[&group.name]);
            loaded.err().map(|err| OptimizerStateError {
                expected: format!("group `{}`: {}", group.name, err.expected),
                found: err.found,
            })
        });
        match failure {
            None => Ok(()),
            Some(err) => {
                for (group, saved) in self.groups.iter_mut().zip(&before) {
                    // A state taken from this very optimizer loads back.
                    let _ = group.optimizer.load_state(saved);
                }
                Err(err)
            }
        }
    }
}

/// Whether any parameter of `model` has a gradient in `grads`.
fn has_gradient(model: &mut dyn Params, grads: &Gradients) -> bool {
    let mut found = false;
    model.visit_mut("", &mut |_: &str, param: &mut Var| {
        found |= grads.get(param).is_some();
    });
    found
}

/// The parameters (buffers, random streams) of `model` that belong to `group`.
struct GroupView<'a> {
    model: &'a mut dyn Params,
    group: &'a str,
}

impl Params for GroupView<'_> {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        let mut only = GroupVisitor {
            inner: visitor,
            group: self.group,
        };
        self.model.visit(prefix, &mut only);
    }

    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        let group = self.group;
        self.model
            .visit_mut(prefix, &mut |name: &str, param: &mut Var| {
                if in_group(name, group) {
                    visitor.param(name, param);
                }
            });
    }

    fn set_training(&mut self, training: bool) {
        self.model.set_training(training);
    }
}

/// Passes on what lies in `group` only.
struct GroupVisitor<'a> {
    inner: &'a mut dyn Visitor,
    group: &'a str,
}

impl Visitor for GroupVisitor<'_> {
    fn param(&mut self, name: &str, param: &Var) {
        if in_group(name, self.group) {
            self.inner.param(name, param);
        }
    }

    fn buffer(&mut self, name: &str, buffer: &Buffer) {
        if in_group(name, self.group) {
            self.inner.buffer(name, buffer);
        }
    }

    fn rng(&mut self, name: &str, rng: &RngCell) {
        if in_group(name, self.group) {
            self.inner.rng(name, rng);
        }
    }
}
