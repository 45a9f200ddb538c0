//! A misuse panics at the user's line, not inside Strata: losses, layers, `Sequential` (which
//! also names the layer that refused its input), anomaly mode. Each test reads the location
//! the panic reports and checks that it is this file.

mod common;

use common::panic_site;
use strata_autograd::set_anomaly_detection;
use strata_modules::{
    cross_entropy, mse_loss, BatchNorm1d, BceWithLogitsLoss, Conv2d, CrossEntropyLoss, Dense,
    LayerNorm, Module, MseLoss, Reduction, Relu, Sequential, Var,
};
use strata_tensor::{ErrorKind, Rng, Tensor};

fn input(shape: &[usize]) -> Var {
    Var::constant(Tensor::ones(shape))
}

#[test]
fn losses_panic_at_the_call() {
    let site = panic_site(|| {
        mse_loss(&input(&[2, 3]), &input(&[3, 2]));
    });
    assert_eq!(
        site.message,
        "mse_loss: input [2, 3] and target [3, 2] differ"
    );
    assert_eq!(site.file, file!());

    let logits = input(&[2, 3]);
    let site = panic_site(|| {
        cross_entropy(&logits, &Tensor::from_vec(vec![0.0, 7.0], &[2]));
    });
    assert_eq!(
        site.message,
        "cross_entropy: target 7 is not a class index in 0..3"
    );
    assert_eq!(site.file, file!());

    // The option types' forms too.
    let site = panic_site(|| {
        CrossEntropyLoss::new()
            .class_axis(1)
            .forward(&input(&[2, 3, 4]), &Tensor::zeros(&[2, 3]));
    });
    assert_eq!(
        site.message,
        "cross_entropy: logits [2, 3, 4] need classes on axis 1 and targets shaped like the \
         rest, found targets [2, 3]"
    );
    assert_eq!(site.file, file!());
    let site = panic_site(|| {
        BceWithLogitsLoss::new()
            .pos_weight(Tensor::ones(&[3]))
            .forward(&input(&[2, 4]), &input(&[2, 4]));
    });
    assert_eq!(
        site.message,
        "bce_with_logits: pos_weight [3] does not broadcast to the input [2, 4]"
    );
    assert_eq!(site.file, file!());
}

#[test]
fn layers_panic_at_the_call_and_have_a_fallible_twin() {
    let dense = Dense::new(4, 2, &mut Rng::new(0));
    let site = panic_site(|| {
        dense.forward(&input(&[3, 5]));
    });
    assert_eq!(
        site.message,
        "linear: input [3, 5] needs [..., in] and weight [out, in], found weight [2, 4]"
    );
    assert_eq!(site.file, file!());
    assert_eq!(
        dense.try_forward(&input(&[3, 5])).unwrap_err().to_string(),
        site.message
    );

    let conv = Conv2d::new(3, 8, 3, &mut Rng::new(0));
    let site = panic_site(|| {
        conv.forward(&input(&[1, 2, 8, 8]));
    });
    assert!(site.message.starts_with("conv2d: "), "{}", site.message);
    assert_eq!(site.file, file!());

    let norm = LayerNorm::new(&[4]);
    let site = panic_site(|| {
        norm.forward(&input(&[2, 3]));
    });
    assert_eq!(
        site.message,
        "LayerNorm: input [2, 3] does not end with the normalized shape [4]"
    );
    assert_eq!(site.file, file!());

    // Training statistics need more than one value per channel.
    let err = BatchNorm1d::new(3)
        .try_forward(&input(&[1, 3]))
        .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("BatchNorm: training needs more than one value"));
}

#[test]
fn sequential_names_the_layer_that_refused_its_input() {
    let mut rng = Rng::new(0);
    let model = Sequential::new()
        .push(Dense::new(4, 8, &mut rng))
        .push(Relu)
        .push(Dense::new(6, 2, &mut rng));
    let err = model.try_forward(&input(&[3, 4])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ShapeMismatch);
    assert_eq!(
        err.to_string(),
        "Sequential: layer 2 (Dense): linear: input [3, 8] needs [..., in] and weight [out, in], \
         found weight [2, 6]"
    );
    let site = panic_site(|| {
        model.forward(&input(&[3, 4]));
    });
    assert_eq!(site.message, err.to_string());
    assert_eq!(site.file, file!());
    // A model that fits still runs through the same path.
    assert_eq!(
        Sequential::new()
            .push(Dense::new(4, 2, &mut rng))
            .try_forward(&input(&[3, 4]))
            .unwrap()
            .shape(),
        &[3, 2]
    );
}

#[test]
fn anomaly_mode_panics_at_the_op_the_user_called() {
    let w = Var::leaf(Tensor::from_vec(vec![-1.0], &[1]));
    let dense = Dense::new(1, 1, &mut Rng::new(0));
    let huge = Var::constant(Tensor::from_vec(vec![f32::INFINITY], &[1, 1]));
    set_anomaly_detection(true);
    let log = panic_site(|| {
        w.log();
    });
    let scaled = panic_site(|| {
        let _ = &w.sqrt() * 2.0;
    });
    let layer = panic_site(|| {
        dense.forward(&huge);
    });
    let loss = panic_site(|| {
        MseLoss::new()
            .reduction(Reduction::Sum)
            .forward(&huge, &input(&[1, 1]));
    });
    set_anomaly_detection(false);
    assert_eq!(
        log.message,
        "anomaly: the forward of `log` (inputs [[1]]) produced NaN or infinity"
    );
    for site in [&log, &scaled, &layer, &loss] {
        assert_eq!(site.file, file!(), "{site:?}");
    }
    assert!(layer.message.contains("`linear`"), "{}", layer.message);
}

#[test]
fn anomaly_mode_belongs_to_the_thread_that_turned_it_on() {
    let w = Var::leaf(Tensor::from_vec(vec![-1.0], &[1]));
    set_anomaly_detection(true);
    let elsewhere = std::thread::scope(|s| {
        s.spawn(|| {
            let unchecked = w.log().value().to_vec()[0];
            set_anomaly_detection(true);
            let checked = panic_site(|| {
                w.log();
            });
            (unchecked, checked.message)
        })
        .join()
        .unwrap()
    });
    set_anomaly_detection(false);
    assert!(elsewhere.0.is_nan(), "another thread is not checked");
    assert!(
        elsewhere.1.starts_with("anomaly: the forward of `log`"),
        "until it turns anomaly mode on itself"
    );
}
