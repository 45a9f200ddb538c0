//! The parallel paths of the modules at 1, 2 and 3 threads: the recurrences split the batch
//! into blocks of rows per thread, the optimizers split large parameters into blocks, and a
//! training step runs its products in tiles. Each gives bit-identical results on any number
//! of threads, and the split recurrence still has the right gradients.
//!
//! The thread count is process-wide: the tests take `THREAD_COUNT` so they do not change it
//! under one another.

use std::sync::Mutex;
use strata_autograd::{gradcheck, Gradients, Var};
use strata_bench_reference as reference;
use strata_modules::{
    cross_entropy, Adam, Gru, Lstm, Module, Optimizer, Params, RmsProp, Rnn, Sgd,
};
use strata_tensor::{set_num_threads, Rng, Tensor};

static THREAD_COUNT: Mutex<()> = Mutex::new(());

const THREADS: [usize; 3] = [1, 2, 3];

/// Runs `f` at 1, 2 and 3 threads and checks that every result equals the 1-thread one.
fn same_at_every_thread_count<T: PartialEq + std::fmt::Debug>(what: &str, f: impl Fn() -> T) {
    let _guard = THREAD_COUNT.lock().unwrap_or_else(|p| p.into_inner());
    let mut first = None;
    for threads in THREADS {
        set_num_threads(threads);
        let result = f();
        match &first {
            None => first = Some(result),
            Some(first) => assert!(*first == result, "{what}: {threads} threads differ"),
        }
    }
    set_num_threads(0);
}

/// The values of a sequence layer's outputs and final states, and every gradient of the sum
/// of their squares.
fn sequence_results(forward: impl Fn(&Var) -> Vec<Var>, params: &[Var], x: &Tensor) -> Vec<Tensor> {
    let outputs = forward(&Var::constant(x.clone()));
    let loss = outputs
        .iter()
        .map(|o| o.square().sum())
        .reduce(|a, b| a.add(&b))
        .expect("at least one output");
    let grads = loss.backward().expect("the loss depends on the weights");
    outputs
        .iter()
        .map(|o| o.value().clone())
        .chain(
            params
                .iter()
                .map(|p| grads.get(p).expect("a gradient").clone()),
        )
        .collect()
}

#[test]
fn recurrences_give_the_same_results_on_any_number_of_threads() {
    // 37 rows: blocks of 37, 19 + 18 and 13 + 13 + 11 rows at 1, 2 and 3 threads.
    let (batch, steps, input, hidden) = (37, 6, 5, 16);
    let mut rng = Rng::new(31);
    let x = Tensor::rand_normal(&[batch, steps, input], 0.0, 1.0, &mut rng);
    let lstm = Lstm::new(input, hidden, &mut rng);
    let gru = Gru::new(input, hidden, &mut rng);
    let rnn = Rnn::new(input, hidden, &mut rng);
    same_at_every_thread_count("LSTM", || {
        let params: Vec<Var> = lstm.parameters();
        sequence_results(
            |x| {
                let (out, (h, c)) = lstm.forward_seq(x, None);
                vec![out, h, c]
            },
            &params,
            &x,
        )
    });
    same_at_every_thread_count("GRU", || {
        let params: Vec<Var> = gru.parameters();
        sequence_results(
            |x| {
                let (out, h) = gru.forward_seq(x, None);
                vec![out, h]
            },
            &params,
            &x,
        )
    });
    same_at_every_thread_count("RNN", || {
        let params: Vec<Var> = rnn.parameters();
        sequence_results(
            |x| {
                let (out, h) = rnn.forward_seq(x, None);
                vec![out, h]
            },
            &params,
            &x,
        )
    });
}

#[test]
fn a_recurrence_split_over_three_threads_has_the_right_gradients() {
    let _guard = THREAD_COUNT.lock().unwrap_or_else(|p| p.into_inner());
    set_num_threads(3);
    // 17 rows: two blocks (9 + 8 rows) at 3 threads, each at least 8 rows.
    let (batch, steps, input, hidden) = (17, 3, 2, 3);
    let mut rng = Rng::new(32);
    let lstm = Lstm::new(input, hidden, &mut rng);
    let weights: Vec<Tensor> = lstm
        .parameters()
        .iter()
        .map(|p| p.value().clone())
        .collect();
    let mut inputs = vec![Tensor::rand_normal(
        &[batch, steps, input],
        0.0,
        1.0,
        &mut rng,
    )];
    inputs.extend(weights);
    let report = gradcheck(
        |v| {
            let mut layer = lstm.clone();
            let [w_ih, w_hh, b_ih, b_hh] = [1, 2, 3, 4].map(|i| v[i].clone());
            layer.layers[0].weight_ih = w_ih;
            layer.layers[0].weight_hh = w_hh;
            layer.layers[0].bias_ih = Some(b_ih);
            layer.layers[0].bias_hh = Some(b_hh);
            let (out, _) = layer.forward_seq(&v[0], None);
            out
        },
        &inputs,
    )
    .expect("gradcheck runs");
    set_num_threads(0);
    // f32 central differences (eps 1e-3) on sums of a few terms: as in tests/recurrent.rs.
    report.assert_within(1e-2);
}

/// A parameter of several update blocks (with a ragged end) and a fixed gradient.
fn large_parameter() -> (Var, Gradients) {
    let len = 3 * (1 << 14) + 5;
    let mut rng = Rng::new(33);
    let w = Var::leaf(Tensor::rand_normal(&[len], 0.0, 1.0, &mut rng));
    let target = Tensor::rand_normal(&[len], 0.0, 1.0, &mut rng);
    let grads = w
        .sub(&Var::constant(target))
        .square()
        .sum()
        .backward()
        .expect("a gradient");
    (w, grads)
}

#[test]
fn optimizer_updates_are_the_same_on_any_number_of_threads() {
    type Make = fn() -> Box<dyn Optimizer>;
    let optimizers: [(&str, Make); 4] = [
        ("adam", || Box::new(Adam::new(1e-2).weight_decay(0.1))),
        ("sgd", || Box::new(Sgd::new(1e-2))),
        ("sgd momentum", || Box::new(Sgd::new(1e-2).momentum(0.9))),
        ("rmsprop", || Box::new(RmsProp::new(1e-2).momentum(0.5))),
    ];
    for (name, make) in optimizers {
        same_at_every_thread_count(name, || {
            let (mut w, grads) = large_parameter();
            let mut optimizer = make();
            for _ in 0..3 {
                optimizer.step(&mut w, &grads);
            }
            w.value().clone()
        });
    }
    // And the blocks update every element as one Adam step does, element by element:
    // step 1 has m̂ = g and v̂ = g², so each element moves by lr·g/(|g| + ε).
    let _guard = THREAD_COUNT.lock().unwrap_or_else(|p| p.into_inner());
    set_num_threads(3);
    let (mut w, grads) = large_parameter();
    let before = w.value().to_vec();
    let g = grads.get(&w).expect("a gradient").to_vec();
    Adam::new(1e-2).step(&mut w, &grads);
    set_num_threads(0);
    for (i, ((&after, &b), &g)) in w.value().to_vec().iter().zip(&before).zip(&g).enumerate() {
        let (b, g) = (f64::from(b), f64::from(g));
        let expected = b - 1e-2 * g / (g.abs() + 1e-8);
        assert!(
            (f64::from(after) - expected).abs() < 1e-6,
            "element {i}: {after} vs {expected}"
        );
    }
}

#[test]
fn an_mlp_training_step_is_the_same_on_any_number_of_threads() {
    let x = reference::inputs(64, 784);
    let y = reference::labels(64, 784, 10);
    same_at_every_thread_count("MLP step", || {
        let mut model = reference::mlp(&[784, 512, 256, 10]);
        let mut adam = Adam::new(1e-3);
        let mut losses = Vec::new();
        for _ in 0..2 {
            let loss = cross_entropy(&model.forward(&Var::constant(x.clone())), &y);
            losses.push(loss.item());
            let grads = loss.backward().expect("gradients");
            adam.step(&mut model, &grads);
        }
        let params: Vec<Tensor> = model
            .parameters()
            .iter()
            .map(|p| p.value().clone())
            .collect();
        (losses, params)
    });
}

#[test]
fn a_transformer_layer_step_is_the_same_on_any_number_of_threads() {
    // 32 sequences × 4 heads of 64 × 32 products: the batched products are split by batch.
    let x = reference::inputs(32 * 64, 128).reshape(&[32, 64, 128]);
    same_at_every_thread_count("transformer step", || {
        let layer = reference::transformer_encoder_layer();
        let out = layer.forward(&Var::constant(x.clone()));
        let grads = out.square().mean().backward().expect("gradients");
        let mut results = vec![out.value().clone()];
        results.extend(
            layer
                .parameters()
                .iter()
                .map(|p| grads.get(p).unwrap().clone()),
        );
        results
    });
}
