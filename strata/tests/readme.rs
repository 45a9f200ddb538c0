//! The workspace README shows the code of `examples/readme_mlp.rs` verbatim, so the code a
//! newcomer copies is the code every `cargo test` compiles; and its section "Use Strata in your
//! project" is followed to the letter by a project of its own, outside the workspace, which
//! must build and train.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the facade crate sits in the workspace")
        .to_path_buf()
}

fn readme() -> String {
    std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md")
}

/// The example's code from its first `use` line.
fn example_code() -> &'static str {
    let example = include_str!("../examples/readme_mlp.rs");
    &example[example.find("use ").expect("the example's first `use`")..]
}

#[test]
fn readme_shows_the_compiled_example() {
    let block = format!("```rust\n{}```", example_code());
    assert!(
        readme().contains(&block),
        "README.md should contain the code of strata/examples/readme_mlp.rs from its first `use` \
         line, in a ```rust block:\n{block}"
    );
}

/// The first ```toml block of the README's section `heading`.
fn toml_block(readme: &str, heading: &str) -> String {
    let section = &readme[readme
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no section {heading:?}"))..];
    let start = section
        .find("```toml\n")
        .expect("a ```toml block in the section")
        + 8;
    let end = start
        + section[start..]
            .find("```")
            .expect("the end of the ```toml block");
    section[start..end].to_string()
}

#[test]
fn a_project_set_up_as_the_readme_says_builds_and_trains() {
    let root = workspace_root();
    let manifest = toml_block(&readme(), "## Use Strata in your project");
    let git_line = "strata = { git = \"https://github.com/strata-rs/strata\" }";
    assert!(
        manifest.contains(git_line),
        "the usage section should give the dependency line `{git_line}`:\n{manifest}"
    );
    // The README's local-checkout form, pointing at this checkout (no network here).
    let path_line = format!("strata = {{ path = {:?} }}", root.join("strata"));
    let manifest = manifest.replace(git_line, &path_line);

    let project = root.join("target/use-strata-project");
    std::fs::create_dir_all(project.join("src")).expect("project folder");
    std::fs::write(
        project.join("Cargo.toml"),
        format!(
            "[package]\nname = \"use-strata\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             {manifest}\n# Its own workspace, not a member of Strata's.\n[workspace]\n"
        ),
    )
    .expect("Cargo.toml");
    std::fs::write(project.join("src/main.rs"), example_code()).expect("main.rs");
    // The same dependency versions as the workspace, so the build needs no network.
    std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock")).expect("Cargo.lock");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // A debug build, as a user's `cargo run`: the profile lines make it train quickly.
    let output = Command::new(cargo)
        .args(["run", "--offline", "--quiet"])
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", project.join("target"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the project failed to build or run:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let accuracy: f64 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("test accuracy: "))
        .and_then(|rest| rest.trim_end_matches('%').parse().ok())
        .unwrap_or_else(|| panic!("no `test accuracy: X%` line in:\n{stdout}"));
    assert!(accuracy >= 90.0, "test accuracy {accuracy}% < 90%");
    let checkpoint = project.join("target/examples/readme_mlp/digits-mlp.ckpt");
    assert!(
        checkpoint.is_file(),
        "{} was not written",
        checkpoint.display()
    );
}
