//! The thread count: settable in code, and results that do not depend on it. One test, since
//! the setting is process-wide.

mod common;

use common::{assert_close, random};
use strata_tensor::{num_threads, set_num_threads, Conv2dSpec, Rng, Tensor, PAR_MIN_ELEMENTS};

/// Results of a few large kernels, computed at the current thread count.
fn kernels(x: &Tensor, y: &Tensor, w: &Tensor, image: &Tensor, filters: &Tensor) -> Vec<Tensor> {
    vec![
        x + y,
        x.map(|v| v.max(0.0)),
        x.t().exp(),
        x + &y.narrow(0, 0, 1),
        x.sum_axes(&[0], false),
        x.sum_axes(&[1], true),
        x.max_axes(&[0], false),
        x.sum(),
        x.matmul(w),
        image.conv2d(filters, None, Conv2dSpec::new(1, 1)),
    ]
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut rng = Rng::new(101);
    let rows = 2 * PAR_MIN_ELEMENTS / 512 + 5;
    let x = random(&[rows, 512], &mut rng);
    let y = random(&[rows, 512], &mut rng);
    let w = random(&[512, 300], &mut rng);
    let image = random(&[16, 3, 32, 32], &mut rng);
    let filters = random(&[8, 3, 3, 3], &mut rng);

    set_num_threads(1);
    assert_eq!(num_threads(), 1);
    let single = kernels(&x, &y, &w, &image, &filters);

    // Going back up after going down works (the pool itself is not shrunk).
    set_num_threads(2);
    assert_eq!(num_threads(), 2.min(rayon_threads()));
    let parallel = kernels(&x, &y, &w, &image, &filters);

    set_num_threads(0);
    assert_eq!(num_threads(), rayon_threads());

    for (i, (a, b)) in single.iter().zip(&parallel).enumerate() {
        assert_eq!(a.shape(), b.shape(), "kernel {i}");
        // Element-wise passes are exact; reductions and products may sum in another order.
        assert_close(&b.to_vec(), &a.to_vec(), 1e-4);
    }
    for i in 0..4 {
        assert_eq!(single[i], parallel[i], "element-wise kernel {i} is exact");
    }
}

/// The size rayon's global pool gets by default: `RAYON_NUM_THREADS`, else one per core.
fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
