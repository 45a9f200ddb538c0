//! TensorDataset and the adapters, the transforms against hand-computed values, and the
//! synthetic generators against the geometry they promise.

use std::collections::HashSet;
use strata_datasets::{
    circles, gaussian_blobs, iris, noisy_sine, one_hot, spirals, stack_examples, two_moons, xor,
    Compose, Concat, DataError, Dataset, Example, FlattenInput, Normalize, OneHot, RandomCrop,
    RandomHorizontalFlip, ScaleToUnit, TensorDataset, Transform,
};
use strata_tensor::{Rng, Tensor};

fn numbered(n: usize) -> TensorDataset {
    let inputs: Vec<f32> = (0..n * 2).map(|v| v as f32).collect();
    let targets: Vec<f32> = (0..n).map(|i| (i % 3) as f32).collect();
    TensorDataset::new(
        Tensor::from_vec(inputs, &[n, 2]),
        Tensor::from_vec(targets, &[n]),
    )
    .unwrap()
}

fn apply(t: &dyn Transform, input: Tensor, seed: u64) -> Result<Tensor, DataError> {
    t.apply(
        Example::new(input, Tensor::scalar(0.0)),
        &mut Rng::new(seed),
    )
    .map(|e| e.input().clone())
}

#[test]
fn tensor_dataset_checks_lengths_and_indices() {
    assert!(TensorDataset::new(Tensor::zeros(&[3, 2]), Tensor::zeros(&[4])).is_err());
    assert!(TensorDataset::new(Tensor::scalar(1.0), Tensor::zeros(&[1])).is_err());
    let data = numbered(5);
    assert!(matches!(
        data.get(5),
        Err(DataError::IndexOutOfRange { index: 5, len: 5 })
    ));
    assert!(data.get_batch(&[0, 7]).is_err());
    // The row-copy batch equals stacking the examples one by one.
    let fast = data.get_batch(&[4, 1, 1]).unwrap();
    let slow = stack_examples(&[4, 1, 1], |i| data.get(i)).unwrap();
    assert_eq!(fast, slow);
    assert_eq!(fast.input().to_vec(), vec![8.0, 9.0, 2.0, 3.0, 2.0, 3.0]);
    assert!(data.clone().with_input_shape(&[3]).is_err());
    assert_eq!(
        data.with_input_shape(&[1, 2])
            .unwrap()
            .get(0)
            .unwrap()
            .input()
            .shape(),
        &[1, 2]
    );
}

#[test]
fn stack_examples_refuses_mixed_shapes_and_empty_lists() {
    let examples = [
        Example::new(Tensor::zeros(&[2]), Tensor::scalar(0.0)),
        Example::new(Tensor::zeros(&[3]), Tensor::scalar(0.0)),
    ];
    let err = stack_examples(&[0, 1], |i| Ok(examples[i].clone())).unwrap_err();
    assert!(
        err.to_string().contains(
            "inputs `input` shaped [2] in every example (like example 0), found example 1 with [3]"
        ),
        "{err}"
    );
    assert!(stack_examples(&[], |i| Ok(examples[i].clone())).is_err());
}

#[test]
fn split_is_seeded_disjoint_and_complete() {
    let (train, test) = numbered(50).split(0.2, 4).unwrap();
    assert_eq!((train.len(), test.len()), (40, 10));
    let train_set: HashSet<usize> = train.indices().iter().copied().collect();
    let test_set: HashSet<usize> = test.indices().iter().copied().collect();
    assert!(train_set.is_disjoint(&test_set));
    assert_eq!(train_set.len() + test_set.len(), 50);
    let (_, again) = numbered(50).split(0.2, 4).unwrap();
    assert_eq!(again.indices(), test.indices());
    let (_, other) = numbered(50).split(0.2, 5).unwrap();
    assert_ne!(other.indices(), test.indices());
    // Subset examples are the underlying ones; batches report subset positions.
    let k = test.indices()[3];
    assert_eq!(test.get(3).unwrap(), numbered(50).get(k).unwrap());
    let batch = test.get_batch(&[3, 0]).unwrap();
    assert_eq!(batch.indices, vec![3, 0]);
    assert_eq!(batch.target().get(&[0]), (k % 3) as f32);
    assert!(numbered(5).split(1.5, 0).is_err());
    assert!(numbered(5).subset(vec![0, 5]).is_err());
}

#[test]
fn concat_chains_parts_and_checks_shapes() {
    let empty = numbered(0);
    let both = Concat::new(vec![
        std::sync::Arc::new(numbered(3)),
        std::sync::Arc::new(empty),
        std::sync::Arc::new(numbered(2)),
    ])
    .unwrap();
    assert_eq!(both.len(), 5);
    assert_eq!(both.get(2).unwrap().input().to_vec(), vec![4.0, 5.0]);
    assert_eq!(both.get(3).unwrap().input().to_vec(), vec![0.0, 1.0]);
    assert!(both.get(5).is_err());
    let wide = TensorDataset::new(Tensor::zeros(&[2, 3]), Tensor::zeros(&[2])).unwrap();
    let err = numbered(2).concat(wide).unwrap_err();
    assert!(
        err.to_string().contains("part 1 with inputs [`input` [3]]"),
        "{err}"
    );
}

#[test]
fn map_applies_the_transform_to_every_example() {
    let scaled = numbered(4).map(ScaleToUnit::new(4.0));
    assert_eq!(scaled.get(3).unwrap().input().to_vec(), vec![1.5, 1.75]);
    let batch = scaled.get_batch(&[0, 1]).unwrap();
    assert_eq!(batch.input().to_vec(), vec![0.0, 0.25, 0.5, 0.75]);
}

#[test]
fn closures_are_transforms() {
    let shifted = numbered(3).map(|example: Example, _: &mut Rng| {
        let shifted = example.target().add_scalar(10.0);
        Ok(example.with_target(shifted))
    });
    assert_eq!(
        shifted.get_batch(&[0, 1, 2]).unwrap().target().to_vec(),
        vec![10.0, 11.0, 12.0]
    );
}

#[test]
fn normalize_uses_one_or_per_channel_statistics() {
    let image = Tensor::from_vec(vec![1.0, 3.0, 10.0, 20.0], &[2, 1, 2]);
    let per_channel = Normalize::per_channel(vec![2.0, 10.0], vec![1.0, 5.0]).unwrap();
    assert_eq!(
        apply(&per_channel, image.clone(), 0).unwrap().to_vec(),
        vec![-1.0, 1.0, 0.0, 2.0]
    );
    let single = Normalize::new(1.0, 2.0).unwrap();
    assert_eq!(
        apply(&single, image.clone(), 0).unwrap().to_vec(),
        vec![0.0, 1.0, 4.5, 9.5]
    );
    let three = Normalize::per_channel(vec![0.0; 3], vec![1.0; 3]).unwrap();
    assert!(apply(&three, image, 0).is_err());
    assert!(Normalize::new(0.0, 0.0).is_err());
    assert!(Normalize::per_channel(vec![0.0], vec![1.0, 1.0]).is_err());
}

#[test]
fn normalize_fit_standardises_each_feature() {
    let data = iris();
    let fitted = Normalize::fit(&data).unwrap();
    // Independent computation of the first feature's mean and population std.
    let values = data.input().to_vec();
    let first: Vec<f64> = values.chunks(4).map(|row| row[0] as f64).collect();
    let mean = first.iter().sum::<f64>() / 150.0;
    let std = (first.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 150.0).sqrt();
    assert!((fitted.mean()[0] as f64 - mean).abs() < 1e-5);
    assert!((fitted.std()[0] as f64 - std).abs() < 1e-5);
    let standardised = TensorDataset::new(data.input().clone(), data.target().clone())
        .unwrap()
        .map(fitted);
    let refit = Normalize::fit(&standardised).unwrap();
    for k in 0..4 {
        assert!(
            refit.mean()[k].abs() < 1e-5 && (refit.std()[k] - 1.0).abs() < 1e-4,
            "{refit:?}"
        );
    }
}

#[test]
fn one_hot_and_flatten() {
    let example = Example::new(Tensor::zeros(&[2, 2]), Tensor::scalar(2.0));
    let out = Compose::new()
        .then(OneHot { classes: 4 })
        .then(FlattenInput)
        .apply(example, &mut Rng::new(0))
        .unwrap();
    assert_eq!(out.target().to_vec(), vec![0.0, 0.0, 1.0, 0.0]);
    assert_eq!(out.input().shape(), &[4]);
    for bad in [2.5, -1.0, 3.0] {
        let err = one_hot(&Tensor::from_vec(vec![0.0, bad], &[2]), 3).unwrap_err();
        assert!(err.to_string().contains("at position 1"), "{err}");
    }
}

/// The `h × w` window at `(top, left)` of a `[C, H, W]` image zero-padded by `p`, naively.
fn padded_window(
    image: &[f32],
    (c, h, w): (usize, usize, usize),
    p: usize,
    (top, left): (usize, usize),
    (wh, ww): (usize, usize),
) -> Vec<f32> {
    let mut out = Vec::new();
    for ch in 0..c {
        for y in 0..wh {
            for x in 0..ww {
                let (py, px) = (
                    (top + y) as isize - p as isize,
                    (left + x) as isize - p as isize,
                );
                let inside = py >= 0 && px >= 0 && (py as usize) < h && (px as usize) < w;
                out.push(if inside {
                    image[(ch * h + py as usize) * w + px as usize]
                } else {
                    0.0
                });
            }
        }
    }
    out
}

#[test]
fn random_crop_picks_every_padded_window_and_nothing_else() {
    let image: Vec<f32> = (1..=18).map(|v| v as f32).collect(); // [2, 3, 3]
    let crop = RandomCrop {
        height: 2,
        width: 3,
        padding: 1,
    };
    let windows: Vec<Vec<f32>> = (0..4)
        .flat_map(|top| (0..3).map(move |left| (top, left)))
        .map(|at| padded_window(&image, (2, 3, 3), 1, at, (2, 3)))
        .collect();
    let mut seen = HashSet::new();
    for seed in 0..200 {
        let out = apply(&crop, Tensor::from_vec(image.clone(), &[2, 3, 3]), seed).unwrap();
        assert_eq!(out.shape(), &[2, 2, 3]);
        let k = windows
            .iter()
            .position(|w| *w == out.to_vec())
            .expect("a padded window");
        seen.insert(k);
    }
    assert_eq!(seen.len(), 12, "all 4 x 3 positions occur");
    let identity = RandomCrop {
        height: 3,
        width: 3,
        padding: 0,
    };
    assert_eq!(
        apply(&identity, Tensor::from_vec(image.clone(), &[2, 3, 3]), 1)
            .unwrap()
            .to_vec(),
        image
    );
    let too_big = RandomCrop {
        height: 6,
        width: 3,
        padding: 1,
    };
    assert!(apply(&too_big, Tensor::from_vec(image.clone(), &[2, 3, 3]), 0).is_err());
    assert!(apply(&identity, Tensor::zeros(&[1, 1, 3, 3]), 0).is_err());
}

#[test]
fn horizontal_flip_mirrors_rows_with_the_given_probability() {
    let image = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let always = RandomHorizontalFlip { probability: 1.0 };
    assert_eq!(
        apply(&always, image.clone(), 0).unwrap().to_vec(),
        vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]
    );
    let never = RandomHorizontalFlip { probability: 0.0 };
    assert_eq!(apply(&never, image.clone(), 0).unwrap(), image);
    let half = RandomHorizontalFlip { probability: 0.5 };
    let flipped = (0..400)
        .filter(|&s| apply(&half, image.clone(), s).unwrap() != image)
        .count();
    // Binomial(400, 0.5): mean 200, sd 10; 150..250 is five standard deviations.
    assert!((150..250).contains(&flipped), "{flipped} of 400 flipped");
}

/// The inputs of class `class` as `(x, y)` pairs.
fn points_of(data: &TensorDataset, class: f32) -> Vec<(f32, f32)> {
    let inputs = data.input().to_vec();
    let targets = data.target().to_vec();
    inputs
        .chunks(2)
        .zip(targets)
        .filter(|(_, t)| *t == class)
        .map(|(p, _)| (p[0], p[1]))
        .collect()
}

#[test]
fn two_moons_and_circles_lie_on_their_curves() {
    let moons = two_moons(201, 0.0, 1);
    let (upper, lower) = (points_of(&moons, 0.0), points_of(&moons, 1.0));
    assert_eq!((upper.len(), lower.len()), (101, 100));
    assert!(upper
        .iter()
        .all(|&(x, y)| (x * x + y * y - 1.0).abs() < 1e-5 && y >= 0.0));
    assert!(lower
        .iter()
        .all(|&(x, y)| ((x - 1.0).powi(2) + (y - 0.5).powi(2) - 1.0).abs() < 1e-5 && y <= 0.5));
    assert_eq!(two_moons(50, 0.1, 3).input(), two_moons(50, 0.1, 3).input());
    assert_ne!(two_moons(50, 0.1, 3).input(), two_moons(50, 0.1, 4).input());
    let rings = circles(100, 0.0, 0.4, 2);
    let radius = |(x, y): (f32, f32)| (x * x + y * y).sqrt();
    assert!(points_of(&rings, 0.0)
        .into_iter()
        .all(|p| (radius(p) - 1.0).abs() < 1e-5));
    assert!(points_of(&rings, 1.0)
        .into_iter()
        .all(|p| (radius(p) - 0.4).abs() < 1e-5));
}

#[test]
fn spiral_arms_follow_their_angle_law() {
    let arms = 3;
    let data = spirals(300, arms, 0.0, 5);
    assert_eq!(data.classes().len(), 3);
    for k in 0..arms {
        let points = points_of(&data, k as f32);
        assert_eq!(points.len(), 100);
        for (x, y) in points {
            let r = ((x * x + y * y) as f64).sqrt();
            let expected = std::f64::consts::TAU * (k as f64 / arms as f64 + 1.5 * r);
            let diff = (y as f64).atan2(x as f64) - expected;
            let wrapped = diff - std::f64::consts::TAU * (diff / std::f64::consts::TAU).round();
            assert!(
                r <= 1.0 && (r < 1e-3 || wrapped.abs() < 1e-3),
                "arm {k}: ({x}, {y})"
            );
        }
    }
}

#[test]
fn xor_labels_follow_the_quadrants_and_blobs_their_centres() {
    let data = xor(500, 0.0, 7);
    let inputs = data.input().to_vec();
    for (p, t) in inputs.chunks(2).zip(data.target().to_vec()) {
        assert_eq!(
            t,
            if (p[0] > 0.0) != (p[1] > 0.0) {
                1.0
            } else {
                0.0
            }
        );
        assert!(p.iter().all(|v| v.abs() <= 1.0));
    }
    let centers = [vec![0.0, 0.0], vec![6.0, -2.0]];
    let blobs = gaussian_blobs(4000, &centers, 1.0, 8);
    for (k, center) in centers.iter().enumerate() {
        let points = points_of(&blobs, k as f32);
        let mean_x = points.iter().map(|p| p.0).sum::<f32>() / points.len() as f32;
        let mean_y = points.iter().map(|p| p.1).sum::<f32>() / points.len() as f32;
        // 2000 draws of std 1: the mean's standard error is 0.022; 0.1 is over four of them.
        assert!(
            (mean_x - center[0]).abs() < 0.1 && (mean_y - center[1]).abs() < 0.1,
            "class {k}: ({mean_x}, {mean_y})"
        );
    }
}

#[test]
fn noisy_sine_without_noise_is_a_sinusoid_shifted_by_one() {
    let data = noisy_sine(5, 40, 0.0, 9);
    for i in 0..5 {
        let example = data.get(i).unwrap();
        let (x, y) = (example.input().to_vec(), example.target().to_vec());
        assert_eq!(x[1..], y[..39]);
        // A sinusoid satisfies y[t+1] + y[t-1] = 2 cos(ω) y[t] with one ω per series.
        let series: Vec<f64> = x.iter().chain(y.last()).map(|&v| v as f64).collect();
        let two_cos: Vec<f64> = (1..40)
            .filter(|&t| series[t].abs() > 0.3)
            .map(|t| (series[t + 1] + series[t - 1]) / series[t])
            .collect();
        let omega = (two_cos[0] / 2.0).acos();
        assert!(
            two_cos.iter().all(|c| (c - two_cos[0]).abs() < 1e-4),
            "series {i}"
        );
        let tau = std::f64::consts::TAU;
        assert!(
            omega > tau / 30.0 - 1e-3 && omega < tau / 10.0 + 1e-3,
            "omega {omega}"
        );
    }
}
