//! `backward_with_ready`: every leaf that gets a gradient is reported once, only when its
//! gradient is final, in reverse order of use, and the pass returns what `backward` returns.

use strata_autograd::{Var, VarId};
use strata_tensor::{Rng, Tensor};

/// A three-layer network whose first weight is used again at the end (shared), and a leaf
/// the loss does not use: `[w1, b1, w2, w3, unused]`.
fn graph(rng: &mut Rng) -> (Var, Vec<Var>) {
    let w1 = Var::leaf(Tensor::rand_normal(&[6, 4], 0.0, 0.5, rng));
    let b1 = Var::leaf(Tensor::rand_normal(&[6], 0.0, 0.5, rng));
    let w2 = Var::leaf(Tensor::rand_normal(&[5, 6], 0.0, 0.5, rng));
    let w3 = Var::leaf(Tensor::rand_normal(&[4, 5], 0.0, 0.5, rng));
    let unused = Var::leaf(Tensor::rand_normal(&[3], 0.0, 0.5, rng));
    let x = Var::constant(Tensor::rand_normal(&[8, 4], 0.0, 1.0, rng));
    let h1 = x.linear(&w1, Some(&b1)).relu();
    let h2 = h1.linear(&w2, None).relu();
    let out = h2.linear(&w3, None); // [8, 4]
    let again = out.linear(&w1, None); // w1 used a second time, after w2 and w3
    let loss = again.square().mean();
    (loss, vec![w1, b1, w2, w3, unused])
}

#[test]
fn each_leaf_is_reported_once_with_its_final_gradient() {
    let mut rng = Rng::new(3);
    let (loss, leaves) = graph(&mut rng);
    let plain = loss.backward_retain().unwrap();
    let mut reported: Vec<(VarId, Vec<f32>)> = Vec::new();
    let grads = loss
        .backward_with_ready(&mut |id, g| reported.push((id, g.to_vec())))
        .unwrap();
    let ids: Vec<VarId> = reported.iter().map(|(id, _)| *id).collect();
    // w1 is used last (`again`) but also first: final only at the very end. w3's last use
    // comes after w2's, so it is ready first; the unused leaf is never reported.
    let [w1, b1, w2, w3, unused] = [0, 1, 2, 3, 4].map(|i| leaves[i].id());
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(!ids.contains(&unused));
    let at = |id| ids.iter().position(|&x| x == id).unwrap();
    assert!(at(w3) < at(w2), "{ids:?}");
    assert!(at(w2) < at(b1) && at(w2) < at(w1), "{ids:?}");
    for (id, values) in &reported {
        let expected = plain.get_by_id(*id).unwrap().to_vec();
        let same = expected
            .iter()
            .zip(values)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "reported gradient of {id:?} is not the final one");
        let returned = grads.get_by_id(*id).unwrap().to_vec();
        assert!(returned
            .iter()
            .zip(values)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }
    assert_eq!(grads.len(), plain.len());
}

#[test]
fn a_leaf_that_is_the_loss_itself_is_reported() {
    let w = Var::leaf(Tensor::scalar(2.0));
    let mut reported = Vec::new();
    let grads = w
        .backward_with_ready(&mut |id, g| reported.push((id, g.item())))
        .unwrap();
    assert_eq!(reported, vec![(w.id(), 1.0)]);
    assert_eq!(grads.get(&w).unwrap().item(), 1.0);
}
