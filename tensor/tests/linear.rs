//! The fused dense-layer product against matmul + broadcast add.

use strata_tensor::{Rng, Tensor};

fn close(a: &Tensor, b: &Tensor) -> bool {
    a.shape() == b.shape()
        && a.to_vec()
            .iter()
            .zip(b.to_vec())
            .all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + y.abs()))
}

#[test]
fn linear_matches_matmul_plus_bias_on_2d_3d_and_strided_inputs() {
    let mut rng = Rng::new(17);
    let w = Tensor::rand_normal(&[7, 5], 0.0, 1.0, &mut rng);
    let b = Tensor::rand_normal(&[7], 0.0, 1.0, &mut rng);
    let inputs = [
        Tensor::rand_normal(&[4, 5], 0.0, 1.0, &mut rng),
        Tensor::rand_normal(&[2, 3, 5], 0.0, 1.0, &mut rng),
        // A transposed (non-contiguous) input.
        Tensor::rand_normal(&[5, 6], 0.0, 1.0, &mut rng).t(),
        Tensor::rand_normal(&[1, 5], 0.0, 1.0, &mut rng),
    ];
    for x in &inputs {
        let expected = x.matmul(&w.t()).add(&b);
        assert!(
            close(&x.linear(&w, Some(&b)), &expected),
            "with bias, input {:?}",
            x.shape()
        );
        assert!(
            close(&x.linear(&w, None), &x.matmul(&w.t())),
            "without bias, input {:?}",
            x.shape()
        );
    }
    // Two outputs (the plain loops of narrow products, accumulating onto the bias), against
    // dot products written out.
    let (w2, b2) = (
        Tensor::rand_normal(&[2, 5], 0.0, 1.0, &mut rng),
        Tensor::rand_normal(&[2], 0.0, 1.0, &mut rng),
    );
    let y = inputs[0].linear(&w2, Some(&b2));
    for r in 0..4 {
        for o in 0..2 {
            let dot: f32 = (0..5)
                .map(|i| inputs[0].get(&[r, i]) * w2.get(&[o, i]))
                .sum();
            assert!(
                (y.get(&[r, o]) - (dot + b2.get(&[o]))).abs() < 1e-5,
                "row {r}, output {o}"
            );
        }
    }
    // A long column-major input and a wide output: the product is computed transposed and
    // added onto the bias.
    let x = Tensor::rand_normal(&[1000, 200], 0.0, 1.0, &mut rng).t();
    let (w3, b3) = (
        Tensor::rand_normal(&[130, 1000], 0.0, 1.0, &mut rng),
        Tensor::rand_normal(&[130], 0.0, 1.0, &mut rng),
    );
    assert!(close(
        &x.linear(&w3, Some(&b3)),
        &x.contiguous().matmul(&w3.t().contiguous()).add(&b3)
    ));
    // A transposed weight view works too.
    let wt = Tensor::rand_normal(&[5, 7], 0.0, 1.0, &mut rng);
    assert!(close(
        &inputs[0].linear(&wt.t(), None),
        &inputs[0].matmul(&wt)
    ));
}

#[test]
fn linear_shape_errors_name_the_shapes() {
    let x = Tensor::zeros(&[32, 784]);
    let err = x.try_linear(&Tensor::zeros(&[512, 256]), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "linear: input [32, 784] needs [..., in] and weight [out, in], found weight [512, 256]"
    );
    let err = x
        .try_linear(&Tensor::zeros(&[10, 784]), Some(&Tensor::zeros(&[9])))
        .unwrap_err();
    assert_eq!(err.to_string(), "linear: bias should be [10], found [9]");
}
