//! The buffer pool: large buffers are reused, and a reused buffer never shows the values of
//! the tensor that held it before (every op overwrites all of its output).

use std::sync::Mutex;
use strata_tensor::{
    cached_buffer_bytes, release_cached_buffers, Conv2dSpec, Pool2dSpec, Rng, Tensor, POOL_MIN_LEN,
};

/// The pool belongs to the thread that drops a buffer; tests that count its bytes also run
/// one at a time, so a test thread never sees another's buffers.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Leaves several NaN-filled buffers of `len` elements in the pool.
fn poison(len: usize) {
    let tensors: Vec<Tensor> = (0..4).map(|_| Tensor::full(&[len], f32::NAN)).collect();
    drop(tensors);
}

#[track_caller]
fn assert_clean(t: &Tensor, what: &str) {
    assert!(
        t.to_vec().iter().all(|x| x.is_finite()),
        "a stale value leaked into {what}"
    );
}

#[test]
fn large_buffers_are_kept_and_released() {
    let _guard = serial();
    release_cached_buffers();
    let len = POOL_MIN_LEN + 101;
    let t = Tensor::ones(&[len]);
    let view = t.narrow(0, 0, len);
    drop(t);
    assert_eq!(cached_buffer_bytes(), 0, "a view still holds the buffer");
    drop(view);
    assert_eq!(cached_buffer_bytes(), len * 4);
    // The next tensor of that length takes it back.
    let again = Tensor::zeros(&[len]);
    assert_eq!(cached_buffer_bytes(), 0);
    assert!(again.to_vec().iter().all(|&x| x == 0.0));
    drop(again);
    // Small buffers are not pooled.
    drop(Tensor::ones(&[POOL_MIN_LEN - 1]));
    assert_eq!(cached_buffer_bytes(), len * 4);
    assert_eq!(release_cached_buffers(), len * 4);
    assert_eq!(cached_buffer_bytes(), 0);
}

#[test]
fn a_live_tensor_is_never_handed_out() {
    let _guard = serial();
    let len = POOL_MIN_LEN * 2 + 3;
    let a = Tensor::full(&[len], 1.0);
    drop(a.clone());
    let b = Tensor::full(&[len], 2.0);
    assert!(a.to_vec().iter().all(|&x| x == 1.0));
    assert!(b.to_vec().iter().all(|&x| x == 2.0));
    let mut c = b.clone();
    c.data_mut()[0] = 5.0;
    drop(c);
    let d = Tensor::full(&[len], 3.0);
    assert_eq!(b.get(&[0]), 2.0);
    assert_eq!(d.get(&[0]), 3.0);
}

/// An operation under test, producing a tensor of a pooled size.
type Op = Box<dyn Fn() -> Tensor>;

#[test]
fn recycled_buffers_are_fully_overwritten() {
    let _guard = serial();
    let mut rng = Rng::new(91);
    let (rows, cols) = (160usize, 150usize); // 24 000 elements, above the pooling size
    let (r, c) = (rows as isize, cols as isize);
    let len = rows * cols;
    assert!(len >= POOL_MIN_LEN);
    let x = Tensor::rand_uniform(&[rows, cols], -1.0, 1.0, &mut rng);
    let y = Tensor::rand_uniform(&[rows, cols], -1.0, 1.0, &mut rng);
    let checks: Vec<(&str, Op)> = vec![
        ("zeros", Box::new(move || Tensor::zeros(&[rows, cols]))),
        ("ones", Box::new(move || Tensor::ones(&[rows, cols]))),
        ("eye", Box::new(|| Tensor::eye(155))), // 24 025 elements
        (
            "map",
            Box::new({
                let x = x.clone();
                move || x.relu()
            }),
        ),
        (
            "map of a view",
            Box::new({
                let x = x.clone();
                move || x.t().exp()
            }),
        ),
        (
            "add",
            Box::new({
                let (x, y) = (x.clone(), y.clone());
                move || &x + &y
            }),
        ),
        (
            "add broadcast",
            Box::new({
                let x = x.clone();
                move || &x + &x.narrow(0, 0, 1)
            }),
        ),
        (
            "contiguous",
            Box::new({
                let x = x.clone();
                move || x.t().contiguous()
            }),
        ),
        (
            "sum over rows",
            Box::new({
                let x = x.clone();
                move || x.reshape(&[1, r, c]).sum_axes(&[0], false)
            }),
        ),
        (
            "sum over a middle axis",
            Box::new({
                let x = x.clone();
                move || x.reshape(&[r, 1, c]).sum_axes(&[1], false)
            }),
        ),
        (
            "max over an axis",
            Box::new({
                let x = x.clone();
                move || x.reshape(&[r, c, 1]).max_axes(&[2], false)
            }),
        ),
        (
            "matmul",
            Box::new({
                let x = x.clone();
                move || x.matmul(&Tensor::eye(cols))
            }),
        ),
        (
            "matmul k = 0",
            Box::new(move || Tensor::zeros(&[rows, 0]).matmul(&Tensor::zeros(&[0, cols]))),
        ),
        (
            "concat",
            Box::new({
                let x = x.clone();
                move || Tensor::concat(&[&x.narrow(0, 0, 60), &x.narrow(0, 60, 100)], 0)
            }),
        ),
        (
            "index_select",
            Box::new({
                let x = x.clone();
                move || x.index_select(0, &(0..rows).rev().collect::<Vec<_>>())
            }),
        ),
        (
            "gather",
            Box::new({
                let x = x.clone();
                move || x.gather(1, &Tensor::zeros(&[rows, cols]))
            }),
        ),
        (
            "index_add",
            Box::new({
                let x = x.clone();
                move || x.index_add(0, &[1], &x.narrow(0, 0, 1))
            }),
        ),
        (
            "scatter_add",
            Box::new({
                let x = x.clone();
                move || x.scatter_add(1, &Tensor::zeros(&[rows, 1]), &x.narrow(1, 0, 1))
            }),
        ),
        (
            "argmax",
            Box::new({
                let x = x.clone();
                move || x.reshape(&[r, c, 1]).argmax(2, false)
            }),
        ),
        (
            "uniform",
            Box::new(move || Tensor::rand_uniform(&[len], 0.0, 1.0, &mut Rng::new(1))),
        ),
    ];
    for (name, op) in &checks {
        // Poison buffers of exactly the output's length, then run the op again.
        let out_len = op().numel();
        assert!(out_len >= POOL_MIN_LEN, "{name}");
        poison(out_len);
        assert_clean(&op(), name);
    }

    // Convolution and pooling: outputs, columns and gradients of pooled sizes.
    let image = Tensor::rand_uniform(&[4, 3, 40, 40], -1.0, 1.0, &mut rng); // 19 200
    let weight = Tensor::rand_uniform(&[6, 3, 5, 5], -1.0, 1.0, &mut rng);
    let spec = Conv2dSpec::new(1, 2);
    let out_len = 4 * 6 * 40 * 40; // 38 400
    let col_len = 3 * 25 * 4 * 40 * 40; // 480 000
    for len in [out_len, col_len, 6 * 4 * 1600, image.numel()] {
        poison(len);
    }
    let out = image.conv2d(&weight, None, spec);
    assert_clean(&out, "conv2d");
    for len in [out_len, col_len, image.numel()] {
        poison(len);
    }
    assert_clean(
        &Tensor::conv2d_backward_input(&out, &weight, image.shape(), spec),
        "conv2d_backward_input",
    );
    poison(col_len);
    assert_clean(
        &Tensor::conv2d_backward_weight(&out, &image, weight.shape(), spec),
        "conv2d_backward_weight",
    );
    let pool = Pool2dSpec::new(2, 1, 0); // 4 x 3 x 39 x 39 = 18 252 outputs
    for len in [4 * 3 * 39 * 39, 2 * 4 * 3 * 39 * 39, image.numel()] {
        poison(len);
    }
    let (pooled, at) = image.max_pool2d(pool);
    assert_clean(&pooled, "max_pool2d");
    assert_clean(&at, "max_pool2d positions");
    poison(image.numel());
    assert_clean(
        &Tensor::max_pool2d_backward(&pooled, &at, image.shape()),
        "max_pool2d_backward",
    );
    poison(4 * 3 * 39 * 39);
    assert_clean(&image.avg_pool2d(pool), "avg_pool2d");
    poison(image.numel());
    assert_clean(
        &Tensor::avg_pool2d_backward(&pooled, image.shape(), pool),
        "avg_pool2d_backward",
    );
}
