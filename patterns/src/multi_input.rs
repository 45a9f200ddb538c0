//! Multi-input encoder: one encoder per input flow (modality, view, sensor), and a fusion
//! that merges their codes into one representation for what follows.

use crate::expect_ok;
use strata_autograd::Var;
use strata_datasets::Batch;
use strata_modules::{Dense, Module, Objective, Params, Step, TrainStep, Visitor, VisitorMut};
use strata_tensor::{ErrorKind, Result, Rng, TensorError};

/// How the codes `h₁ … h_F` of the flows (each `[N, D_f]`) become one `[N, D]`.
pub enum Fusion {
    /// Side by side, `[h₁ | … | h_F]`: `D = Σ D_f`; widths may differ.
    Concat,
    /// Element-wise sum `Σ h_f`; equal widths.
    Sum,
    /// Element-wise product `Π h_f` (multiplicative interaction); equal widths.
    Product,
    /// A learned weight per flow and example, `Σ w_f·h_f` with
    /// `w = softmax(gate([h₁ | … | h_F]))`: the network learns which flow to trust; equal widths.
    Gated(Dense),
}

impl Fusion {
    /// Gated fusion of `flows` codes of width `width` each, its gate initialised from `rng`.
    pub fn gated(flows: usize, width: usize, rng: &mut Rng) -> Self {
        Self::Gated(Dense::new(flows * width, flows, rng))
    }

    /// Width of the fused code for flows of the given widths.
    pub fn output_width(&self, widths: &[usize]) -> usize {
        match self {
            Self::Concat => widths.iter().sum(),
            _ => widths.first().copied().unwrap_or(0),
        }
    }

    /// Merges the codes of the flows. Panics if they do not fit the fusion.
    #[track_caller]
    pub fn fuse(&self, codes: &[Var]) -> Var {
        expect_ok(self.try_fuse(codes))
    }

    /// Fallible [`Fusion::fuse`].
    pub fn try_fuse(&self, codes: &[Var]) -> Result<Var> {
        check_codes(self, codes)?;
        let refs: Vec<&Var> = codes.iter().collect();
        let combine = |op: fn(&Var, &Var) -> Var| {
            codes[1..]
                .iter()
                .fold(codes[0].clone(), |acc, code| op(&acc, code))
        };
        Ok(match self {
            Self::Concat => Var::concat(&refs, -1),
            Self::Sum => combine(Var::add),
            Self::Product => combine(Var::mul),
            Self::Gated(gate) => {
                // weights [N, F]; stacked codes [N, F, D]; Σ_f w_f·h_f.
                let weights = gate.forward(&Var::concat(&refs, -1)).softmax(-1);
                let stacked = Var::stack(&refs, 1);
                stacked.mul(&weights.unsqueeze(-1)).sum_axes(&[1], false)
            }
        })
    }

    /// The per-flow weights the gate gives each example, `[N, F]` (`None` unless gated).
    pub fn gate_weights(&self, codes: &[Var]) -> Option<Var> {
        let Self::Gated(gate) = self else {
            return None;
        };
        let refs: Vec<&Var> = codes.iter().collect();
        Some(gate.forward(&Var::concat(&refs, -1)).softmax(-1))
    }
}

fn check_codes(fusion: &Fusion, codes: &[Var]) -> Result<()> {
    let shapes: Vec<&[usize]> = codes.iter().map(Var::shape).collect();
    let fail = |kind, message: String| Err(TensorError::new("fuse", kind, message));
    if codes.is_empty() {
        return fail(ErrorKind::InvalidArgument, "no flow to fuse".to_string());
    }
    if shapes.iter().any(|s| s.len() != 2 || s[0] != shapes[0][0]) {
        return fail(
            ErrorKind::ShapeMismatch,
            format!("codes should be [N, D] with one N, found {shapes:?}"),
        );
    }
    if !matches!(fusion, Fusion::Concat) && shapes.iter().any(|s| s[1] != shapes[0][1]) {
        return fail(
            ErrorKind::ShapeMismatch,
            format!("sum, product and gated fusion need equal widths, found {shapes:?}"),
        );
    }
    if let Fusion::Gated(gate) = fusion {
        let expected = (codes.len() * shapes[0][1], codes.len());
        if (gate.in_features(), gate.out_features()) != expected {
            return fail(
                ErrorKind::ShapeMismatch,
                format!(
                    "the gate maps {} → {} but {} flows of width {} need {} → {}",
                    gate.in_features(),
                    gate.out_features(),
                    codes.len(),
                    shapes[0][1],
                    expected.0,
                    expected.1
                ),
            );
        }
    }
    Ok(())
}

/// Only the gate has parameters, named `gate.weight` and `gate.bias`.
impl Params for Fusion {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        if let Self::Gated(gate) = self {
            gate.visit(&strata_modules::join_name(prefix, "gate"), visitor);
        }
    }
    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        if let Self::Gated(gate) = self {
            gate.visit_mut(&strata_modules::join_name(prefix, "gate"), visitor);
        }
    }
    fn set_training(&mut self, _: bool) {}
}

/// One encoder per input flow and a [`Fusion`] of their codes: `fuse(E₁(x₁), …, E_F(x_F))`,
/// optionally followed by a head that makes it a complete model (then it trains with
/// [`strata_modules::Trainer::fit`]).
///
/// The encoders may be of different kinds (a convolution for an image, an MLP for a table):
/// `E` defaults to `Box<dyn Module>`.
///
/// ```
/// use strata_modules::{Dense, Var};
/// use strata_patterns::{Fusion, MultiInput};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let encoders = vec![Dense::new(3, 4, &mut rng), Dense::new(5, 4, &mut rng)];
/// let model = MultiInput::new(encoders, Fusion::gated(2, 4, &mut rng));
/// let image = Var::constant(Tensor::ones(&[8, 3]));
/// let table = Var::constant(Tensor::ones(&[8, 5]));
/// assert_eq!(model.forward_inputs(&[&image, &table]).shape(), &[8, 4]);
/// ```
#[derive(Params)]
pub struct MultiInput<E = Box<dyn Module>> {
    /// The encoder of flow `f`, named `encoders.f`.
    pub encoders: Vec<E>,
    /// How the codes are merged.
    pub fusion: Fusion,
    /// What reads the fused code when the model is trained on its own, named `head`.
    head: Option<Head>,
    /// The batch input each encoder reads, by name (empty: by position).
    #[module(skip)]
    inputs: Vec<String>,
}

/// The head of a [`MultiInput`]: a module on the fused code, scored by an objective against
/// the batch's target `target`.
struct Head {
    module: Box<dyn Module>,
    objective: Box<dyn Objective>,
    target: String,
}

/// The head's parameters under the head's own name (`head.weight`, …).
impl Params for Head {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        self.module.visit(prefix, visitor);
    }
    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        self.module.visit_mut(prefix, visitor);
    }
    fn set_training(&mut self, training: bool) {
        self.module.set_training(training);
    }
}

impl<E: Module> MultiInput<E> {
    /// One encoder per flow, merged by `fusion`. Encoder `f` reads the batch's input `f`
    /// unless [`MultiInput::reading`] names the inputs.
    pub fn new(encoders: Vec<E>, fusion: Fusion) -> Self {
        Self {
            encoders,
            fusion,
            head: None,
            inputs: Vec::new(),
        }
    }

    /// Encoder `f` reads the batch input named `names[f]` (builder style). Panics unless
    /// there is one name per encoder.
    #[track_caller]
    pub fn reading(mut self, names: &[&str]) -> Self {
        assert_eq!(
            names.len(),
            self.encoders.len(),
            "MultiInput::reading: expected one input name per encoder ({}), found {names:?}",
            self.encoders.len()
        );
        self.inputs = names.iter().map(|n| n.to_string()).collect();
        self
    }

    /// Adds `module` on the fused code, trained on `objective` against the batch's target
    /// named `target` (builder style): the model then implements [`TrainStep`], reporting the
    /// loss and the objective's metrics (e.g. `accuracy`).
    pub fn with_head(
        mut self,
        target: &str,
        module: impl Module + 'static,
        objective: impl Objective + 'static,
    ) -> Self {
        self.head = Some(Head {
            module: Box::new(module),
            objective: Box::new(objective),
            target: target.to_string(),
        });
        self
    }

    /// The code of each flow, `E_f(x_f)`. Panics unless there is one input per encoder.
    #[track_caller]
    pub fn encode_each(&self, inputs: &[&Var]) -> Vec<Var> {
        expect_ok(self.try_encode_each(inputs))
    }

    /// Fallible [`MultiInput::encode_each`].
    pub fn try_encode_each(&self, inputs: &[&Var]) -> Result<Vec<Var>> {
        if inputs.len() != self.encoders.len() {
            return Err(TensorError::new(
                "MultiInput",
                ErrorKind::InvalidArgument,
                format!(
                    "expected one input per encoder ({}), found {}",
                    self.encoders.len(),
                    inputs.len()
                ),
            ));
        }
        Ok(self
            .encoders
            .iter()
            .zip(inputs)
            .map(|(encoder, x)| encoder.forward(x))
            .collect())
    }

    /// The fused representation `[N, D]` of one batch per flow.
    #[track_caller]
    pub fn forward_inputs(&self, inputs: &[&Var]) -> Var {
        expect_ok(self.try_forward_inputs(inputs))
    }

    /// Fallible [`MultiInput::forward_inputs`].
    pub fn try_forward_inputs(&self, inputs: &[&Var]) -> Result<Var> {
        self.fusion.try_fuse(&self.try_encode_each(inputs)?)
    }

    /// The fused representation of a batch's flows, each encoder reading its input (by name
    /// or position). Panics if the batch lacks one.
    #[track_caller]
    pub fn encode_batch(&self, batch: &Batch) -> Var {
        let flows: Vec<Var> = (0..self.encoders.len())
            .map(|f| {
                let input = match self.inputs.get(f) {
                    Some(name) => &batch.inputs[name.as_str()],
                    None => &batch.inputs[f],
                };
                Var::constant(input.clone())
            })
            .collect();
        self.forward_inputs(&flows.iter().collect::<Vec<_>>())
    }

    /// The head's output for a batch. Panics if the model has no head
    /// ([`MultiInput::with_head`]).
    #[track_caller]
    pub fn forward_batch(&self, batch: &Batch) -> Var {
        self.expect_head().module.forward(&self.encode_batch(batch))
    }

    #[track_caller]
    fn expect_head(&self) -> &Head {
        match &self.head {
            Some(head) => head,
            None => panic!("MultiInput: no head to train or run; add one with `with_head`"),
        }
    }
}

/// Trains a [`MultiInput`] with a head: its objective's loss on the head's output against the
/// batch's target, and the objective's metrics.
///
/// ```
/// use strata_datasets::{DataLoader, Fields, TensorDataset};
/// use strata_modules::{Adam, Classification, Dense, Relu, Sequential, TrainConfig, Trainer};
/// use strata_patterns::{Fusion, MultiInput};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// // Two readings of a point; class 1 when the first exceeds the second.
/// let (a, b) = (Tensor::rand_uniform(&[128, 1], -1.0, 1.0, &mut rng),
///               Tensor::rand_uniform(&[128, 1], -1.0, 1.0, &mut rng));
/// let label = a.gt(&b).squeeze(1);
/// let data = TensorDataset::from_fields(
///     Fields::new().with("a", a).with("b", b),
///     Fields::new().with("label", label),
/// ).unwrap();
/// let loader = DataLoader::new(data, 16).shuffle(0);
/// let encoder = |rng: &mut Rng| Sequential::new().push(Dense::new(1, 8, rng)).push(Relu);
/// let mut model = MultiInput::new(vec![encoder(&mut rng), encoder(&mut rng)], Fusion::Concat)
///     .reading(&["a", "b"])
///     .with_head("label", Dense::new(16, 2, &mut rng), Classification::default());
/// let mut trainer = Trainer::new(TrainConfig { epochs: 40, ..Default::default() });
/// let history = trainer.fit(&mut model, &mut Adam::new(0.02), &loader, &loader).unwrap();
/// assert!(history.last().unwrap().val_accuracy().unwrap() > 0.9);
/// ```
impl<E: Module> TrainStep for MultiInput<E> {
    #[track_caller]
    fn step(&self, batch: &Batch) -> Step {
        let head = self.expect_head();
        let output = self.forward_batch(batch);
        let target = &batch.targets[head.target.as_str()];
        let loss = head.objective.loss(&output, target);
        Step::new(loss, batch.len()).with_metrics(&head.objective.metrics(output.value(), target))
    }
}
