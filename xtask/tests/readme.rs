//! The workspace README shows the code of `examples/readme_mlp.rs` verbatim, so the code a
//! newcomer copies is the code every `cargo test` compiles.

#[test]
fn readme_shows_the_compiled_example() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(manifest.join("../README.md")).expect("README.md");
    let example = include_str!("../examples/readme_mlp.rs");
    let code = &example[example.find("use ").expect("the example's first `use`")..];
    let block = format!("```rust\n{code}```");
    assert!(
        readme.contains(&block),
        "README.md should contain the code of xtask/examples/readme_mlp.rs from its first `use` \
         line, in a ```rust block:\n{block}"
    );
}
