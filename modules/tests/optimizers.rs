//! One optimizer step against hand-computed updates, schedules and clipping.

use strata_autograd::Var;
use strata_modules::{
    Adam, AdamW, CosineAnnealingLr, ExponentialLr, LinearWarmup, LrSchedule, Optimizer, RmsProp,
    Sgd, StepLr,
};
use strata_tensor::Tensor;

/// A single parameter `w = [1, −2]` with loss `½·Σ(3·w)²/3 = 1.5·Σw²`: gradient `3w = [3, −6]`.
fn param() -> Var {
    Var::leaf(Tensor::from_vec(vec![1.0, -2.0], &[2]))
}

fn step(optimizer: &mut dyn Optimizer, w: &mut Var) {
    let grads = w.square().sum().mul_scalar(1.5).backward().unwrap();
    optimizer.step(w, &grads);
}

fn close(a: &[f32], b: &[f32]) {
    assert!(
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5),
        "{a:?} vs expected {b:?}"
    );
}

#[test]
fn sgd_plain_momentum_nesterov_and_weight_decay() {
    let mut w = param();
    step(&mut Sgd::new(0.1), &mut w);
    close(&w.value().to_vec(), &[1.0 - 0.3, -2.0 + 0.6]);

    // Momentum 0.9: b1 = g1 = [3, −6]; w1 = w − 0.1·b1 = [0.7, −1.4];
    // g2 = 3·w1 = [2.1, −4.2]; b2 = 0.9·b1 + g2 = [4.8, −9.6]; w2 = w1 − 0.1·b2 = [0.22, −0.44].
    let mut w = param();
    let mut sgd = Sgd::new(0.1).momentum(0.9);
    step(&mut sgd, &mut w);
    step(&mut sgd, &mut w);
    close(&w.value().to_vec(), &[0.22, -0.44]);

    // Nesterov: step 1 uses g + μ·b = 1.9·g: w1 = w − 0.19·[3, −6] = [0.43, −0.86].
    let mut w = param();
    step(&mut Sgd::new(0.1).momentum(0.9).nesterov(true), &mut w);
    close(&w.value().to_vec(), &[0.43, -0.86]);

    // Weight decay 0.5 adds 0.5·w to the gradient: g = [3.5, −7].
    let mut w = param();
    step(&mut Sgd::new(0.1).weight_decay(0.5), &mut w);
    close(&w.value().to_vec(), &[0.65, -1.3]);
}

#[test]
fn adam_and_adamw_first_step() {
    // Step 1 of Adam: m̂ = g, v̂ = g², so the update is lr·g/(|g| + ε) = lr·sign(g).
    let mut w = param();
    step(&mut Adam::new(0.1), &mut w);
    close(&w.value().to_vec(), &[0.9, -1.9]);

    // AdamW decays first: w ← w·(1 − lr·λ) = w·0.95, then the same sign step.
    let mut w = param();
    step(&mut AdamW::new(0.1).weight_decay(0.5), &mut w);
    close(&w.value().to_vec(), &[0.95 - 0.1, -1.9 + 0.1]);

    // Two Adam steps: g2 = 3·[0.9, −1.9] = [2.7, −5.7];
    // m = 0.9·0.1·g1 + 0.1·g2 → m̂ = m/0.19; v = 0.999·0.001·g1² + 0.001·g2² → v̂ = v/0.001999.
    let mut w = param();
    let mut adam = Adam::new(0.1);
    step(&mut adam, &mut w);
    step(&mut adam, &mut w);
    let expected: Vec<f32> = [(0.9f64, 3.0f64, 2.7f64), (-1.9, -6.0, -5.7)]
        .iter()
        .map(|&(w1, g1, g2)| {
            let m = (0.9 * 0.1 * g1 + 0.1 * g2) / (1.0 - 0.81);
            let v = (0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2) / (1.0 - 0.999f64.powi(2));
            (w1 - 0.1 * m / (v.sqrt() + 1e-8)) as f32
        })
        .collect();
    close(&w.value().to_vec(), &expected);
}

#[test]
fn rmsprop_first_step() {
    // v = 0.01·g², so g/√v = 10·sign(g): w − 0.01·10·sign(g).
    let mut w = param();
    step(&mut RmsProp::new(0.01), &mut w);
    close(&w.value().to_vec(), &[0.9, -1.9]);
}

#[test]
fn a_parameter_shared_by_two_fields_is_updated_once() {
    struct Tied {
        a: Var,
        b: Var,
    }
    impl strata_modules::Params for Tied {
        fn visit(&self, prefix: &str, visitor: &mut dyn strata_modules::Visitor) {
            self.a
                .visit(&strata_modules::join_name(prefix, "a"), visitor);
            self.b
                .visit(&strata_modules::join_name(prefix, "b"), visitor);
        }
        fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn strata_modules::VisitorMut) {
            self.a
                .visit_mut(&strata_modules::join_name(prefix, "a"), visitor);
            self.b
                .visit_mut(&strata_modules::join_name(prefix, "b"), visitor);
        }
        fn set_training(&mut self, _: bool) {}
    }
    let w = param();
    let mut tied = Tied {
        a: w.clone(),
        b: w.clone(),
    };
    let grads = w.square().sum().mul_scalar(1.5).backward().unwrap();
    Sgd::new(0.1).step(&mut tied, &grads);
    close(&tied.a.value().to_vec(), &[0.7, -1.4]);
}

#[test]
fn schedules() {
    let base = 0.1;
    assert_eq!(
        StepLr {
            step_size: 2,
            gamma: 0.5
        }
        .learning_rate(base, 3),
        0.05
    );
    assert!((ExponentialLr { gamma: 0.9 }.learning_rate(base, 2) - 0.081).abs() < 1e-7);
    let cosine = CosineAnnealingLr {
        period: 10,
        min_lr: 0.0,
    };
    assert_eq!(cosine.learning_rate(base, 0), base);
    assert!((cosine.learning_rate(base, 5) - 0.05).abs() < 1e-7);
    assert!(cosine.learning_rate(base, 10).abs() < 1e-7);
    let warm = LinearWarmup {
        warmup: 4,
        after: StepLr {
            step_size: 1,
            gamma: 0.5,
        },
    };
    let rates: Vec<f32> = (0..6).map(|s| warm.learning_rate(base, s)).collect();
    close(&rates, &[0.02, 0.04, 0.06, 0.08, 0.1, 0.05]);
}
