//! The thread count: settable in code, and results that do not depend on it. One test, since
//! the setting is process-wide.

mod common;

use common::{assert_product, naive_matmul, random};
use strata_tensor::{
    num_threads, set_num_threads, Conv2dSpec, Pool2dSpec, Rng, Tensor, MATMUL_PAR_MIN_FLOPS,
    PAR_MIN_ELEMENTS, THREADS_ENV,
};

/// Inputs large enough that every kernel below takes its parallel path at 2 and 3 threads.
struct Inputs {
    long: Tensor,
    narrow: Tensor,
    x: Tensor,
    y: Tensor,
    w: Tensor,
    tall: Tensor,
    image: Tensor,
    filters: Tensor,
}

fn inputs() -> Inputs {
    let mut rng = Rng::new(101);
    let rows = 2 * PAR_MIN_ELEMENTS / 512 + 5;
    // Products above the threshold, split by columns (wide) and by rows (tall), with sizes
    // that are not multiples of the tiles.
    let w = random(&[512, 300], &mut rng);
    let tall = random(&[700, 97], &mut rng);
    assert!(rows * 512 * 300 >= MATMUL_PAR_MIN_FLOPS && 700 * 97 * 90 >= MATMUL_PAR_MIN_FLOPS);
    // Products with 2 output columns, or an inner dimension of 2 (plain loops rather than
    // faer), with enough rows to be split over threads.
    let (long_rows, inner) = (20_000, 64);
    let long = random(&[long_rows, inner], &mut rng);
    let narrow = random(&[inner, 2], &mut rng);
    assert!(long_rows * inner * 2 >= MATMUL_PAR_MIN_FLOPS);
    Inputs {
        long,
        narrow,
        x: random(&[rows, 512], &mut rng),
        y: random(&[rows, 512], &mut rng),
        w,
        tall,
        image: random(&[16, 3, 32, 32], &mut rng),
        filters: random(&[8, 3, 3, 3], &mut rng),
    }
}

/// Results of the parallel kernels, computed at the current thread count.
fn kernels(i: &Inputs) -> Vec<Tensor> {
    let spec = Conv2dSpec::new(1, 1);
    let conv = i.image.conv2d(&i.filters, None, spec);
    let (pooled, at) = i.image.max_pool2d(Pool2dSpec::new(2, 2, 0));
    vec![
        &i.x + &i.y,
        i.x.map(|v| v.max(0.0)),
        i.x.t().exp(),
        &i.x + &i.y.narrow(0, 0, 1),
        i.x.sum_axes(&[0], false),
        i.x.sum_axes(&[1], true),
        i.x.max_axes(&[0], false),
        i.x.sum(),
        i.x.matmul(&i.w),
        i.tall.matmul(&i.tall.t().narrow(1, 0, 90)),
        i.x.linear(&i.w.t(), Some(&i.w.narrow(0, 0, 1).squeeze(0))),
        i.long.matmul(&i.narrow),
        i.long.narrow(1, 0, 2).matmul(&i.narrow.t()),
        conv.clone(),
        Tensor::conv2d_backward_input(&conv, &i.filters, i.image.shape(), spec),
        Tensor::conv2d_backward_weight(&conv, &i.image, i.filters.shape(), spec),
        pooled,
        at,
        i.image.avg_pool2d(Pool2dSpec::new(2, 2, 0)),
    ]
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let inputs = inputs();
    set_num_threads(1);
    assert_eq!(num_threads(), 1);
    let single = kernels(&inputs);

    // The products are right, not just repeatable.
    let (expected, scale) = naive_matmul(&inputs.x, &inputs.w);
    assert_product(&single[8].to_vec(), &expected, &scale);
    let (expected, scale) = naive_matmul(&inputs.long, &inputs.narrow);
    assert_product(&single[11].to_vec(), &expected, &scale);
    let (expected, scale) = naive_matmul(&inputs.long.narrow(1, 0, 2), &inputs.narrow.t());
    assert_product(&single[12].to_vec(), &expected, &scale);

    // More threads than cores, and back up after going down.
    for threads in [2, 3] {
        set_num_threads(threads);
        assert_eq!(num_threads(), threads);
        let parallel = kernels(&inputs);
        for (k, (a, b)) in single.iter().zip(&parallel).enumerate() {
            // Every kernel splits its work the same way on any number of threads, and each
            // output element is computed by one job: the results are bit-identical.
            assert_eq!(a, b, "kernel {k} at {threads} threads");
        }
    }

    set_num_threads(0);
    let default = std::env::var(THREADS_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    assert_eq!(num_threads(), default);
}
