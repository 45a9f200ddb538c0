//! Multi-rank tests: this one program is both the launcher, which `cargo test` runs and which
//! starts `mpirun` jobs of itself (each under a timeout), and the rank program those jobs run
//! (`--worker SCENARIO`). MPI initialises once per process, so ranks cannot be threads of the
//! test harness. Needs the `mpi` feature; without it the program only says it was skipped.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[cfg(feature = "mpi")]
mod launcher;
#[cfg(feature = "mpi")]
mod netns;
#[cfg(feature = "mpi")]
#[path = "../support/mod.rs"]
mod support;
#[cfg(feature = "mpi")]
mod worker;

#[cfg(feature = "mpi")]
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((first, rest)) if first == worker::FLAG => worker::run(rest),
        _ => launcher::run_all(&args),
    }
}

#[cfg(not(feature = "mpi"))]
fn main() {
    eprintln!(
        "SKIPPED: the multi-rank MPI tests of strata-distributed need MPI and `--features mpi` \
         (see distributed/README.md: cargo test -p strata-distributed --release --features mpi)"
    );
}
