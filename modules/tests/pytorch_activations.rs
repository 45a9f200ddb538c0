//! SiLU, Mish, both GELUs, element-wise `pow` and `Embedding`'s `padding_idx` against
//! PyTorch: float64 outputs and gradients computed by PyTorch from the same float32 inputs
//! (`fixtures/make_activation_fixture.py` writes `fixtures/activations.safetensors`).

use std::path::PathBuf;
use strata_modules::interop::read_safetensors;
use strata_modules::{Embedding, Gelu, GeluTanh, Mish, Module, NamedTensor, Silu, Var};
use strata_tensor::{Rng, Tensor};

fn fixture() -> Vec<NamedTensor> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/activations.safetensors");
    read_safetensors(path).expect("the activations fixture")
}

fn get(fixture: &[NamedTensor], name: &str) -> Tensor {
    fixture
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} in the activations fixture"))
        .tensor
        .clone()
}

/// Every element within `1e-5` relative (or `1e-6` absolute) of PyTorch's float64 value.
#[track_caller]
fn assert_matches(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (i, (&g, &w)) in got.to_vec().iter().zip(&want.to_vec()).enumerate() {
        assert!(
            (g - w).abs() <= 1e-6 + 1e-5 * w.abs(),
            "{what}[{i}]: Strata {g}, PyTorch {w}"
        );
    }
}

#[test]
fn activations_match_pytorch_values_and_gradients() {
    let fixture = fixture();
    let (x, weights) = (get(&fixture, "x"), get(&fixture, "weights"));
    let modules: [(&str, &dyn Module); 4] = [
        ("silu", &Silu),
        ("mish", &Mish),
        ("gelu", &Gelu),
        ("gelu_tanh", &GeluTanh),
    ];
    for (name, module) in modules {
        let input = Var::leaf(x.clone());
        let out = module.forward(&input);
        let grads = out
            .mul(&Var::constant(weights.clone()))
            .sum()
            .backward()
            .unwrap();
        assert_matches(name, out.value(), &get(&fixture, &format!("{name}.out")));
        let grad = grads.get(&input).unwrap();
        assert_matches(name, grad, &get(&fixture, &format!("{name}.grad")));
    }
}

#[test]
fn pow_of_two_tensors_matches_pytorch_with_zero_bases_and_exponents() {
    let fixture = fixture();
    let base = Var::leaf(get(&fixture, "pow.base"));
    let exponent = Var::leaf(get(&fixture, "pow.exponent"));
    let out = base.pow(&exponent);
    let grads = out.sum().backward().unwrap();
    assert_matches("pow", out.value(), &get(&fixture, "pow.out"));
    let grad_base = grads.get(&base).unwrap();
    assert_matches("pow base", grad_base, &get(&fixture, "pow.grad_base"));
    let grad_exponent = grads.get(&exponent).unwrap();
    assert_matches(
        "pow exponent",
        grad_exponent,
        &get(&fixture, "pow.grad_exponent"),
    );
}

#[test]
fn a_padding_id_gets_no_gradient_as_in_pytorch() {
    let fixture = fixture();
    let mut embedding = Embedding::new(6, 3, &mut Rng::new(0)).with_padding_idx(1);
    embedding
        .weight
        .set_value(get(&fixture, "embedding.weight"));
    let out = embedding.forward(&Var::constant(get(&fixture, "embedding.ids")));
    let upstream = Var::constant(get(&fixture, "embedding.upstream"));
    let grads = out.mul(&upstream).sum().backward().unwrap();
    let grad = grads.get(&embedding.weight).unwrap();
    assert_matches("embedding grad", grad, &get(&fixture, "embedding.grad"));
}

#[test]
fn the_padding_vector_starts_at_zero_and_the_others_are_kept() {
    let plain = Embedding::new(6, 3, &mut Rng::new(3));
    let padded = Embedding::new(6, 3, &mut Rng::new(3)).with_padding_idx(4);
    let rows = |e: &Embedding, r: usize| e.weight.value().narrow(0, r, 1).to_vec();
    assert_eq!(rows(&padded, 4), vec![0.0; 3]);
    for r in [0, 1, 2, 3, 5] {
        assert_eq!(rows(&padded, r), rows(&plain, r), "row {r}");
    }
}

#[test]
#[should_panic(expected = "id 6 is not a row of a table of 6")]
fn a_padding_id_outside_the_table_is_refused() {
    let _ = Embedding::new(6, 3, &mut Rng::new(0)).with_padding_idx(6);
}
