#!/usr/bin/env bash
# The crate README's scaling benchmark in one command: builds the MPI runner and the
# benchmark (release), then runs every configuration --rounds times and prints markdown
# tables (see distributed/examples/scaling.rs). Options go to the benchmark:
#   --rounds N (3)  --epochs N (3)  --data-dir DIR (/work/shared/data/mnist)
#   --link-rate RATE (1gbit)  --no-link (skip the two throttled hosts; they need root)
# Run it on an idle machine: every other process shows in the figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
# --workspace keeps the features of CI's MPI build, so its artefacts are reused.
cargo build --release --workspace --features strata-distributed/mpi \
    --bin strata-mpi-train --example scaling
exec target/release/examples/scaling "$@"
