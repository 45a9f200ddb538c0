//! PyTorch interop through safetensors: a state dict saved by PyTorch
//! (fixtures/make_interop_fixture.py) loads into the equivalent Strata model and gives
//! PyTorch's outputs; export → import round trips; every error path names the tensor.

use safetensors::{Dtype, View};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use strata_modules::io::interop::{
    load_safetensors, read_safetensors, save_safetensors, write_safetensors, InteropError,
};
use strata_modules::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Conv2dConfig, Dense, Dropout, Embedding, Flatten,
    GlobalAvgPool2d, LayerNorm, MaxPool2d, Module, NamedTensor, Params, Relu, Sequential, Var,
};
use strata_tensor::{Pool2dSpec, Rng, Tensor};

/// f32 outputs of the same computation in two libraries differ by summation order only;
/// the issue asks for agreement within 1e-5.
const OUTPUT_TOL: f32 = 1e-5;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The model of make_interop_fixture.py, field for field and index for index.
#[derive(Params)]
struct Fixture {
    features: Sequential,
    embedding: Embedding,
    head: Sequential,
}

impl Fixture {
    fn new(seed: u64) -> Self {
        let rng = &mut Rng::new(seed);
        let grouped = Conv2dConfig::new(3)
            .stride(2)
            .padding(1)
            .groups(2)
            .bias(false);
        Self {
            features: Sequential::new()
                .push(Conv2d::with_config(
                    2,
                    8,
                    Conv2dConfig::new(3).padding(1),
                    rng,
                ))
                .push(BatchNorm2d::new(8))
                .push(Relu)
                .push(MaxPool2d::with_spec(Pool2dSpec::new(3, 2, 1)))
                .push(Conv2d::with_config(8, 8, grouped, rng))
                .push(BatchNorm2d::new(8))
                .push(Relu)
                .push(AvgPool2d::with_spec(Pool2dSpec::new(2, 1, 1)))
                .push(Dropout::new(0.25, seed))
                .push(GlobalAvgPool2d)
                .push(Flatten),
            embedding: Embedding::new(5, 6, rng),
            head: Sequential::new()
                .push(Dense::new(8 + 6, 16, rng))
                .push(LayerNorm::new(&[16]))
                .push(Relu)
                .push(Dropout::new(0.5, seed + 1))
                .push(Dense::new(16, 4, rng))
                .push(BatchNorm1d::new(4)),
        }
    }

    fn forward(&self, image: &Tensor, ids: &Tensor) -> Var {
        let features = self.features.forward(&Var::constant(image.clone()));
        let embedded = self.embedding.try_lookup(ids).unwrap();
        self.head.forward(&Var::concat(&[&features, &embedded], 1))
    }
}

/// `image`, `ids` and PyTorch's `output` from the fixture.
fn fixture_io() -> (Tensor, Tensor, Tensor) {
    let io = read_safetensors(fixture("interop_io.safetensors")).unwrap();
    let get = |name: &str| {
        io.iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} in the io fixture"))
            .tensor
            .clone()
    };
    (get("image"), get("ids"), get("output"))
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.sub(b).abs().max().item()
}

/// Every parameter and buffer of a model, by name.
fn state(model: &dyn Params) -> Vec<(String, Tensor)> {
    let mut all: Vec<(String, Tensor)> = model
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, p.value().clone()))
        .collect();
    all.extend(model.named_buffers());
    all
}

#[test]
fn a_pytorch_state_dict_loads_and_gives_pytorchs_outputs() {
    let mut model = Fixture::new(0);
    load_safetensors(&mut model, fixture("interop_model.safetensors")).unwrap();
    model.eval();
    let (image, ids, expected) = fixture_io();
    let output = model.forward(&image, &ids);
    let diff = max_diff(output.value(), &expected);
    assert!(
        diff < OUTPUT_TOL,
        "Strata and PyTorch outputs differ by {diff}"
    );
    // The fixture's running statistics were trained away from their initial values, so the
    // agreement shows they are loaded and used.
    let running_var = &model.named_buffers()[1].1;
    assert!(running_var.sub(&Tensor::ones(&[8])).abs().max().item() > 0.01);
}

#[test]
fn names_match_the_pytorch_state_dict_except_the_batch_counter() {
    let bytes = std::fs::read(fixture("interop_model.safetensors")).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut pytorch: Vec<String> = file
        .names()
        .into_iter()
        .filter(|n| !n.ends_with("num_batches_tracked"))
        .map(str::to_string)
        .collect();
    let counters = file.names().len() - pytorch.len();
    assert_eq!(counters, 3, "three BatchNorm layers");
    let mut strata: Vec<String> = state(&Fixture::new(0))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    pytorch.sort();
    strata.sort();
    assert_eq!(strata, pytorch);
}

#[test]
fn export_then_import_round_trips_parameters_buffers_and_outputs() {
    let path = temp_file("roundtrip.safetensors");
    // The PyTorch-trained state (running statistics away from their initial values); the
    // file written here also loads into PyTorch (`make_interop_fixture.py --check-export`).
    let mut source = Fixture::new(1);
    load_safetensors(&mut source, fixture("interop_model.safetensors")).unwrap();
    let (image, ids, _) = fixture_io();
    save_safetensors(&source, &path).unwrap();
    let mut copy = Fixture::new(2);
    load_safetensors(&mut copy, &path).unwrap();
    let (a, b) = (state(&source), state(&copy));
    assert_eq!(a.len(), b.len());
    for ((name_a, value_a), (name_b, value_b)) in a.iter().zip(&b) {
        assert_eq!(name_a, name_b);
        assert_eq!(value_a, value_b, "{name_a}");
    }
    source.eval();
    copy.eval();
    assert_eq!(
        source.forward(&image, &ids).value(),
        copy.forward(&image, &ids).value()
    );
    // The file holds exactly the model's tensors, as F32.
    let written = read_safetensors(&path).unwrap();
    assert_eq!(written.len(), a.len());
}

/// A raw safetensors entry of any element type.
struct Raw {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Raw {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn write_raw(path: &Path, entries: &[(String, Raw)]) {
    let bytes = safetensors::serialize(entries.iter().map(|(n, r)| (n.as_str(), r)), None).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The state of a small model as raw entries of the given element type.
fn raw_state(model: &dyn Params, dtype: Dtype) -> Vec<(String, Raw)> {
    state(model)
        .into_iter()
        .map(|(name, t)| {
            let values = t.to_vec();
            let bytes = match dtype {
                Dtype::F64 => values
                    .iter()
                    .flat_map(|&v| (v as f64).to_le_bytes())
                    .collect(),
                Dtype::BF16 => values
                    .iter()
                    .flat_map(|&v| ((v.to_bits() >> 16) as u16).to_le_bytes())
                    .collect(),
                _ => values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
            };
            let raw = Raw {
                dtype,
                shape: t.shape().to_vec(),
                bytes,
            };
            (name, raw)
        })
        .collect()
}

fn small_model(seed: u64) -> Sequential {
    let mut rng = Rng::new(seed);
    Sequential::new()
        .push(Dense::new(3, 4, &mut rng))
        .push(Relu)
        .push(BatchNorm1d::new(4))
}

#[test]
fn f64_and_bf16_files_are_converted_to_f32() {
    let source = small_model(3);
    let path = temp_file("f64.safetensors");
    write_raw(&path, &raw_state(&source, Dtype::F64));
    let mut copy = small_model(4);
    load_safetensors(&mut copy, &path).unwrap();
    for ((_, a), (_, b)) in state(&source).iter().zip(state(&copy).iter()) {
        assert_eq!(a, b, "f32 → f64 → f32 is exact");
    }
    write_raw(&path, &raw_state(&source, Dtype::BF16));
    load_safetensors(&mut copy, &path).unwrap();
    for ((name, a), (_, b)) in state(&source).iter().zip(state(&copy).iter()) {
        // BF16 keeps 7 explicit mantissa bits: truncation errs by less than 2⁻⁷ relative.
        let bound = a.abs().mul_scalar(1.0 / 128.0);
        assert!(a.sub(b).abs().le(&bound).min().item() == 1.0, "{name}");
    }
}

/// Loads `path` into a fresh small model, expecting an error; checks the model is untouched.
fn load_error(path: &Path) -> InteropError {
    let mut model = small_model(5);
    let before = state(&model);
    let err = load_safetensors(&mut model, path).unwrap_err();
    assert_eq!(
        state(&model),
        before,
        "a failed load leaves the model untouched"
    );
    err
}

#[test]
fn load_errors_name_the_first_missing_unexpected_or_misshapen_tensor() {
    let model = small_model(6);
    let full: Vec<NamedTensor> = state(&model)
        .into_iter()
        .map(|(name, tensor)| NamedTensor { name, tensor })
        .collect();
    let path = temp_file("errors.safetensors");

    let without_bias: Vec<NamedTensor> = full
        .iter()
        .filter(|t| t.name != "0.bias")
        .cloned()
        .collect();
    write_safetensors(&without_bias, &path).unwrap();
    let err = load_error(&path);
    assert!(
        matches!(&err, InteropError::Missing { name } if name == "0.bias"),
        "{err}"
    );
    assert!(err.to_string().contains("`0.bias`"), "{err}");

    let mut extra = full.clone();
    extra.push(NamedTensor {
        name: "3.weight".into(),
        tensor: Tensor::zeros(&[2]),
    });
    write_safetensors(&extra, &path).unwrap();
    let err = load_error(&path);
    assert!(
        matches!(&err, InteropError::Unexpected { name } if name == "3.weight"),
        "{err}"
    );

    let mut misshapen = full.clone();
    misshapen[0].tensor = Tensor::zeros(&[3, 4]); // transposed Linear weight
    write_safetensors(&misshapen, &path).unwrap();
    let err = load_error(&path);
    match &err {
        InteropError::Shape {
            name,
            expected,
            found,
        } => assert_eq!(
            (name.as_str(), &expected[..], &found[..]),
            ("0.weight", &[4, 3][..], &[3, 4][..])
        ),
        other => panic!("expected a shape error, got {other}"),
    }
    assert!(err.to_string().contains("[4, 3]") && err.to_string().contains("[3, 4]"));
}

#[test]
fn integer_tensors_are_refused_with_their_type_except_the_batch_counter() {
    let model = small_model(7);
    let path = temp_file("dtype.safetensors");
    let mut entries = raw_state(&model, Dtype::F32);
    let weight = entries.iter_mut().find(|(n, _)| n == "2.weight").unwrap();
    weight.1 = Raw {
        dtype: Dtype::I32,
        shape: vec![4],
        bytes: [1i32, 2, 3, 4]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    };
    write_raw(&path, &entries);
    let err = load_error(&path);
    assert!(
        matches!(&err, InteropError::Dtype { name, found } if name == "2.weight" && found == "I32"),
        "{err}"
    );
    assert!(err.to_string().contains("I32"));

    // PyTorch's I64 `num_batches_tracked` beside a BatchNorm is accepted and skipped…
    let mut entries = raw_state(&model, Dtype::F32);
    let counter = |name: &str| {
        (
            name.to_string(),
            Raw {
                dtype: Dtype::I64,
                shape: vec![],
                bytes: 7i64.to_le_bytes().to_vec(),
            },
        )
    };
    entries.push(counter("2.num_batches_tracked"));
    write_raw(&path, &entries);
    let mut copy = small_model(8);
    load_safetensors(&mut copy, &path).unwrap();
    assert_eq!(state(&copy), state(&model));
    // …but not where the model has no BatchNorm.
    entries.push(counter("0.num_batches_tracked"));
    write_raw(&path, &entries);
    let err = load_error(&path);
    assert!(
        matches!(&err, InteropError::Unexpected { name } if name == "0.num_batches_tracked"),
        "{err}"
    );
    // Reading a PyTorch state dict as plain tensors names the counter's type.
    let err = read_safetensors(fixture("interop_model.safetensors")).unwrap_err();
    assert!(
        matches!(&err, InteropError::Dtype { name, found } if name.ends_with("num_batches_tracked") && found == "I64"),
        "{err}"
    );
}

#[test]
fn unreadable_files_are_errors_naming_the_file() {
    let missing = temp_file("does-not-exist.safetensors");
    let err = load_error(&missing);
    assert!(matches!(err, InteropError::Io { .. }), "{err}");
    assert!(err.to_string().contains("does-not-exist"));

    let garbage = temp_file("garbage.safetensors");
    std::fs::write(&garbage, b"definitely not a safetensors header").unwrap();
    let err = load_error(&garbage);
    assert!(matches!(err, InteropError::Format { .. }), "{err}");
    assert!(err.to_string().contains("garbage.safetensors"));
}

/// `load_state_dict` builds any layer from given weights under PyTorch's names: here an LSTM
/// (`weight_ih_l0`, …) checked by its output; a mis-shaped, missing or extra tensor is refused
/// with its name and leaves the layer as it was.
#[test]
fn any_layer_takes_given_weights_by_name_and_refuses_what_does_not_fit() {
    use strata_modules::io::interop::load_state_dict;
    use strata_modules::Lstm;
    let mut rng = Rng::new(3);
    let source = Lstm::new(3, 4, &mut rng);
    let state: Vec<NamedTensor> = source
        .named_parameters()
        .into_iter()
        .map(|(name, var)| NamedTensor::new(name, var.value().clone()))
        .collect();
    let names: Vec<&str> = state.iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"weight_ih_l0"), "{names:?}");

    let mut copy = Lstm::new(3, 4, &mut rng);
    let x = Var::constant(Tensor::rand_normal(&[2, 5, 3], 0.0, 1.0, &mut rng));
    assert_ne!(copy.forward(&x).value(), source.forward(&x).value());
    load_state_dict(&mut copy, &state).unwrap();
    assert_eq!(copy.forward(&x).value(), source.forward(&x).value());

    let mut target = Lstm::new(3, 4, &mut rng);
    let before = target.forward(&x).value().clone();
    let mut wrong_shape = state.clone();
    wrong_shape[0].tensor = Tensor::zeros(&[1, 1]);
    let err = load_state_dict(&mut target, &wrong_shape).unwrap_err();
    assert!(matches!(err, InteropError::Shape { .. }), "{err}");
    let mut missing = state.clone();
    let gone = missing.pop().unwrap().name;
    let err = load_state_dict(&mut target, &missing)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("`{gone}` of the model is missing")),
        "{err}"
    );
    let mut extra = state.clone();
    extra.push(NamedTensor::new("weight_ih_l1", Tensor::zeros(&[16, 4])));
    let err = load_state_dict(&mut target, &extra)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`weight_ih_l1`, which the model lacks"),
        "{err}"
    );
    assert_eq!(
        target.forward(&x).value(),
        &before,
        "a refused load changed the layer"
    );
}
