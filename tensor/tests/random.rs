//! The seeded generator: SplitMix64 known values (including the PyTorch harness's check
//! values), determinism, and the statistics of the distributions built on it.

use strata_tensor::{splitmix64, Rng, Tensor};

#[test]
fn splitmix64_known_values() {
    // The first output of the standard SplitMix64 from state 0.
    assert_eq!(splitmix64(0, 0), 0xe220a8397b1dcdaf);
    // Outputs are counter-based: output i of seed s is output 0 of seed s + i·golden.
    let golden = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..5u64 {
        assert_eq!(
            splitmix64(7, i),
            splitmix64(7u64.wrapping_add(i.wrapping_mul(golden)), 0)
        );
    }
    // The generator walks the same stream.
    let mut rng = Rng::new(0);
    assert_eq!(rng.next_u64(), 0xe220a8397b1dcdaf);
    for i in 1..10 {
        assert_eq!(rng.next_u64(), splitmix64(0, i));
    }
}

#[test]
fn harness_check_values() {
    // xtask/pytorch/SPEC.md: x[0, 0:3] with seed 0x1001 is k / 2^24 with
    // k = splitmix64(0x1001, i) >> 40, printed there as the f64 value of that exact f32.
    let expected = [
        0.9138087034225464f64,
        0.24708282947540283,
        0.33133965730667114,
    ];
    let widened = |values: Vec<f32>| -> Vec<f64> { values.iter().map(|&v| v as f64).collect() };
    let by_formula: Vec<f32> = (0..3)
        .map(|i| (splitmix64(0x1001, i) >> 40) as f32 / (1u32 << 24) as f32)
        .collect();
    assert_eq!(widened(by_formula), expected);
    let mut rng = Rng::new(0x1001);
    let first: Vec<f32> = (0..3).map(|_| rng.next_f32()).collect();
    assert_eq!(widened(first), expected);
    let x = Tensor::rand_uniform(&[1, 784], 0.0, 1.0, &mut Rng::new(0x1001));
    assert_eq!(widened(x.narrow(1, 0, 3).to_vec()), expected);
}

#[test]
fn same_seed_same_tensors_different_seed_different_tensors() {
    let make = |seed| {
        let mut rng = Rng::new(seed);
        (
            Tensor::rand_uniform(&[4, 5], -1.0, 1.0, &mut rng),
            Tensor::rand_normal(&[4, 5], 0.0, 1.0, &mut rng),
            Tensor::rand_bernoulli(&[4, 5], 0.3, &mut rng),
        )
    };
    assert_eq!(make(5), make(5));
    let (a, b) = (make(5), make(6));
    assert_ne!(a.0, b.0);
    assert_ne!(a.1, b.1);
    // Clones fork identical streams; `fork` starts a different one.
    let mut rng = Rng::new(8);
    let mut clone = rng.clone();
    assert_eq!(rng.next_u64(), clone.next_u64());
    let mut child = rng.fork();
    assert_ne!(child.next_u64(), rng.next_u64());
}

#[test]
fn uniform_values_are_in_range_with_the_right_mean() {
    let t = Tensor::rand_uniform(&[100_000], -2.0, 6.0, &mut Rng::new(1));
    let v = t.to_vec();
    assert!(v.iter().all(|&x| (-2.0..6.0).contains(&x)));
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / v.len() as f64;
    // Mean 2 (standard error 0.007), variance 64/12.
    assert!((mean - 2.0).abs() < 0.04, "mean {mean}");
    assert!((var - 64.0 / 12.0).abs() < 0.1, "variance {var}");
    let mut rng = Rng::new(2);
    assert!((0..10_000).all(|_| (0.0..1.0).contains(&rng.next_f64())));
}

#[test]
fn normal_values_have_the_right_moments() {
    let t = Tensor::rand_normal(&[100_000], 3.0, 0.5, &mut Rng::new(4));
    let v: Vec<f64> = t.to_vec().iter().map(|&x| x as f64).collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    // Fraction within one standard deviation: 68.3 %.
    let within = v.iter().filter(|&&x| (x - 3.0).abs() < 0.5).count() as f64 / n;
    assert!((mean - 3.0).abs() < 0.01, "mean {mean}");
    assert!((var - 0.25).abs() < 0.01, "variance {var}");
    assert!((within - 0.6827).abs() < 0.01, "within one sd {within}");
    assert!(v.iter().all(|x| x.is_finite()));
}

#[test]
fn bernoulli_is_a_zero_one_mask_with_rate_p() {
    let t = Tensor::rand_bernoulli(&[50_000], 0.3, &mut Rng::new(5));
    let v = t.to_vec();
    assert!(v.iter().all(|&x| x == 0.0 || x == 1.0));
    let rate = t.mean().item();
    assert!((rate - 0.3).abs() < 0.01, "rate {rate}");
    assert_eq!(
        Tensor::rand_bernoulli(&[100], 0.0, &mut Rng::new(5))
            .sum()
            .item(),
        0.0
    );
    assert_eq!(
        Tensor::rand_bernoulli(&[100], 1.0, &mut Rng::new(5))
            .sum()
            .item(),
        100.0
    );
}

#[test]
fn below_is_uniform_and_in_range() {
    let mut rng = Rng::new(6);
    let mut counts = [0usize; 7];
    for _ in 0..70_000 {
        counts[rng.below(7)] += 1;
    }
    // Each bucket expects 10 000 (standard deviation about 93).
    assert!(
        counts.iter().all(|&c| (9_600..10_400).contains(&c)),
        "{counts:?}"
    );
    assert_eq!(rng.below(1), 0);
    let big = 1usize << 63;
    assert!((0..100).all(|_| rng.below(big + 1) <= big));
}

#[test]
#[should_panic(expected = "Rng::below needs a positive bound")]
fn below_zero_panics() {
    Rng::new(0).below(0);
}

#[test]
fn shuffle_is_a_seeded_permutation() {
    let mut items: Vec<usize> = (0..100).collect();
    Rng::new(7).shuffle(&mut items);
    let mut again: Vec<usize> = (0..100).collect();
    Rng::new(7).shuffle(&mut again);
    assert_eq!(items, again);
    assert_ne!(items, (0..100).collect::<Vec<_>>());
    let mut sorted = items.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    // Every position receives each value about equally often (no Fisher–Yates off-by-one).
    let mut first = [0usize; 4];
    let mut rng = Rng::new(8);
    for _ in 0..40_000 {
        let mut v = [0, 1, 2, 3];
        rng.shuffle(&mut v);
        first[v[0]] += 1;
    }
    assert!(
        first.iter().all(|&c| (9_600..10_400).contains(&c)),
        "{first:?}"
    );
}
