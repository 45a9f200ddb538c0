//! The graph of a step is freed when its last `Var` is dropped. This file holds one test, so
//! its process counts only its own nodes.

use strata_autograd::{live_nodes, Var};
use strata_tensor::{Rng, Tensor};

#[test]
fn ten_thousand_steps_leave_no_live_nodes() {
    let mut rng = Rng::new(3);
    let mut w = Var::leaf(Tensor::rand_normal(&[4, 3], 0.0, 0.5, &mut rng));
    let x = Var::constant(Tensor::rand_normal(&[8, 3], 0.0, 1.0, &mut rng));
    assert_eq!(live_nodes(), 0);
    let mut peak = 0;
    for step in 0..10_000 {
        let loss = x.linear(&w, None).tanh().square().mean();
        peak = peak.max(live_nodes());
        let grads = loss.backward().unwrap();
        let grad = grads.get(&w).unwrap().clone();
        w.update(|t| {
            let g = grad.to_vec();
            for (v, g) in t.data_mut().iter_mut().zip(g) {
                *v -= 0.01 * g;
            }
        });
        if step % 1000 == 0 {
            // A graph that is built but never differentiated must be freed too.
            let unused = x.linear(&w, None).exp().sum();
            assert!(live_nodes() > 0);
            drop(unused);
        }
        drop(loss);
        assert_eq!(live_nodes(), 0, "nodes left alive after step {step}");
    }
    assert_eq!(
        peak, 4,
        "linear, tanh, square and mean are the step's four nodes"
    );
}
