//! Mutation fuzzing of every reader of outside bytes: IDX, CIFAR-10 and CSV files (raw and
//! gzip), checkpoints (with the checksum recomputed, so mutations reach the decoder),
//! optimizer states, `Trainer::resume_from` and safetensors import. Each input is a valid
//! file with one to four seeded mutations; what passes a reader goes on to be used (loaded
//! into a model, stepped), so a state that only fails later is caught too.
//!
//! Every input must end in `Ok` or in an error that says what was expected and what was
//! found: zero panics, zero aborts. Each target runs in a child process (this test binary, re-run with `STRATA_FUZZ_TARGET`) whose address
//! space is capped with `ulimit -v` by `sh`: an allocation a hostile length field asks for
//! beyond the cap fails, and Rust aborts the child on a failed allocation, which the parent
//! sees and reports with the case to rerun. (A capped global allocator would catch the same
//! in-process, but an abort takes the whole test binary down with it; a child keeps the
//! report.) The counts of `Ok`, errors, panics and aborts per target are printed (`cargo
//! test -p strata-modules --release --test hostile_inputs -- --nocapture`).

// The child reports to the parent on its standard output; the parent prints the tallies.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../common/mod.rs"]
mod common;
mod mutate;
mod targets;

use std::collections::BTreeMap;
use strata_tensor::{splitmix64, Rng};
use targets::{Seeds, Target};

/// Names the target a child process fuzzes.
const TARGET_VAR: &str = "STRATA_FUZZ_TARGET";
/// Runs only this case of the target (to reproduce a failure).
const CASE_VAR: &str = "STRATA_FUZZ_CASE";
/// Seed of the cases: case `i` of target `t` mutates with
/// `Rng::new(splitmix64(splitmix64(SEED, t), i))`.
const SEED: u64 = 15;
/// Address space of a child, in KiB: 1 GiB, some 20 times what the largest seed needs
/// (the test binary, its threads' stacks and the allocator's reservations included), so
/// that only an allocation driven by a hostile length field can reach it.
const ADDRESS_SPACE_KIB: u64 = 1 << 20;

/// Characters of an error message kept in the tally.
const MESSAGE_CHARS: usize = 110;

/// What became of the inputs of one target.
#[derive(Debug, Default)]
struct Tally {
    inputs: usize,
    ok: usize,
    errors: usize,
    panics: usize,
    /// Kinds of error message (see [`error_kind`]), and how often each came up.
    messages: BTreeMap<String, usize>,
}

/// The kind of an error: its message up to what was found, every run of digits replaced by
/// `#`, so that errors of one kind count together.
fn error_kind(message: &str) -> String {
    let kind = message.split(", found").next().unwrap_or(message);
    let kind: String = kind.chars().take(MESSAGE_CHARS).collect();
    let mut folded = String::new();
    for c in kind.chars() {
        if c.is_ascii_digit() {
            if !folded.ends_with('#') {
                folded.push('#');
            }
        } else {
            folded.push(c);
        }
    }
    folded
}

/// Whether an error message says what was expected and what was found. Strata's messages do
/// in one of a few phrasings: "expected … found …", "… needs N elements, found M", "`x` is
/// missing from …" and "the checkpoint holds no …" (found none), "…, which the model lacks"
/// (found one more), "… in the model but … in the state dict", "version N is not supported (this
/// build reads version M)".
fn names_expected_and_found(message: &str) -> bool {
    const PHRASES: [&str; 6] = [
        "found",
        "is missing from",
        "the checkpoint holds no",
        "which the model lacks",
        " but ",
        "this build reads version",
    ];
    PHRASES.iter().any(|phrase| message.contains(phrase))
}

/// The child: runs every case of the target named in `STRATA_FUZZ_TARGET` and prints a line
/// per case before running it (so an abort names its case), then the tally.
#[test]
#[ignore = "run by every_reader_refuses_mutated_files_without_panics_or_aborts"]
fn fuzz_child() {
    let Some(name) = std::env::var_os(TARGET_VAR) else {
        return;
    };
    let target = *Target::ALL
        .iter()
        .find(|t| t.name() == name)
        .expect("a known target");
    let only: Option<usize> = std::env::var(CASE_VAR).ok().and_then(|c| c.parse().ok());
    let seeds = Seeds::new();
    let mut tally = Tally::default();
    for case in (0..target.inputs()).filter(|&c| only.is_none_or(|o| o == c)) {
        println!("CASE {case}");
        let mut rng = Rng::new(splitmix64(splitmix64(SEED, target as u64), case as u64));
        tally.inputs += 1;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            targets::run(target, &seeds, &mut rng)
        })) {
            Ok(Ok(())) => tally.ok += 1,
            Ok(Err(message)) => {
                tally.errors += 1;
                *tally.messages.entry(error_kind(&message)).or_default() += 1;
                if !names_expected_and_found(&message) {
                    println!("VAGUE {case} {message}");
                }
            }
            Err(_) => {
                tally.panics += 1;
                println!("PANIC {case}");
            }
        }
    }
    for (message, count) in &tally.messages {
        println!("ERROR {count} {message}");
    }
    println!(
        "TALLY {} {} {} {}",
        tally.inputs, tally.ok, tally.errors, tally.panics
    );
}

/// Runs the child for `target` under the address-space cap; returns its tally, or a
/// description of how it died.
#[cfg(unix)]
fn run_child(target: Target) -> Result<Tally, String> {
    let exe = std::env::current_exe().expect("the test binary");
    let output = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\""),
        ])
        .arg(exe)
        .args([
            "--exact",
            "fuzz_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(TARGET_VAR, target.name())
        // One thread: the cap is not spent on thread pools.
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("start the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut tally = Tally::default();
    let mut last_case = None;
    let mut panicked = Vec::new();
    let mut vague = Vec::new();
    for line in stdout.lines() {
        if let Some(case) = line.strip_prefix("CASE ") {
            last_case = Some(case.to_string());
        } else if let Some(case) = line.strip_prefix("PANIC ") {
            panicked.push(case.to_string());
        } else if let Some(case_and_message) = line.strip_prefix("VAGUE ") {
            vague.push(case_and_message.to_string());
        } else if let Some(rest) = line.strip_prefix("ERROR ") {
            let (count, message) = rest.split_once(' ').expect("a count and a message");
            tally
                .messages
                .insert(message.to_string(), count.parse().expect("a count"));
        } else if let Some(rest) = line.strip_prefix("TALLY ") {
            let n: Vec<usize> = rest
                .split(' ')
                .map(|n| n.parse().expect("a count"))
                .collect();
            (tally.inputs, tally.ok, tally.errors, tally.panics) = (n[0], n[1], n[2], n[3]);
        }
    }
    let rerun = |case: &str| {
        format!(
            "rerun with {TARGET_VAR}={} {CASE_VAR}={case} cargo test -p strata-modules \
             --release --test hostile_inputs fuzz_child -- --ignored --nocapture",
            target.name()
        )
    };
    if !output.status.success() || tally.inputs == 0 {
        return Err(format!(
            "{}: the child died ({}) during case {}; {}\n{}",
            target.name(),
            output.status,
            last_case.as_deref().unwrap_or("none"),
            rerun(last_case.as_deref().unwrap_or("0")),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    if let Some(case) = panicked.first() {
        return Err(format!(
            "{}: {} panics, the first at case {case}; {}\n{}",
            target.name(),
            panicked.len(),
            rerun(case),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    if !vague.is_empty() {
        return Err(format!(
            "{}: {} errors do not say what was expected and found, e.g. case {}",
            target.name(),
            vague.len(),
            vague[0]
        ));
    }
    Ok(tally)
}

#[cfg(unix)]
#[test]
fn every_reader_refuses_mutated_files_without_panics_or_aborts() {
    let results: Vec<(Target, Result<Tally, String>)> = std::thread::scope(|s| {
        let children: Vec<_> = Target::ALL
            .iter()
            .map(|&target| (target, s.spawn(move || run_child(target))))
            .collect();
        children
            .into_iter()
            .map(|(target, child)| (target, child.join().expect("the child runner")))
            .collect()
    });
    let mut failures = Vec::new();
    for (target, result) in results {
        match result {
            Ok(tally) => {
                eprintln!(
                    "fuzz {:<16} {:>5} inputs: {:>5} Ok, {:>5} Err, {} panics, 0 aborts",
                    target.name(),
                    tally.inputs,
                    tally.ok,
                    tally.errors,
                    tally.panics
                );
                for (message, count) in &tally.messages {
                    eprintln!("    {count:>5} x {message}");
                }
                assert_eq!(tally.inputs, target.inputs());
                assert!(
                    tally.errors > 0 && tally.ok + tally.errors == tally.inputs,
                    "{}: the mutations must reach the errors",
                    target.name()
                );
            }
            Err(failure) => failures.push(failure),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
