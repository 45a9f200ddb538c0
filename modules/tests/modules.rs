//! Module composition: derived parameter listing (with generics), names, modes, heads.

use strata_modules::{
    Buffer, Dense, Flatten, Gelu, Identity, Init, LeakyRelu, LogSoftmax, Module, MultiClassHead,
    MultiLabelHead, Params, Relu, RngCell, Sequential, Sigmoid, Softmax, Tanh, Var,
};
use strata_tensor::{Rng, Tensor};

#[derive(Params)]
struct Pair<E, D> {
    encoder: E,
    decoder: D,
    #[module(skip)]
    latent: usize,
}

impl<E: Module, D: Module> Module for Pair<E, D> {
    fn forward(&self, x: &Var) -> Var {
        self.decoder.forward(&self.encoder.forward(x))
    }
}

#[derive(Params)]
struct WithState {
    layers: Vec<Dense>,
    stats: Buffer,
    noise: RngCell,
    #[module(training)]
    training: bool,
    inner: Option<Sequential>,
}

#[test]
fn derived_params_list_every_field_with_dotted_names() {
    let mut rng = Rng::new(0);
    let encoder = Sequential::new()
        .push(Dense::new(4, 3, &mut rng))
        .push(Relu);
    let decoder = Dense::new(3, 4, &mut rng);
    let pair = Pair {
        encoder,
        decoder,
        latent: 3,
    };
    let names: Vec<String> = pair.parameter_names();
    assert_eq!(
        names,
        [
            "encoder.0.weight",
            "encoder.0.bias",
            "decoder.weight",
            "decoder.bias"
        ]
    );
    assert_eq!(pair.num_parameters(), 4 * 3 + 3 + 3 * 4 + 4);
    assert_eq!(pair.latent, 3);
    assert_eq!(
        pair.forward(&Var::constant(Tensor::zeros(&[2, 4]))).shape(),
        &[2, 4]
    );
}

#[test]
fn training_mode_reaches_flags_and_buffers_are_listed() {
    let mut rng = Rng::new(1);
    let mut m = WithState {
        layers: vec![
            Dense::new(2, 2, &mut rng),
            Dense::without_bias(2, 1, &mut rng),
        ],
        stats: Buffer::new(Tensor::ones(&[2])),
        noise: RngCell::new(5),
        training: true,
        inner: None,
    };
    m.eval();
    assert!(!m.training);
    m.train();
    assert!(m.training);
    let names: Vec<String> = m.parameter_names();
    assert_eq!(
        names,
        ["layers.0.weight", "layers.0.bias", "layers.1.weight"]
    );
    let buffers = m.named_buffers();
    assert_eq!(buffers.len(), 1);
    assert_eq!(buffers[0].0, "stats");
    m.noise.with(|r| r.next_u64());
}

#[test]
fn activations_match_their_formulas() {
    let x = Var::constant(Tensor::from_vec(vec![-2.0, 0.5], &[1, 2]));
    let v = |m: &dyn Module| m.forward(&x).value().to_vec();
    assert_eq!(v(&Relu), vec![0.0, 0.5]);
    assert_eq!(v(&LeakyRelu { slope: 0.1 }), vec![-0.2, 0.5]);
    assert_eq!(v(&Identity), vec![-2.0, 0.5]);
    assert_eq!(v(&Tanh), vec![(-2f32).tanh(), 0.5f32.tanh()]);
    assert!((v(&Sigmoid)[1] - 1.0 / (1.0 + (-0.5f32).exp())).abs() < 1e-7);
    // GELU(0.5) = 0.5·Φ(0.5) = 0.5·0.691462…
    assert!((v(&Gelu)[1] - 0.345_731_3).abs() < 1e-6);
    let soft = v(&Softmax::default());
    assert!((soft[0] + soft[1] - 1.0).abs() < 1e-6 && soft[1] > soft[0]);
    let log_soft = v(&LogSoftmax::default());
    assert!((log_soft[1] - soft[1].ln()).abs() < 1e-6);
    let image = Var::constant(Tensor::zeros(&[3, 2, 4, 5]));
    assert_eq!(Flatten.forward(&image).shape(), &[3, 40]);
}

#[test]
fn heads_give_distributions_and_labels() {
    let mut rng = Rng::new(2);
    let x = Var::constant(Tensor::rand_normal(&[5, 3], 0.0, 1.0, &mut rng));
    let multi = MultiClassHead::new(3, 4, &mut rng);
    let p = multi.probabilities(&x);
    assert_eq!(p.shape(), &[5, 4]);
    for row in p.to_vec().chunks(4) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    assert_eq!(multi.predict(&x), p.argmax(-1, false));

    let binary = MultiLabelHead::binary(3, &mut rng);
    let p = binary.probabilities(&x);
    assert_eq!(p.shape(), &[5, 1]);
    assert_eq!(binary.predict(&x), p.gt(&Tensor::scalar(0.5)));

    let labels = MultiLabelHead::new(3, 2, &mut rng);
    let probs = labels.probabilities(&x);
    assert!(probs.to_vec().iter().all(|&q| (0.0..=1.0).contains(&q)));
    let loss = labels.loss(&labels.forward(&x), &Tensor::ones(&[5, 2]));
    assert!(loss.item() > 0.0);
}

#[test]
fn initialisers_have_the_documented_spread() {
    let mut rng = Rng::new(3);
    let shape = [256, 128];
    let spread = |init: Init, rng: &mut Rng| {
        let t = init.tensor(&shape, rng);
        let v = t.to_vec();
        let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32).sqrt();
        (max, std)
    };
    // Uniform(−b, b) has std b/√3.
    let bound = 1.0 / 128f32.sqrt();
    let (max, std) = spread(Init::PytorchDefault, &mut rng);
    assert!(max <= bound && (std - bound / 3f32.sqrt()).abs() < 0.02 * bound);
    let xavier = (6.0f32 / (128.0 + 256.0)).sqrt();
    let (max, _) = spread(Init::XavierUniform { gain: 1.0 }, &mut rng);
    assert!(max <= xavier && max > 0.99 * xavier);
    let (_, std) = spread(Init::KaimingNormal { gain: 2f32.sqrt() }, &mut rng);
    assert!((std - (2.0f32 / 128.0).sqrt()).abs() < 0.01);
    let (max, _) = spread(Init::Constant(0.0), &mut rng);
    assert_eq!(max, 0.0);
    // Same seed, same tensor.
    assert_eq!(
        Init::PytorchDefault.tensor(&[3, 3], &mut Rng::new(9)),
        Init::PytorchDefault.tensor(&[3, 3], &mut Rng::new(9))
    );
}
