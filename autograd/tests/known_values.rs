//! Gradients worked out by hand.

use strata_autograd::Var;
use strata_tensor::Tensor;

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
}

/// A 2-2-1 network with a ReLU, one input, squared error, every number derived by hand:
///
/// x = [1, 2], W1 = [[1, −1], [0.5, 0.5]], b1 = [0, −1]
/// z1 = W1·x + b1 = [1 − 2 + 0, 0.5 + 1 − 1] = [−1, 0.5];  h = relu(z1) = [0, 0.5]
/// W2 = [[2, 3]], b2 = [0.25];  y = 2·0 + 3·0.5 + 0.25 = 1.75;  target t = 1
/// L = (y − t)² = 0.5625;  dL/dy = 2(y − t) = 1.5
/// dL/dW2 = 1.5·h = [0, 0.75];  dL/db2 = 1.5
/// dL/dh = 1.5·W2 = [3, 4.5];  dL/dz1 = [0 (relu off), 4.5]
/// dL/dW1 = dz1 ⊗ x = [[0, 0], [4.5, 9]];  dL/db1 = [0, 4.5]
#[test]
fn two_layer_network_gradients_by_hand() {
    let x = Var::constant(Tensor::from_vec(vec![1.0, 2.0], &[1, 2]));
    let w1 = Var::leaf(Tensor::from_vec(vec![1.0, -1.0, 0.5, 0.5], &[2, 2]));
    let b1 = Var::leaf(Tensor::from_vec(vec![0.0, -1.0], &[2]));
    let w2 = Var::leaf(Tensor::from_vec(vec![2.0, 3.0], &[1, 2]));
    let b2 = Var::leaf(Tensor::from_vec(vec![0.25], &[1]));
    let target = Var::constant(Tensor::from_vec(vec![1.0], &[1, 1]));

    let h = x.linear(&w1, Some(&b1)).relu();
    let y = h.linear(&w2, Some(&b2));
    let loss = y.sub(&target).square().sum();
    assert!(close(&[loss.item()], &[0.5625]));

    let grads = loss.backward().unwrap();
    let g = |v: &Var| grads.get(v).unwrap().to_vec();
    assert!(close(&g(&w2), &[0.0, 0.75]));
    assert!(close(&g(&b2), &[1.5]));
    assert!(close(&g(&w1), &[0.0, 0.0, 4.5, 9.0]));
    assert!(close(&g(&b1), &[0.0, 4.5]));
}

/// Softmax cross-entropy of logits [0, ln 3] for class 1:
/// p = [1/4, 3/4], L = −ln(3/4); dL/dlogits = p − onehot = [1/4, −1/4].
#[test]
fn cross_entropy_gradient_is_softmax_minus_one_hot() {
    let logits = Var::leaf(Tensor::from_vec(vec![0.0, 3f32.ln()], &[1, 2]));
    let target = Tensor::from_vec(vec![1.0], &[1, 1]);
    let loss = logits.log_softmax(1).gather(1, &target).mean().neg();
    assert!(close(&[loss.item()], &[-(0.75f32.ln())]));
    let grads = loss.backward().unwrap();
    assert!(close(&grads.get(&logits).unwrap().to_vec(), &[0.25, -0.25]));
}

/// d/dx of x³ at x = 2 through a product graph that reuses x: 3x² = 12.
#[test]
fn reused_values_accumulate() {
    let x = Var::leaf(Tensor::scalar(2.0));
    let y = x.mul(&x).mul(&x);
    let grads = y.backward().unwrap();
    assert_eq!(grads.get(&x).unwrap().item(), 12.0);
}

/// The mean over a broadcast: L = mean(w + b) over a [2, 3] sum with b of shape [3]:
/// each of the 6 terms has weight 1/6, so dL/dw = 1/6 everywhere and dL/db = 2/6 per column.
#[test]
fn broadcast_gradients_are_summed_back() {
    let w = Var::leaf(Tensor::zeros(&[2, 3]));
    let b = Var::leaf(Tensor::zeros(&[3]));
    let grads = w.add(&b).mean().backward().unwrap();
    assert!(close(&grads.get(&w).unwrap().to_vec(), &[1.0 / 6.0; 6]));
    assert!(close(&grads.get(&b).unwrap().to_vec(), &[1.0 / 3.0; 3]));
}

/// `xʸ` at zero bases and exponents, PyTorch's convention: d/dx = y·xʸ⁻¹ is 0 where y = 0
/// (0⁰ = 1 is flat in x there), and d/dy = xʸ·ln x is 0 where x = 0 and y ≥ 0.
/// x = [0, 0, 2], y = [0, 2, 3]: d/dx = [0, 2·0, 3·4] = [0, 0, 12], d/dy = [0, 0, 8 ln 2].
#[test]
fn pow_at_zero_bases_and_exponents() {
    let x = Var::leaf(Tensor::from_vec(vec![0.0, 0.0, 2.0], &[3]));
    let y = Var::leaf(Tensor::from_vec(vec![0.0, 2.0, 3.0], &[3]));
    let out = x.pow(&y);
    assert_eq!(out.value().to_vec(), vec![1.0, 0.0, 8.0]);
    let grads = out.sum().backward().unwrap();
    assert_eq!(grads.get(&x).unwrap().to_vec(), vec![0.0, 0.0, 12.0]);
    assert!(close(
        &grads.get(&y).unwrap().to_vec(),
        &[0.0, 0.0, 8.0 * 2f32.ln()]
    ));
}
