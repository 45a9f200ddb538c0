//! Multi-output: outputs by name, the combined loss as the weighted sum of the heads' losses,
//! the training step's per-head metrics, parameter names, misuse errors, and the multi-task
//! recipe's held-out accuracies after training through `Trainer::fit`.

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // the tests use some of the shared recipes
#[path = "../examples/support/mod.rs"]
mod support;

use strata_datasets::{Batch, Fields};
use strata_modules::{
    bce_with_logits, cross_entropy, mse_loss, BinaryClassification, Classification, Dense, Module,
    Params, Regression, Sgd, TrainConfig, TrainStep, Trainer, Var,
};
use strata_patterns::MultiOutput;
use strata_tensor::{Rng, Tensor};
use support::data::digit_datasets;
use support::multitask::{evaluate_tasks, train, AT_LEAST_FIVE, CLASS, PARITY, SEED};
use support::{Progress, SPLIT_SEED};

/// Heads of different kinds would mix too: they are boxed (`H = Box<dyn Module>`).
fn three_task_model(rng: &mut Rng) -> MultiOutput<Dense> {
    let trunk_only: MultiOutput<Dense> = MultiOutput::new(Dense::new(3, 5, rng));
    trunk_only
        .with_head(
            "kind",
            Box::new(Dense::new(5, 4, rng)),
            Classification::default(),
            1.0,
        )
        .with_head(
            "flag",
            Box::new(Dense::new(5, 1, rng)),
            BinaryClassification,
            0.25,
        )
        .with_head("size", Box::new(Dense::new(5, 2, rng)), Regression, 2.0)
}

#[test]
fn combined_loss_is_the_weighted_sum_of_each_heads_own_loss() {
    let mut rng = Rng::new(1);
    let model = three_task_model(&mut rng);
    let x = Var::constant(Tensor::rand_normal(&[6, 3], 0.0, 1.0, &mut rng));
    let kind = Tensor::from_vec(vec![0.0, 3.0, 1.0, 2.0, 2.0, 0.0], &[6]);
    let flag = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0], &[6, 1]);
    let size = Tensor::rand_normal(&[6, 2], 0.0, 1.0, &mut rng);
    let outputs = model.forward(&x);
    let loss = model.loss(
        &outputs,
        &[("size", &size), ("kind", &kind), ("flag", &flag)],
    );

    // Each head by hand: the trunk, then the head's own dense layer and loss.
    let shared = model.trunk.forward(&x);
    let head = |i: usize| model.heads()[i].module.forward(&shared);
    let expected = [
        cross_entropy(&head(0), &kind).item(),
        bce_with_logits(&head(1), &Var::constant(flag.clone())).item(),
        mse_loss(&head(2), &Var::constant(size.clone())).item(),
    ];
    let names: Vec<&str> = loss.per_task.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["kind", "flag", "size"]);
    for ((_, got), want) in loss.per_task.iter().zip(expected) {
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
    let weighted = expected[0] + 0.25 * expected[1] + 2.0 * expected[2];
    assert!((loss.total.item() - weighted).abs() < 1e-5);
    assert_eq!(outputs.get("kind").unwrap().shape(), &[6, 4]);
    assert_eq!(outputs.get("size").unwrap().shape(), &[6, 2]);
    assert!(outputs.get("colour").is_none());

    // The combined loss trains the trunk and every head.
    let grads = loss.total.backward().unwrap();
    for (name, param) in model.named_parameters() {
        assert!(grads.get(&param).is_some(), "{name} got no gradient");
    }
}

/// A batch of six examples with the three tasks' targets, and the three targets.
fn three_task_batch(rng: &mut Rng) -> (Batch, [Tensor; 3]) {
    let kind = Tensor::from_vec(vec![0.0, 3.0, 1.0, 2.0, 2.0, 0.0], &[6]);
    let flag = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0], &[6, 1]);
    let size = Tensor::rand_normal(&[6, 2], 0.0, 1.0, rng);
    let batch = Batch::from_fields(
        Fields::new().with("x", Tensor::rand_normal(&[6, 3], 0.0, 1.0, rng)),
        Fields::new()
            .with("size", size.clone())
            .with("flag", flag.clone())
            .with("kind", kind.clone()),
        (0..6).collect(),
    );
    (batch, [kind, flag, size])
}

/// The training step reads each head's target by task name and reports the combined loss,
/// each head's own loss and its objective's metrics under the task's name.
#[test]
fn the_training_step_reports_each_heads_loss_and_metrics() {
    let mut rng = Rng::new(5);
    let model = three_task_model(&mut rng);
    let (batch, [kind, flag, size]) = three_task_batch(&mut rng);
    let step = model.step(&batch);

    let outputs = model.forward(&Var::constant(batch.inputs["x"].clone()));
    let output = |name: &str| outputs.get(name).unwrap().value().to_vec();
    let losses = [
        cross_entropy(outputs.get("kind").unwrap(), &kind).item(),
        bce_with_logits(outputs.get("flag").unwrap(), &Var::constant(flag.clone())).item(),
        mse_loss(outputs.get("size").unwrap(), &Var::constant(size.clone())).item(),
    ];
    // Accuracies and the mean absolute error by hand, row by row.
    let kind_logits = output("kind");
    let kind_hits = (0..6)
        .filter(|&r| {
            let row = &kind_logits[r * 4..r * 4 + 4];
            let best = (0..4).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            best as f32 == kind.to_vec()[r]
        })
        .count();
    let flag_hits = output("flag")
        .iter()
        .zip(flag.to_vec())
        .filter(|(logit, target)| f32::from(**logit > 0.0) == *target)
        .count();
    let size_mae = output("size")
        .iter()
        .zip(size.to_vec())
        .map(|(p, t)| (p - t).abs())
        .sum::<f32>()
        / 12.0;
    let metric = |name: &str| step.metrics.value(name).unwrap();
    let expected = [
        ("kind.loss", losses[0]),
        ("flag.loss", losses[1]),
        ("size.loss", losses[2]),
        ("loss", losses[0] + 0.25 * losses[1] + 2.0 * losses[2]),
        ("kind.accuracy", kind_hits as f32 / 6.0),
        ("flag.accuracy", flag_hits as f32 / 6.0),
        ("size.mae", size_mae),
    ];
    for (name, want) in expected {
        assert!(
            (metric(name) - want).abs() < 1e-5,
            "{name}: {} vs {want}",
            metric(name)
        );
    }
    assert!((step.loss.item() - metric("loss")).abs() < 1e-6);
}

/// `fit` averages each head's metrics over the epoch, for training and validation.
#[test]
fn each_heads_metrics_appear_in_the_epochs_metrics() {
    let mut rng = Rng::new(7);
    let mut model = three_task_model(&mut rng);
    let (batch, _) = three_task_batch(&mut rng);
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 2,
        ..TrainConfig::default()
    });
    let batches = |_| [batch.clone()];
    let history = trainer
        .fit(&mut model, &mut Sgd::new(0.01), batches, batches)
        .unwrap();
    let names = [
        "flag.accuracy",
        "flag.loss",
        "kind.accuracy",
        "kind.loss",
        "loss",
        "size.loss",
        "size.mae",
    ];
    for epoch in history {
        assert_eq!(epoch.train.keys().collect::<Vec<_>>(), names);
        assert_eq!(epoch.validation.keys().collect::<Vec<_>>(), names);
    }
    // Validation runs after the epoch's update, on the same batch: by hand, after it.
    model.eval();
    let after = model.step(&batch).metrics;
    let last = &history[1].validation;
    for name in names {
        assert!(
            (last[name] - after.value(name).unwrap()).abs() < 1e-6,
            "{name}"
        );
    }
}

#[test]
#[should_panic(expected = "no field `flag`")]
fn a_batch_without_a_tasks_target_is_refused_naming_it() {
    let mut rng = Rng::new(6);
    let model = three_task_model(&mut rng);
    let (batch, [kind, _, size]) = three_task_batch(&mut rng);
    let without_flag = Batch::from_fields(
        batch.inputs,
        Fields::new().with("kind", kind).with("size", size),
        batch.indices,
    );
    let _ = model.step(&without_flag);
}

#[test]
fn parameters_are_named_by_task() {
    let model = three_task_model(&mut Rng::new(2));
    let names: Vec<String> = model.parameter_names();
    assert_eq!(
        names,
        [
            "trunk.weight",
            "trunk.bias",
            "heads.kind.weight",
            "heads.kind.bias",
            "heads.flag.weight",
            "heads.flag.bias",
            "heads.size.weight",
            "heads.size.bias"
        ]
    );
}

#[test]
fn a_missing_target_is_an_error_naming_the_task() {
    let model = three_task_model(&mut Rng::new(3));
    let outputs = model.forward(&Var::constant(Tensor::zeros(&[2, 3])));
    let kind = Tensor::zeros(&[2]);
    let err = model
        .try_loss(&outputs, &[("kind", &kind)])
        .err()
        .expect("two targets are missing");
    assert!(
        err.to_string().contains("no target for task `flag`"),
        "{err}"
    );
}

#[test]
#[should_panic(expected = "a task named `kind` already exists")]
fn task_names_are_unique() {
    let mut rng = Rng::new(4);
    let _ = three_task_model(&mut rng).with_head(
        "kind",
        Box::new(Dense::new(5, 4, &mut rng)),
        Classification::default(),
        1.0,
    );
}

/// The bar for the ten-way head; measured 97.5% (96.1-97.8% over seeds 11-15).
const MIN_CLASS_ACCURACY: f32 = 0.95;
/// The two yes/no tasks are functions of the class, so a trunk that recognises digits at
/// 95% carries what they need; measured 98.3% (parity) and 96.9% (≥ 5) with the recipe's
/// budget (96.9-98.6% and 95.5-96.9% over seeds 11-15).
const MIN_BINARY_ACCURACY: f32 = 0.95;

#[test]
fn multitask_heads_reach_their_held_out_accuracy() {
    let (train_set, test_set) = digit_datasets(SPLIT_SEED);
    let mut model = train(&train_set, SEED, Progress::Quiet);
    let metrics = evaluate_tasks(&mut model, &test_set);
    println!("{metrics:?}");
    let accuracy = |task: &str| metrics[&format!("{task}.accuracy")];
    assert!(accuracy(CLASS) >= MIN_CLASS_ACCURACY, "{metrics:?}");
    assert!(accuracy(PARITY) >= MIN_BINARY_ACCURACY, "{metrics:?}");
    assert!(
        accuracy(AT_LEAST_FIVE) >= MIN_BINARY_ACCURACY,
        "{metrics:?}"
    );
}
