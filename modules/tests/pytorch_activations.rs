//! SiLU, Mish, both GELUs, element-wise `pow` and `Embedding`'s `padding_idx` against
//! PyTorch: float64 outputs and gradients computed by PyTorch from the same float32 inputs
//! (`fixtures/make_activation_fixture.py` writes `fixtures/activations.safetensors`).

#[path = "common/pytorch_fixture.rs"]
mod pytorch_fixture;

use pytorch_fixture::{assert_matches_pytorch as assert_matches, Fixture};
use strata_modules::{Embedding, Gelu, GeluTanh, Mish, Module, Silu, Var};
use strata_tensor::Rng;

#[test]
fn activations_match_pytorch_values_and_gradients() {
    let fixture = Fixture::read("activations.safetensors");
    let (x, weights) = (fixture.get("x"), fixture.get("weights"));
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
        assert_matches(name, out.value(), &fixture.get(&format!("{name}.out")));
        let grad = grads.get(&input).unwrap();
        assert_matches(name, grad, &fixture.get(&format!("{name}.grad")));
    }
}

#[test]
fn pow_of_two_tensors_matches_pytorch_with_zero_bases_and_exponents() {
    let fixture = Fixture::read("activations.safetensors");
    let base = Var::leaf(fixture.get("pow.base"));
    let exponent = Var::leaf(fixture.get("pow.exponent"));
    let out = base.pow(&exponent);
    let grads = out.sum().backward().unwrap();
    assert_matches("pow", out.value(), &fixture.get("pow.out"));
    let grad_base = grads.get(&base).unwrap();
    assert_matches("pow base", grad_base, &fixture.get("pow.grad_base"));
    let grad_exponent = grads.get(&exponent).unwrap();
    assert_matches(
        "pow exponent",
        grad_exponent,
        &fixture.get("pow.grad_exponent"),
    );
}

#[test]
fn a_padding_id_gets_no_gradient_as_in_pytorch() {
    let fixture = Fixture::read("activations.safetensors");
    let mut embedding = Embedding::new(6, 3, &mut Rng::new(0)).with_padding_idx(1);
    embedding.weight.set_value(fixture.get("embedding.weight"));
    let out = embedding.forward(&Var::constant(fixture.get("embedding.ids")));
    let upstream = Var::constant(fixture.get("embedding.upstream"));
    let grads = out.mul(&upstream).sum().backward().unwrap();
    let grad = grads.get(&embedding.weight).unwrap();
    assert_matches("embedding grad", grad, &fixture.get("embedding.grad"));
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
