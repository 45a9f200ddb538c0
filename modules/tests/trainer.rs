//! The training loop: exact resumption, early stopping, periodic checkpoints, events.

mod common;

use common::{batches, mlp, split_rows, two_spirals};
use std::sync::{Arc, Mutex};
use strata_modules::{
    Adam, Checkpoint, Classification, Dense, EarlyStopping, Event, Module, Params, Regression,
    Sequential, Sgd, StepLr, TrainConfig, TrainError, Trainer,
};
use strata_tensor::{Rng, Tensor};

fn data() -> ((Tensor, Tensor), (Tensor, Tensor)) {
    let (x, y) = two_spirals(100, 0.05, 9);
    let (train_x, val_x) = split_rows(&x, 150);
    let (train_y, val_y) = split_rows(&y, 150);
    ((train_x, train_y), (val_x, val_y))
}

fn params_bits(model: &Sequential) -> Vec<u32> {
    model
        .parameters()
        .iter()
        .flat_map(|p| p.value().to_vec())
        .map(f32::to_bits)
        .collect()
}

fn run(
    config: TrainConfig,
    model: &mut Sequential,
    optimizer: &mut Adam,
    trainer: Option<Trainer>,
) -> Trainer {
    let ((tx, ty), (vx, vy)) = data();
    let mut trainer = trainer.unwrap_or_else(|| Trainer::new(config));
    trainer
        .fit(
            &mut model.with_objective(Classification::default()),
            optimizer,
            |epoch| batches(&tx, &ty, 16, 7, epoch),
            |_| [(vx.clone(), vy.clone())],
        )
        .unwrap();
    trainer
}

#[test]
fn resuming_from_a_checkpoint_matches_an_uninterrupted_run_exactly() {
    let dir = std::env::temp_dir().join(format!("strata-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("train.ckpt");
    let config = |epochs| TrainConfig {
        epochs,
        checkpoint_every: Some(2),
        checkpoint_path: Some(path.clone()),
        schedule: Some(Arc::new(StepLr {
            step_size: 3,
            gamma: 0.5,
        })),
        grad_clip: Some(5.0),
        ..Default::default()
    };

    // Uninterrupted: 6 epochs.
    let mut model = mlp(16, 2, &mut Rng::new(4));
    let mut adam = Adam::new(0.01);
    let full = run(config(6), &mut model, &mut adam, None);
    let expected = params_bits(&model);

    // Interrupted after 4 epochs (the checkpoint of epoch 4 is on disk), then a fresh
    // process-like start: new model and optimizer with other values, resumed from the file.
    let mut model = mlp(16, 2, &mut Rng::new(4));
    run(config(4), &mut model, &mut Adam::new(0.01), None);
    let mut resumed_model = mlp(16, 2, &mut Rng::new(1234));
    let mut resumed_adam = Adam::new(0.5);
    let mut trainer = Trainer::new(config(6));
    trainer
        .resume_from(&path, &mut resumed_model, &mut resumed_adam)
        .unwrap();
    assert_eq!(trainer.state().next_epoch, 4);
    let trainer = run(
        config(6),
        &mut resumed_model,
        &mut resumed_adam,
        Some(trainer),
    );

    assert_eq!(
        params_bits(&resumed_model),
        expected,
        "parameters differ after resuming"
    );
    let losses = |t: &Trainer| {
        t.state()
            .history
            .iter()
            .map(|m| m.train_loss().unwrap().to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&trainer), losses(&full));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn early_stopping_ends_the_run_when_validation_stops_improving() {
    let ((tx, ty), _) = data();
    let mut model = mlp(8, 2, &mut Rng::new(2));
    // Validation targets are random, so validation loss cannot keep improving.
    let noise = Tensor::from_vec((0..50).map(|i| ((i * 7) % 2) as f32).collect(), &[50]);
    let noise_x = Tensor::rand_normal(&[50, 2], 0.0, 3.0, &mut Rng::new(3));
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&events);
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 200,
        early_stopping: Some(EarlyStopping {
            patience: 3,
            min_delta: 0.0,
        }),
        ..Default::default()
    })
    .with_callback(move |event: &Event<'_>| {
        if let Event::EarlyStopped { epoch } = event {
            log.lock().unwrap().push(*epoch);
        }
    });
    let history = trainer
        .fit(
            &mut model.with_objective(Classification::default()),
            &mut Adam::new(0.05),
            |epoch| batches(&tx, &ty, 16, 1, epoch),
            |_| [(noise_x.clone(), noise.clone())],
        )
        .unwrap()
        .to_vec();
    assert!(history.len() < 200, "ran all {} epochs", history.len());
    let best = history
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.val_loss().partial_cmp(&b.1.val_loss()).unwrap())
        .unwrap()
        .0;
    assert_eq!(history.len(), best + 1 + 3, "stops 3 epochs after the best");
    assert_eq!(*events.lock().unwrap(), vec![history.len() - 1]);
}

#[test]
fn events_report_every_batch_and_epoch_and_checkpoints_follow_the_period() {
    let dir = std::env::temp_dir().join(format!("strata-events-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("every.ckpt");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 5,
        checkpoint_every: Some(2),
        checkpoint_path: Some(path.clone()),
        ..Default::default()
    })
    .with_callback(move |event: &Event<'_>| {
        let line = match event {
            Event::EpochStart { epoch, .. } => format!("start {epoch}"),
            Event::Batch { index, .. } => format!("batch {index}"),
            Event::EpochEnd(m) => format!("end {}", m.epoch),
            Event::CheckpointSaved(_) => "saved".to_string(),
            Event::EarlyStopped { .. } => "stopped".to_string(),
        };
        log.lock().unwrap().push(line);
    });
    let ((tx, ty), _) = data();
    let mut model = mlp(4, 2, &mut Rng::new(5));
    trainer
        .fit(
            &mut model.with_objective(Classification::default()),
            &mut Adam::new(0.01),
            |epoch| batches(&tx, &ty, 75, 2, epoch),
            (),
        )
        .unwrap();
    let seen = seen.lock().unwrap().join(",");
    assert_eq!(
        seen,
        "start 0,batch 0,batch 1,end 0,\
         start 1,batch 0,batch 1,end 1,saved,\
         start 2,batch 0,batch 1,end 2,\
         start 3,batch 0,batch 1,end 3,saved,\
         start 4,batch 0,batch 1,end 4,saved"
    );
    let saved = Checkpoint::load(&path).unwrap();
    let state = strata_modules::TrainingState::from_checkpoint(&saved)
        .unwrap()
        .unwrap();
    assert_eq!(state.next_epoch, 5);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_batch_holding_nan_stops_the_run_with_an_error_naming_the_field() {
    let ((tx, ty), _) = data();
    let mut values = tx.to_vec();
    values[3] = f32::NAN;
    let corrupt = Tensor::from_vec(values, tx.shape());
    let mut model = mlp(8, 2, &mut Rng::new(6));
    let err = Trainer::new(TrainConfig {
        epochs: 3,
        ..Default::default()
    })
    .fit(
        &mut model.with_objective(Classification::default()),
        &mut Adam::new(0.1),
        |_| [(corrupt.clone(), ty.clone())],
        (),
    )
    .unwrap_err();
    assert!(
        matches!(&err, TrainError::NonFiniteBatch { epoch: 0, batch: 0, field } if field == "input"),
        "{err}"
    );
    assert!(err.to_string().contains("check the data"), "{err}");
}

#[test]
fn a_diverging_loss_on_finite_data_stops_the_run_with_an_error() {
    // Least squares with a step size far beyond 1/λ_max: each step multiplies the error by
    // about -20, so the loss overflows after a few dozen steps while the data stays finite.
    let x = Tensor::rand_uniform(&[16, 2], -1.0, 1.0, &mut Rng::new(7));
    let y = x.sum_axes(&[1], true);
    let mut line = Dense::new(2, 1, &mut Rng::new(8));
    let err = Trainer::new(TrainConfig {
        epochs: 200,
        ..Default::default()
    })
    .fit(
        &mut line.with_objective(Regression),
        &mut Sgd::new(20.0),
        |_| [(x.clone(), y.clone())],
        (),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Diverged {
                epoch: 1..200,
                batch: 0
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("lower the learning rate"), "{err}");
}

#[test]
fn a_time_limit_ends_training_after_the_batch_running_when_the_time_is_up() {
    // Every batch takes at least 30 ms (the callback sleeps), so 100 ms allow at most four
    // of the epoch's ten batches; that shortened epoch is still validated and recorded.
    let batches_run = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&batches_run);
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 5,
        time_limit: Some(std::time::Duration::from_millis(100)),
        ..Default::default()
    })
    .with_callback(move |event: &Event<'_>| {
        if let Event::Batch { .. } = event {
            std::thread::sleep(std::time::Duration::from_millis(30));
            *counter.lock().unwrap() += 1;
        }
    });
    let ((tx, ty), (vx, vy)) = data();
    let mut model = mlp(4, 2, &mut Rng::new(5));
    let history = trainer
        .fit(
            &mut model.with_objective(Classification::default()),
            &mut Adam::new(0.01),
            |epoch| batches(&tx, &ty, 15, 2, epoch),
            |_| [(vx.clone(), vy.clone())],
        )
        .unwrap();
    let run = *batches_run.lock().unwrap();
    assert!((1..=4).contains(&run), "{run} batches ran");
    assert_eq!(history.len(), 1);
    assert!(history[0].val_accuracy().is_some());
    assert_eq!(trainer.state().next_epoch, 1);

    // Ranks of a data-parallel run would stop at different batches: refused up front.
    struct Ranks;
    impl strata_modules::StepHook for Ranks {}
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 1,
        time_limit: Some(std::time::Duration::from_secs(1)),
        ..Default::default()
    })
    .with_hook(Ranks);
    let err = trainer
        .fit(
            &mut model.with_objective(Classification::default()),
            &mut Adam::new(0.01),
            |epoch| batches(&tx, &ty, 15, 2, epoch),
            (),
        )
        .unwrap_err();
    assert!(matches!(err, TrainError::Config(_)), "{err}");
}
