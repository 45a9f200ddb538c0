//! Gradient clipping by global norm.

use strata_autograd::Gradients;

/// Rescales all gradients together so that their global L2 norm is at most `max_norm`;
/// returns the norm before clipping (a diverging run shows up here first).
///
/// ```
/// use strata_autograd::Var;
/// use strata_modules::clip_grad_norm;
/// use strata_tensor::Tensor;
/// let w = Var::leaf(Tensor::from_vec(vec![3.0, 4.0], &[2]));
/// let mut grads = w.square().sum().mul_scalar(0.5).backward().unwrap(); // gradient = w
/// assert_eq!(clip_grad_norm(&mut grads, 1.0), 5.0);
/// assert_eq!(grads.get(&w).unwrap().to_vec(), vec![0.6, 0.8]);
/// ```
pub fn clip_grad_norm(grads: &mut Gradients, max_norm: f32) -> f32 {
    let total: f64 = grads
        .iter()
        .map(|(_, g)| {
            g.values()
                .iter()
                .map(|&x| (x as f64) * (x as f64))
                .sum::<f64>()
        })
        .sum();
    let norm = total.sqrt() as f32;
    if norm > max_norm && norm > 0.0 {
        let scale = max_norm / norm;
        for (_, g) in grads.iter_mut() {
            g.data_mut().iter_mut().for_each(|x| *x *= scale);
        }
    }
    norm
}
