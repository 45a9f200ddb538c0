//! What a plan trains with besides the network: random shifts of the training images only,
//! reproducible from the seed; the warm-up and cosine schedule; whole batches for batch
//! normalisation.

use strata_datasets::Batch;
use strata_recipes::{Choices, DatasetName, ModelKind, OptimizerKind, Plan};

/// The embedded digits (1,438 training and 359 test images of 8x8) with every setting at its
/// default.
fn digits(model: ModelKind) -> Choices {
    Choices {
        dataset: DatasetName::Digits,
        data_dir: None,
        model,
        optimizer: OptimizerKind::Adam,
        epochs: None,
        batch_size: None,
        learning_rate: None,
        widths: None,
        batch_norm: None,
        dropout: None,
        shift: None,
        warmup: None,
        seed: 2,
    }
}

/// The training batches of `epoch` with their inputs and the dataset indices they hold.
fn epoch(plan: &Plan, epoch: u64) -> Vec<Batch> {
    plan.train_loader(100)
        .epoch(epoch)
        .map(|batch| batch.expect("a batch"))
        .collect()
}

/// Whether `image` (8x8) is `original` moved by at most one pixel on each axis, the
/// uncovered border repeating the edge.
fn is_small_shift(image: &[f32], original: &[f32]) -> bool {
    (-1..=1isize).any(|dy| {
        (-1..=1isize).any(|dx| {
            (0..64).all(|i| {
                let (y, x) = ((i / 8) as isize, (i % 8) as isize);
                let sy = (y - dy).clamp(0, 7) as usize;
                let sx = (x - dx).clamp(0, 7) as usize;
                image[i] == original[sy * 8 + sx]
            })
        })
    })
}

#[test]
fn training_images_are_shifted_reproducibly_and_test_images_never() {
    let shifted = Plan::new(&Choices {
        shift: Some(1),
        ..digits(ModelKind::Cnn)
    })
    .unwrap();
    let plain = Plan::new(&Choices {
        shift: Some(0),
        ..digits(ModelKind::Cnn)
    })
    .unwrap();
    let (first, again) = (epoch(&shifted, 0), epoch(&shifted, 0));
    let originals = plain.splits.train.input().to_vec();
    let mut moved = 0;
    for (batch, same) in first.iter().zip(&again) {
        assert_eq!(
            batch.input().to_vec(),
            same.input().to_vec(),
            "reproducible"
        );
        let images = batch.input().to_vec();
        for (image, &index) in images.chunks(64).zip(&batch.indices) {
            let original = &originals[index * 64..][..64];
            assert!(is_small_shift(image, original), "example {index}");
            moved += usize::from(image != original);
        }
    }
    // 8 of the 9 moves change an image (less when a digit's edge rows repeat its border).
    assert!(moved > 1438 / 2, "{moved} of 1,438 images moved");
    assert_ne!(
        epoch(&shifted, 1)[0].input().to_vec(),
        first[0].input().to_vec(),
        "each epoch draws other moves"
    );

    // The test split is never augmented.
    let test: Vec<f32> = shifted
        .test_loader()
        .epoch(0)
        .flat_map(|batch| batch.expect("a test batch").input().to_vec())
        .collect();
    assert_eq!(test, shifted.splits.test.input().to_vec());
}

#[test]
fn shifts_of_vectors_are_refused() {
    let err = Plan::new(&Choices {
        dataset: DatasetName::Iris,
        shift: Some(2),
        ..digits(ModelKind::Mlp)
    })
    .err()
    .expect("iris has no images to shift");
    assert!(
        err.contains(
            "random shifts move images [channels, height, width]; iris has inputs of shape [4]"
        ),
        "{err}"
    );
}

#[test]
fn the_schedule_warms_up_then_decays_along_a_cosine() {
    let plan = Plan::new(&Choices {
        epochs: Some(5),
        learning_rate: Some(0.1),
        warmup: Some(1),
        ..digits(ModelKind::Mlp)
    })
    .unwrap();
    let schedule = plan.schedule();
    let rates: Vec<f32> = (0..5).map(|e| schedule.learning_rate(0.1, e)).collect();
    // Half the rate, then a cosine over the 3 steps from epoch 1 to the last, down to 1%.
    let expected = [0.05, 0.1, 0.07525, 0.02575, 0.001];
    for (rate, want) in rates.iter().zip(expected) {
        assert!((rate - want).abs() < 1e-6, "{rates:?} against {expected:?}");
    }
}

#[test]
fn batch_norm_trains_on_whole_batches_only() {
    // 1,438 training digits: 14 batches of 100, then one of 38.
    for (batch_norm, batches) in [(false, 15), (true, 14)] {
        let plan = Plan::new(&Choices {
            batch_norm: Some(batch_norm),
            ..digits(ModelKind::Cnn)
        })
        .unwrap();
        assert_eq!(plan.train_loader(100).num_batches(), batches);
        let sizes: Vec<usize> = epoch(&plan, 0).iter().map(|b| b.indices.len()).collect();
        assert_eq!(sizes.len(), batches);
        assert_eq!(sizes.contains(&38), !batch_norm);
    }
}
