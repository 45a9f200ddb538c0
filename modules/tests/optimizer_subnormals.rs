//! The optimizers' update loops run with subnormal floats flushed to zero on x86-64 (a
//! subnormal input or result costs a microcode assist there): values below f32's normal
//! range count as zero inside an update, and the caller's floating-point mode is the same
//! afterwards.

#![cfg(target_arch = "x86_64")]

use strata_autograd::{Gradients, Var};
use strata_modules::{Adam, Optimizer, RmsProp, Sgd};
use strata_tensor::Tensor;

/// Below f32's smallest normal number (1.2e-38): a subnormal.
const SUBNORMAL: f32 = 1e-39;

#[test]
fn updates_flush_subnormals_and_restore_the_float_mode() {
    type Make = fn() -> Box<dyn Optimizer>;
    let optimizers: [(&str, Make); 4] = [
        ("adam", || Box::new(Adam::new(0.1))),
        ("sgd", || Box::new(Sgd::new(0.1))),
        ("sgd momentum", || Box::new(Sgd::new(0.1).momentum(0.9))),
        ("rmsprop", || Box::new(RmsProp::new(0.1))),
    ];
    for (name, make) in optimizers {
        // A subnormal parameter with a zero gradient: exact arithmetic would leave it as it
        // is; with subnormals flushed it reads (and is written back) as zero. The normal
        // parameters move as usual, in the direction opposite to their gradient.
        let mut w = Var::leaf(Tensor::from_vec(vec![0.5, SUBNORMAL, 1.0], &[3]));
        let mut grads = Gradients::default();
        grads.insert(w.id(), Tensor::from_vec(vec![0.3, 0.0, -0.2], &[3]));
        make().step(&mut w, &grads);
        let after = w.value().to_vec();
        assert_eq!(after[1], 0.0, "{name}: {after:?}");
        assert!(after[0] < 0.5 && after[2] > 1.0, "{name}: {after:?}");
    }
    // Back in the caller's mode: a product below the normal range is a subnormal again.
    let tiny = std::hint::black_box(1e-30f32);
    assert!(tiny * 1e-10 > 0.0);
}
