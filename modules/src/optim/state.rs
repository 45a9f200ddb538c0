//! What an optimizer remembers between steps: per-parameter state vectors bound to the
//! parameter they belong to, and their serialisable snapshot, [`OptimizerState`].

use crate::params::Params;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use strata_autograd::{Gradients, Var, VarId};
use strata_tensor::int_hash::IntSet;
use strata_tensor::{Tensor, TensorRecord};

/// A serialisable snapshot of an optimizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Which optimizer wrote it (`"sgd"`, `"adam"`, …).
    pub kind: String,
    /// Number of steps taken.
    pub steps: u64,
    /// Learning rate at the time of saving.
    pub learning_rate: f32,
    /// Per-parameter state tensors (momentum buffers, moments), by parameter name.
    #[serde(deserialize_with = "deserialize_slots")]
    pub slots: BTreeMap<String, Vec<Tensor>>,
    /// The states of the optimizers of an [`crate::OptimizerGroups`], by group (empty
    /// otherwise).
    pub groups: BTreeMap<String, OptimizerState>,
}

impl OptimizerState {
    /// Checks the state against the parameters it is meant for: every slot must name a
    /// parameter of `model`, and each of its tensors must hold exactly as many values as that
    /// parameter. [`crate::Checkpoint::apply_to_optimizer`] runs this before loading anything.
    ///
    /// ```
    /// use strata_modules::{Dense, Optimizer, Sgd};
    /// use strata_tensor::Rng;
    /// let small = Dense::new(2, 3, &mut Rng::new(0));
    /// let mut state = Sgd::new(0.1).momentum(0.9).state();
    /// assert!(state.check_fits(&small).is_ok());
    /// state.slots.insert("weight".into(), vec![strata_tensor::Tensor::zeros(&[5])]);
    /// let err = state.check_fits(&small).unwrap_err();
    /// assert_eq!(err.to_string(), "optimizer state: expected state tensors of 6 values for \
    ///     parameter `weight` (shape [3, 2]), found a tensor of shape [5]");
    /// ```
    pub fn check_fits<M: Params + ?Sized>(&self, model: &M) -> Result<(), OptimizerStateError> {
        let params: HashMap<String, Vec<usize>> = model
            .named_parameters()
            .into_iter()
            .map(|(name, param)| (name, param.shape().to_vec()))
            .collect();
        for (name, tensors) in &self.slots {
            let Some(shape) = params.get(name) else {
                let mut names: Vec<&str> = params.keys().map(String::as_str).collect();
                names.sort_unstable();
                return Err(OptimizerStateError {
                    expected: format!("slots named after the model's parameters {names:?}"),
                    found: format!("a slot for `{name}`"),
                });
            };
            let len: usize = shape.iter().product();
            if let Some(wrong) = tensors.iter().find(|t| t.numel() != len) {
                return Err(OptimizerStateError {
                    expected: format!(
                        "state tensors of {len} values for parameter `{name}` (shape {shape:?})"
                    ),
                    found: format!("a tensor of shape {:?}", wrong.shape()),
                });
            }
        }
        // A group's optimizer keys its slots by the parameters' full names.
        self.groups
            .values()
            .try_for_each(|group| group.check_fits(model))
    }
}

/// Reads the slots map, naming the slot whose tensor is refused (e.g. an impossible shape).
fn deserialize_slots<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Vec<Tensor>>, D::Error> {
    struct SlotsVisitor;
    impl<'de> Visitor<'de> for SlotsVisitor {
        type Value = BTreeMap<String, Vec<Tensor>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("state tensors by parameter name")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut slots = BTreeMap::new();
            while let Some(name) = map.next_key::<String>()? {
                let records: Vec<TensorRecord> = map.next_value()?;
                let tensors = records
                    .into_iter()
                    .map(|record| {
                        Tensor::try_from(record).map_err(|err| {
                            de::Error::custom(format_args!("optimizer slot `{name}`: {err}"))
                        })
                    })
                    .collect::<Result<_, A::Error>>()?;
                slots.insert(name, tensors);
            }
            Ok(slots)
        }
    }
    deserializer.deserialize_map(SlotsVisitor)
}

/// A saved state that does not fit the optimizer it is loaded into.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerStateError {
    /// What the optimizer expected.
    pub expected: String,
    /// What the state holds.
    pub found: String,
}

impl fmt::Display for OptimizerStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "optimizer state: expected {}, found {}",
            self.expected, self.found
        )
    }
}

impl std::error::Error for OptimizerStateError {}

/// The state vectors of one parameter, and the parameter they were bound to by a step
/// (`None` after a load, until the next step binds them).
#[derive(Debug, Clone)]
struct Slot {
    owner: Option<VarId>,
    vectors: Vec<Vec<f32>>,
    /// Created by the current step, not yet updated (a saved or loaded slot never is).
    fresh: bool,
}

/// Per-parameter state vectors, kept by parameter name so states survive a save and load,
/// and bound to the parameter ([`VarId`]) first stepped under that name, so two parameters
/// sharing a name (two models, two standalone `Var`s) never share state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slots {
    per_param: HashMap<String, Slot>,
}

impl Slots {
    /// Prepares `count` state vectors for every parameter of `model` that has a gradient in
    /// `grads`: created as zeros on first use, bound to the parameter, checked against it.
    /// Nothing is updated yet, so on an error (a name bound to another parameter, vectors of
    /// the wrong length) the caller can refuse the whole step.
    pub(crate) fn bind(
        &mut self,
        model: &dyn Params,
        grads: &Gradients,
        count: usize,
    ) -> Result<(), String> {
        if count == 0 {
            return Ok(());
        }
        /// Binds each parameter as the walk reaches it; stops binding at the first problem.
        struct Binder<'a> {
            slots: &'a mut Slots,
            grads: &'a Gradients,
            count: usize,
            seen: IntSet<VarId>,
            problem: Option<String>,
        }
        impl crate::params::Visitor for Binder<'_> {
            fn param(&mut self, name: &str, param: &Var) {
                if self.problem.is_none()
                    && self.grads.get(param).is_some()
                    && self.seen.insert(param.id())
                {
                    self.problem = self.slots.bind_one(name, param, self.count).err();
                }
            }
        }
        let mut binder = Binder {
            slots: self,
            grads,
            count,
            seen: IntSet::default(),
            problem: None,
        };
        model.visit("", &mut binder);
        binder.problem.map_or(Ok(()), Err)
    }

    /// Binds the slot of parameter `name` to `param`, creating `count` zero vectors on first
    /// use; an error if the name was bound to another parameter or its vectors do not fit.
    fn bind_one(&mut self, name: &str, param: &Var, count: usize) -> Result<(), String> {
        let len = param.numel();
        let slot = match self.per_param.get_mut(name) {
            Some(slot) => slot,
            None => self.per_param.entry(name.to_string()).or_insert(Slot {
                owner: None,
                vectors: vec![vec![0.0; len]; count],
                fresh: true,
            }),
        };
        if slot.owner.is_some_and(|owner| owner != param.id()) {
            return Err(format!(
                "{} is not the parameter this optimizer stepped under that name before, \
                 and their states would mix: use one optimizer per model, or distinct \
                 parameter names",
                describe(name)
            ));
        }
        if slot.vectors.len() != count || slot.vectors.iter().any(|v| v.len() != len) {
            let lengths: Vec<usize> = slot.vectors.iter().map(Vec::len).collect();
            return Err(format!(
                "{} has {len} values, but its loaded state holds {count} vectors of \
                 lengths {lengths:?} (check a state with OptimizerState::check_fits before \
                 loading it)",
                describe(name)
            ));
        }
        slot.owner = Some(param.id());
        Ok(())
    }

    /// The state vectors of a parameter prepared by [`Slots::bind`], and whether this is
    /// their first update (they were created by this step).
    pub(crate) fn vectors(&mut self, name: &str) -> (&mut [Vec<f32>], bool) {
        let slot = self
            .per_param
            .get_mut(name)
            .expect("Slots::bind prepares every parameter before the update");
        (&mut slot.vectors, std::mem::take(&mut slot.fresh))
    }

    pub(crate) fn to_state(&self, kind: &str, steps: u64, learning_rate: f32) -> OptimizerState {
        OptimizerState {
            kind: kind.to_string(),
            steps,
            learning_rate,
            slots: self
                .per_param
                .iter()
                .map(|(name, slot)| {
                    let tensors = slot
                        .vectors
                        .iter()
                        .map(|v| Tensor::from_slice(v, &[v.len()]))
                        .collect();
                    (name.clone(), tensors)
                })
                .collect(),
            groups: BTreeMap::new(),
        }
    }

    /// Restores slots from a state after checking its kind, learning rate and slot count;
    /// they are bound to parameters by the next step.
    pub(crate) fn load(
        state: &OptimizerState,
        kind: &str,
        count: usize,
    ) -> Result<Self, OptimizerStateError> {
        if state.kind != kind {
            return Err(OptimizerStateError {
                expected: format!("a `{kind}` state"),
                found: format!("a `{}` state", state.kind),
            });
        }
        if !state.learning_rate.is_finite() {
            return Err(OptimizerStateError {
                expected: "a finite learning rate".into(),
                found: state.learning_rate.to_string(),
            });
        }
        let mut per_param = HashMap::new();
        for (name, tensors) in &state.slots {
            if tensors.len() != count {
                return Err(OptimizerStateError {
                    expected: format!("{count} state tensors for `{name}`"),
                    found: tensors.len().to_string(),
                });
            }
            let vectors = tensors.iter().map(Tensor::to_vec).collect();
            per_param.insert(
                name.clone(),
                Slot {
                    owner: None,
                    vectors,
                    fresh: false,
                },
            );
        }
        Ok(Self { per_param })
    }
}

/// A parameter's name for messages (standalone `Var`s have the empty name).
fn describe(name: &str) -> String {
    if name.is_empty() {
        "the unnamed parameter (a standalone `Var`)".to_string()
    } else {
        format!("parameter `{name}`")
    }
}
