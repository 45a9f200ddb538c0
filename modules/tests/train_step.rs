//! One training loop for every model: data loaders straight into `fit`, models with several
//! inputs or outputs defining their own step, several optimizers updating parts of a model
//! in turn, data errors ending `fit`, and resumes that restore everything or nothing.

use std::sync::Arc;
use strata_datasets::{
    breast_cancer, digits, wine, Batch, Compose, DataError, DataLoader, DataResult, Dataset,
    Example, Fields, Normalize, ScaleToUnit, Subset, TensorDataset, Transform, DIGITS_MAX_VALUE,
};
use strata_modules::{
    accuracy, bce_with_logits, binary_accuracy, cross_entropy, evaluate, Adam,
    BinaryClassification, BinaryHead, Classification, Dense, Metrics, Module, MultiClassHead,
    MultiLabelHead, Optimization, Optimizer, OptimizerGroups, Params, Reduction, Relu, Sequential,
    Sgd, Step, TrainConfig, TrainError, TrainStep, Trainer, Var,
};
use strata_tensor::{Rng, Tensor};

/// A seeded 75/25 split of `data`, each part passed through `prepare` (fitted on training).
fn split_prepared(
    data: TensorDataset,
    prepare: impl Fn(&Subset) -> Arc<dyn Transform>,
) -> (DataLoader, DataLoader) {
    let (train, test) = data.split(0.25, 1).unwrap();
    let transform = prepare(&train);
    let (train, test) = (
        train.map(Arc::clone(&transform)),
        test.map(Arc::clone(&transform)),
    );
    (
        DataLoader::new(train, 16).shuffle(2),
        DataLoader::new(test, 256),
    )
}

/// Standardised features, per feature, from the training part's statistics.
fn standardised(data: TensorDataset) -> (DataLoader, DataLoader) {
    split_prepared(data, |train| Arc::new(Normalize::fit(train).unwrap()))
}

/// Trains `model` scored by `objective` and returns the last epoch's held-out metrics.
fn fit_held_out(
    model: &mut Sequential,
    objective: impl strata_modules::Objective,
    (train, test): &(DataLoader, DataLoader),
    epochs: usize,
) -> strata_modules::MetricValues {
    let mut trainer = Trainer::new(TrainConfig {
        epochs,
        ..Default::default()
    });
    let history = trainer
        .fit(
            &mut model.with_objective(objective),
            &mut Adam::new(3e-3),
            train,
            test,
        )
        .unwrap();
    history.last().unwrap().validation.clone()
}

#[test]
fn a_binary_head_learns_breast_cancer_diagnosis() {
    let column_target = |e: Example, _: &mut Rng| {
        let target = e.target().reshape(&[1]);
        Ok(e.with_target(target))
    };
    let data = split_prepared(breast_cancer(), |train| {
        let normalize = Normalize::fit(train).unwrap();
        Arc::new(Compose::new().then(normalize).then(column_target))
    });
    let mut rng = Rng::new(3);
    let mut model = Sequential::new()
        .push(Dense::new(30, 16, &mut rng))
        .push(Relu)
        .push(BinaryHead::new(16, &mut rng));
    let held_out = fit_held_out(&mut model, BinaryClassification, &data, 20);
    // 142 held-out tumours; measured 98.6%.
    assert!(held_out["accuracy"] >= 0.95, "{held_out:?}");
}

/// Two yes/no answers per digit: is it odd, is it 5 or more.
fn odd_and_large(e: Example, _: &mut Rng) -> DataResult<Example> {
    let digit = e.target().item();
    let labels = Tensor::from_vec(vec![digit % 2.0, (digit >= 5.0) as u8 as f32], &[2]);
    Ok(e.with_target(labels))
}

fn flat_digits() -> TensorDataset {
    digits().with_input_shape(&[64]).unwrap()
}

#[test]
fn a_multi_label_head_learns_two_answers_per_digit() {
    let data = split_prepared(flat_digits(), |_| {
        Arc::new(
            Compose::new()
                .then(ScaleToUnit::new(DIGITS_MAX_VALUE))
                .then(odd_and_large),
        )
    });
    let mut rng = Rng::new(4);
    let mut model = Sequential::new()
        .push(Dense::new(64, 64, &mut rng))
        .push(Relu)
        .push(MultiLabelHead::new(64, 2, &mut rng));
    let held_out = fit_held_out(&mut model, BinaryClassification, &data, 20);
    // Per answer, over 449 held-out digits; measured 97.6%.
    assert!(held_out["accuracy"] >= 0.94, "{held_out:?}");
}

#[test]
fn a_multi_class_head_learns_the_wine_cultivars() {
    let data = standardised(wine());
    let mut rng = Rng::new(5);
    let mut model = Sequential::new()
        .push(Dense::new(13, 16, &mut rng))
        .push(Relu)
        .push(MultiClassHead::new(16, 3, &mut rng));
    let held_out = fit_held_out(&mut model, Classification::default(), &data, 30);
    // 45 held-out wines; measured 95.6%.
    assert!(held_out["accuracy"] >= 0.9, "{held_out:?}");
}

/// The digits as two inputs: the top four rows and the bottom four rows of each image.
fn digit_halves() -> (DataLoader, DataLoader) {
    let pixels = flat_digits().input().mul_scalar(1.0 / DIGITS_MAX_VALUE);
    let labels = flat_digits().target().clone();
    let data = TensorDataset::from_fields(
        Fields::new()
            .with("top", pixels.narrow(1, 0, 32))
            .with("bottom", pixels.narrow(1, 32, 32)),
        Fields::new().with("digit", labels),
    )
    .unwrap();
    let (train, test) = data.split(0.25, 1).unwrap();
    (
        DataLoader::new(train, 32).shuffle(6),
        DataLoader::new(test, 256),
    )
}

/// One encoder per half, fused by addition, and a classifier.
#[derive(Params)]
struct TwoHalves {
    top: Dense,
    bottom: Dense,
    head: Dense,
}

impl TrainStep for TwoHalves {
    fn step(&self, batch: &Batch) -> Step {
        let encode =
            |layer: &Dense, name: &str| layer.forward(&Var::constant(batch.inputs[name].clone()));
        let fused = encode(&self.top, "top")
            .add(&encode(&self.bottom, "bottom"))
            .relu();
        let logits = self.head.forward(&fused);
        let digit = &batch.targets["digit"];
        let loss = cross_entropy(&logits, digit, 0.0, Reduction::Mean);
        Step::new(loss, batch.len()).with("accuracy", accuracy(logits.value(), digit))
    }
}

#[test]
fn a_model_with_two_inputs_trains_through_fit() {
    let (train, test) = digit_halves();
    let mut rng = Rng::new(7);
    let mut model = TwoHalves {
        top: Dense::new(32, 64, &mut rng),
        bottom: Dense::new(32, 64, &mut rng),
        head: Dense::new(64, 10, &mut rng),
    };
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 15,
        ..Default::default()
    });
    let history = trainer
        .fit(&mut model, &mut Adam::new(3e-3), &train, &test)
        .unwrap();
    let last = history.last().unwrap();
    // 449 held-out digits; measured 97.1%.
    assert!(last.val_accuracy().unwrap() >= 0.94, "{last:?}");
    assert!(last.train_loss().unwrap() < history[0].train_loss().unwrap());
}

/// A shared trunk and two heads: which digit (10-way), and is it odd (yes/no).
#[derive(Params)]
struct DigitAndParity {
    trunk: Dense,
    digit: Dense,
    parity: Dense,
}

impl TrainStep for DigitAndParity {
    fn step(&self, batch: &Batch) -> Step {
        let shared = self
            .trunk
            .forward(&Var::constant(batch.input().clone()))
            .relu();
        let (digit, odd) = (&batch.targets["digit"], &batch.targets["odd"]);
        let digit_logits = self.digit.forward(&shared);
        let parity_logits = self.parity.forward(&shared);
        let digit_loss = cross_entropy(&digit_logits, digit, 0.0, Reduction::Mean);
        let parity_loss =
            bce_with_logits(&parity_logits, &Var::constant(odd.clone()), Reduction::Mean);
        let n = batch.len();
        let heads = Metrics::new()
            .with("digit.loss", strata_modules::Mean::of(digit_loss.item(), n))
            .with("digit.accuracy", accuracy(digit_logits.value(), digit))
            .with(
                "parity.loss",
                strata_modules::Mean::of(parity_loss.item(), n),
            )
            .with(
                "parity.accuracy",
                binary_accuracy(parity_logits.value(), odd),
            );
        Step::new(digit_loss.add(&parity_loss.mul_scalar(0.5)), n).with_metrics(&heads)
    }
}

#[test]
fn a_model_with_two_outputs_reports_metrics_per_head() {
    let digits = flat_digits();
    let labels = digits.target().clone();
    let data = TensorDataset::from_fields(
        Fields::new().with("pixels", digits.input().mul_scalar(1.0 / DIGITS_MAX_VALUE)),
        Fields::new()
            .with("digit", labels.clone())
            .with("odd", labels.map(|d| d % 2.0).unsqueeze(1)),
    )
    .unwrap();
    let (train, test) = data.split(0.25, 1).unwrap();
    let (train, test) = (
        DataLoader::new(train, 32).shuffle(8),
        DataLoader::new(test, 256),
    );
    let mut rng = Rng::new(9);
    let mut model = DigitAndParity {
        trunk: Dense::new(64, 64, &mut rng),
        digit: Dense::new(64, 10, &mut rng),
        parity: Dense::new(64, 1, &mut rng),
    };
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 15,
        ..Default::default()
    });
    let history = trainer
        .fit(&mut model, &mut Adam::new(3e-3), &train, &test)
        .unwrap();
    let held_out = &history.last().unwrap().validation;
    let names: Vec<&str> = held_out.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "digit.accuracy",
            "digit.loss",
            "loss",
            "parity.accuracy",
            "parity.loss"
        ]
    );
    // Measured: digit 97.1%, parity 93.5% (the parity head has half the weight).
    assert!(held_out["digit.accuracy"] >= 0.94, "{held_out:?}");
    assert!(held_out["parity.accuracy"] >= 0.9, "{held_out:?}");
    let combined = held_out["digit.loss"] + 0.5 * held_out["parity.loss"];
    assert!((held_out["loss"] - combined).abs() < 1e-4, "{held_out:?}");
}

/// The digits, except that example `broken` cannot be read.
struct Unreadable {
    data: TensorDataset,
    broken: usize,
}

impl Dataset for Unreadable {
    fn len(&self) -> usize {
        self.data.len()
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        if index == self.broken {
            return Err(DataError::invalid(
                "Unreadable",
                "a readable example",
                format!("example {index} is corrupt"),
            ));
        }
        self.data.get(index)
    }
}

#[test]
fn a_batch_that_fails_to_load_ends_fit_with_that_error() {
    for prefetch in [0, 2] {
        let data = Unreadable {
            data: flat_digits(),
            broken: 1000,
        };
        let loader = DataLoader::new(data, 64).shuffle(3).prefetch(prefetch);
        let mut rng = Rng::new(1);
        let mut model = Sequential::new().push(Dense::new(64, 10, &mut rng));
        let mut trainer = Trainer::new(TrainConfig {
            epochs: 2,
            ..Default::default()
        });
        let err = trainer
            .fit(
                &mut model.with_objective(Classification::default()),
                &mut Adam::new(1e-3),
                &loader,
                (),
            )
            .unwrap_err();
        assert!(matches!(err, TrainError::Data(_)), "{err}");
        assert!(err.to_string().contains("example 1000 is corrupt"), "{err}");
        assert!(trainer.state().history.is_empty(), "no epoch completed");
    }
}

/// Two regressors updated in turn, each by its own optimizer: `a` on its own loss, then `b`
/// on a loss that also runs through `a` (as a GAN's generator loss runs through the
/// discriminator) — only `b` may move in the second update.
#[derive(Params)]
struct Alternating {
    a: Dense,
    b: Dense,
}

impl Alternating {
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        Self {
            a: Dense::new(2, 1, &mut rng),
            b: Dense::new(1, 2, &mut rng),
        }
    }

    fn losses(&self, batch: &Batch) -> (Var, Var) {
        let x = Var::constant(batch.input().clone());
        let y = Var::constant(batch.target().clone());
        let a_loss = self.a.forward(&x).sub(&y).square().mean();
        let through = self.a.forward(&self.b.forward(&self.a.forward(&x)));
        (a_loss, through.sub(&y).square().mean())
    }
}

impl TrainStep for Alternating {
    fn step(&self, batch: &Batch) -> Step {
        let (a_loss, b_loss) = self.losses(batch);
        Step::new(a_loss.add(&b_loss), batch.len())
    }

    fn optimize(
        &mut self,
        batch: &Batch,
        optimization: &mut Optimization<'_>,
    ) -> Result<Metrics, TrainError> {
        let n = batch.len();
        let (a_loss, _) = self.losses(batch);
        let mut metrics = Metrics::new().with("a_loss", strata_modules::Mean::of(a_loss.item(), n));
        optimization.minimize_group(self, a_loss, "a")?;
        let a_after = self.a.weight.value().to_vec();
        let (_, b_loss) = self.losses(batch);
        metrics.add("b_loss", strata_modules::Mean::of(b_loss.item(), n));
        optimization.minimize_group(self, b_loss, "b")?;
        assert_eq!(
            self.a.weight.value().to_vec(),
            a_after,
            "the b update moved a"
        );
        Ok(metrics)
    }
}

fn regression_loader() -> DataLoader {
    let mut rng = Rng::new(10);
    let x = Tensor::rand_uniform(&[64, 2], -1.0, 1.0, &mut rng);
    let y = x.sum_axes(&[1], true).mul_scalar(0.5);
    DataLoader::new(TensorDataset::new(x, y).unwrap(), 8).shuffle(11)
}

fn groups() -> OptimizerGroups {
    OptimizerGroups::new()
        .group("a", Adam::new(0.01))
        .group("b", Adam::new(0.02))
}

fn bits(model: &dyn Params) -> Vec<u32> {
    model
        .parameters()
        .iter()
        .flat_map(|p| p.value().to_vec())
        .map(f32::to_bits)
        .collect()
}

#[test]
fn alternating_updates_with_two_optimizers_resume_bit_exactly() {
    let dir = std::env::temp_dir().join(format!("strata-alternating-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("alternating.ckpt");
    let config = |epochs| TrainConfig {
        epochs,
        checkpoint_every: Some(1),
        checkpoint_path: Some(path.clone()),
        ..Default::default()
    };
    let loader = regression_loader();

    let mut whole = Alternating::new(1);
    let mut whole_optimizers = groups();
    let mut trainer = Trainer::new(config(4));
    trainer
        .fit(&mut whole, &mut whole_optimizers, &loader, ())
        .unwrap();
    let history = trainer.state().history.clone();
    assert!(history[3].train["a_loss"] < history[0].train["a_loss"]);
    // Each group stepped once per batch, not once per update of the other group.
    let steps: Vec<u64> = whole_optimizers
        .state()
        .groups
        .values()
        .map(|s| s.steps)
        .collect();
    assert_eq!(steps, [4 * 8, 4 * 8]);

    let mut first_half = Alternating::new(1);
    Trainer::new(config(2))
        .fit(&mut first_half, &mut groups(), &loader, ())
        .unwrap();
    let mut resumed = Alternating::new(99);
    let mut resumed_optimizers = groups();
    let mut trainer = Trainer::new(config(4));
    trainer
        .resume_from(&path, &mut resumed, &mut resumed_optimizers)
        .unwrap();
    trainer
        .fit(&mut resumed, &mut resumed_optimizers, &loader, ())
        .unwrap();
    assert_eq!(bits(&resumed), bits(&whole));
    assert_eq!(resumed_optimizers.state(), whole_optimizers.state());
    let without_time = |h: &[strata_modules::EpochMetrics]| {
        h.iter()
            .map(|m| (m.epoch, m.train.clone(), m.learning_rate))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        without_time(&trainer.state().history),
        without_time(&history)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_resume_leaves_model_optimizer_and_trainer_as_they_were() {
    let dir = std::env::temp_dir().join(format!("strata-failed-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("adam.ckpt");
    let loader = regression_loader();
    let mut saved = Alternating::new(1);
    Trainer::new(TrainConfig {
        epochs: 1,
        checkpoint_every: Some(1),
        checkpoint_path: Some(path.clone()),
        ..Default::default()
    })
    .fit(&mut saved, &mut groups(), &loader, ())
    .unwrap();

    // The optimizer differs from the saved one: the model must not be overwritten.
    let mut model = Alternating::new(2);
    let mut sgd = Sgd::new(0.1).momentum(0.9);
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 3,
        ..Default::default()
    });
    trainer.fit(&mut model, &mut sgd, &loader, ()).unwrap();
    let (model_before, sgd_before) = (bits(&model), sgd.state());
    let trainer_before = trainer.state().clone();
    let err = trainer
        .resume_from(&path, &mut model, &mut sgd)
        .unwrap_err();
    assert!(err.to_string().contains("groups"), "{err}");
    assert_eq!(bits(&model), model_before);
    assert_eq!(sgd.state(), sgd_before);
    assert_eq!(trainer.state(), &trainer_before);

    // Groups of other names: refused as a whole, every group untouched.
    let mut other_groups = OptimizerGroups::new()
        .group("a", Adam::new(0.01))
        .group("c", Adam::new(0.02));
    let err = trainer
        .resume_from(&path, &mut model, &mut other_groups)
        .unwrap_err();
    assert!(err.to_string().contains("[\"a\", \"c\"]"), "{err}");
    assert_eq!(bits(&model), model_before);
    assert!(other_groups.state().groups.values().all(|s| s.steps == 0));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn evaluate_reports_every_metric_of_the_validation_step() {
    let (_, test) = digit_halves();
    let mut rng = Rng::new(7);
    let mut model = TwoHalves {
        top: Dense::new(32, 8, &mut rng),
        bottom: Dense::new(32, 8, &mut rng),
        head: Dense::new(8, 10, &mut rng),
    };
    let metrics = evaluate(&mut model, &test).unwrap();
    // Untrained: about chance, and the loss near ln 10.
    assert!(metrics["accuracy"] < 0.3, "{metrics:?}");
    assert!((metrics["loss"] - 10f32.ln()).abs() < 0.5, "{metrics:?}");
    // The same figures as one pass over the whole split by hand.
    let whole = test.epoch(0).map(|b| b.unwrap()).collect::<Vec<_>>();
    let mut by_hand = Metrics::new();
    for batch in &whole {
        by_hand.merge(&model.validation_step(batch));
    }
    assert_eq!(by_hand.values(), metrics);
}

#[test]
fn a_group_added_with_rate_zero_stays_frozen_while_a_schedule_scales_the_others() {
    let mut model = Alternating::new(3);
    let frozen = bits(&model.a);
    let moving = bits(&model.b);
    let mut optimizers = OptimizerGroups::new()
        .group("a", Adam::new(0.0))
        .group("b", Adam::new(0.02));
    Trainer::new(TrainConfig {
        epochs: 2,
        schedule: Some(Arc::new(strata_modules::StepLr {
            step_size: 1,
            gamma: 0.5,
        })),
        ..Default::default()
    })
    .fit(&mut model, &mut optimizers, &regression_loader(), ())
    .unwrap();
    assert_eq!(bits(&model.a), frozen);
    assert_ne!(bits(&model.b), moving);
    // Epoch 1 ran at half the reference group's rate; the frozen group stayed at zero.
    assert_eq!(optimizers.group_learning_rates(), [0.0, 0.01]);
}
