//! Dropping a long chain frees it iteratively (no recursion per node). Alone in its file so
//! the live-node count is this test's own.

use strata_autograd::{live_nodes, Var};
use strata_tensor::Tensor;

#[test]
fn a_very_deep_chain_drops_without_overflowing_the_stack() {
    let w = Var::leaf(Tensor::scalar(1.0));
    let mut y = w.clone();
    for _ in 0..200_000 {
        y = y.add_scalar(0.0);
    }
    assert!(live_nodes() >= 200_000);
    drop(y);
    assert_eq!(live_nodes(), 0);
}
