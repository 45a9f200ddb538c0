//! Bottom-up and top-down attention (Anderson et al., CVPR 2018): a bottom-up encoder turns
//! each region of an input into a feature vector without knowing the question; a top-down
//! signal, the query, then decides how much each region counts, and a head answers from the
//! attended mixture of regions.

use crate::expect_ok;
use strata_autograd::Var;
use strata_datasets::Batch;
use strata_modules::{
    try_scaled_dot_product_attention, AttentionMasks, Classification, Dense, Module, Objective,
    Params, Step, TrainStep,
};
use strata_tensor::{ErrorKind, Result, Rng, Tensor, TensorError};

/// Regions `[N, R, F]` are encoded one by one by `E` into features `[N, R, D]` (bottom-up);
/// a query `[N, Q]` is embedded to `[N, D]` and scores every region feature by a scaled
/// scalar product; the softmax of the scores weights the regions (top-down); the head `H`
/// maps the attended feature `[N, D]` to the output. Parameters are named `encoder.…`,
/// `query.…` and `head.…`.
///
/// It trains with [`Trainer::fit`](strata_modules::Trainer::fit) on batches whose inputs
/// `regions` and `query` ([`BottomUpTopDown::REGIONS`], [`BottomUpTopDown::QUERY`]) hold the
/// regions and queries, scoring the output against the first target with its objective
/// (classification unless [`BottomUpTopDown::with_objective`] says otherwise).
///
/// ```
/// use strata_modules::{Dense, Module, Relu, Sequential};
/// use strata_patterns::BottomUpTopDown;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let encoder = Sequential::new().push(Dense::new(6, 8, &mut rng)).push(Relu);
/// let model = BottomUpTopDown::new(encoder, 3, 8, Dense::new(8, 2, &mut rng), &mut rng);
/// let regions = Tensor::rand_normal(&[5, 4, 6], 0.0, 1.0, &mut rng); // 5 inputs, 4 regions
/// let queries = Tensor::rand_normal(&[5, 3], 0.0, 1.0, &mut rng);
/// let (output, weights) = model.answer(&regions, &queries);
/// assert_eq!((output.shape(), weights.shape()), (&[5, 2][..], &[5, 4][..]));
/// ```
///
/// Trained by `fit`: two regions per input, each a number in [-1, 1) and its position; the
/// query names a region, and the answer is the sign of that region's number.
///
/// ```
/// use strata_datasets::{DataLoader, Fields, TensorDataset};
/// use strata_modules::{Adam, Dense, Relu, Sequential, TrainConfig, Trainer};
/// use strata_patterns::BottomUpTopDown;
/// use strata_tensor::{Rng, Tensor};
/// type Model = BottomUpTopDown<Sequential, Dense>;
/// let (mut rng, n) = (Rng::new(0), 256);
/// let (mut regions, mut queries, mut signs) = (Vec::new(), Vec::new(), Vec::new());
/// let one_hot = |k: usize| [(k == 0) as u8 as f32, (k == 1) as u8 as f32];
/// for _ in 0..n {
///     let values = [2.0 * rng.next_f32() - 1.0, 2.0 * rng.next_f32() - 1.0];
///     for region in 0..2 {
///         regions.push(values[region]);
///         regions.extend(one_hot(region));
///     }
///     let queried = rng.below(2);
///     queries.extend(one_hot(queried));
///     signs.push((values[queried] > 0.0) as u8 as f32);
/// }
/// let data = TensorDataset::from_fields(
///     Fields::new()
///         .with(Model::REGIONS, Tensor::from_vec(regions, &[n, 2, 3]))
///         .with(Model::QUERY, Tensor::from_vec(queries, &[n, 2])),
///     Fields::new().with("sign", Tensor::from_vec(signs, &[n])),
/// )
/// .unwrap();
/// let loader = DataLoader::new(data, 32).shuffle(1);
/// let encoder = Sequential::new().push(Dense::new(3, 16, &mut rng)).push(Relu);
/// let mut model: Model =
///     BottomUpTopDown::new(encoder, 2, 16, Dense::new(16, 2, &mut rng), &mut rng);
/// let mut trainer = Trainer::new(TrainConfig { epochs: 60, ..Default::default() });
/// let history = trainer.fit(&mut model, &mut Adam::new(0.01), &loader, &loader).unwrap();
/// assert!(history.last().unwrap().val_accuracy().unwrap() > 0.9);
/// ```
#[derive(Params)]
pub struct BottomUpTopDown<E, H> {
    /// Bottom-up: one region's input → its feature, applied to every region alike.
    pub encoder: E,
    /// Top-down: query → a vector in the space of the region features.
    pub query: Dense,
    /// Attended feature → output.
    pub head: H,
    /// How the output is scored against the target when training.
    #[module(skip)]
    objective: Box<dyn Objective>,
}

impl<E, H> BottomUpTopDown<E, H> {
    /// Name of the batch input holding the regions `[N, R, F]`.
    pub const REGIONS: &'static str = "regions";
    /// Name of the batch input holding the queries `[N, Q]`.
    pub const QUERY: &'static str = "query";
}

impl<E: Module, H: Module> BottomUpTopDown<E, H> {
    /// A model whose encoder outputs `features` numbers per region and whose queries have
    /// `query_width` numbers; its output is trained as class logits.
    pub fn new(encoder: E, query_width: usize, features: usize, head: H, rng: &mut Rng) -> Self {
        Self {
            encoder,
            query: Dense::new(query_width, features, rng),
            head,
            objective: Box::new(Classification::default()),
        }
    }

    /// The same model trained on `objective` instead (builder style), e.g.
    /// [`BinaryClassification`](strata_modules::BinaryClassification) for yes/no answers.
    pub fn with_objective(mut self, objective: impl Objective + 'static) -> Self {
        self.objective = Box::new(objective);
        self
    }

    /// The region features `[N, R, D]` (bottom-up, independent of any query).
    pub fn region_features(&self, regions: &Tensor) -> Var {
        self.encoder.forward(&Var::constant(regions.clone()))
    }

    /// The output `[N, out]` for regions `[N, R, F]` and queries `[N, Q]`, and the attention
    /// weights `[N, R]` the query gave the regions (each row sums to 1). Panics on shapes
    /// that do not fit.
    #[track_caller]
    pub fn answer(&self, regions: &Tensor, queries: &Tensor) -> (Var, Var) {
        expect_ok(self.try_answer(regions, queries))
    }

    /// Fallible [`BottomUpTopDown::answer`].
    pub fn try_answer(&self, regions: &Tensor, queries: &Tensor) -> Result<(Var, Var)> {
        if regions.ndim() != 3 || queries.ndim() != 2 || regions.shape()[0] != queries.shape()[0] {
            return Err(TensorError::new(
                "BottomUpTopDown",
                ErrorKind::ShapeMismatch,
                format!(
                    "expected regions [N, R, F] and queries [N, Q], found {:?} and {:?}",
                    regions.shape(),
                    queries.shape()
                ),
            ));
        }
        let features = self.region_features(regions);
        let query = Var::constant(queries.clone())
            .try_linear(&self.query.weight, self.query.bias.as_ref())?
            .unsqueeze(1);
        let (attended, weights) = try_scaled_dot_product_attention(
            &query,
            &features,
            &features,
            &AttentionMasks::default(),
        )?;
        Ok((self.head.forward(&attended.squeeze(1)), weights.squeeze(1)))
    }
}

impl<E: Module, H: Module> TrainStep for BottomUpTopDown<E, H> {
    /// The objective's loss and metrics (e.g. `accuracy`) of the answers to the batch's
    /// `regions` and `query` against its first target.
    fn step(&self, batch: &Batch) -> Step {
        let (output, _) = self.answer(&batch.inputs[Self::REGIONS], &batch.inputs[Self::QUERY]);
        let target = batch.target();
        let loss = self.objective.loss(&output, target);
        Step::new(loss, batch.len()).with_metrics(&self.objective.metrics(output.value(), target))
    }
}
