#!/usr/bin/env bash
# The benchmark command (DESIGN §7): builds the release binaries the benchmark drives, then runs it.
# Extra arguments go to restore-bench (e.g. --json, --operations 2000, --scale 10, --cpu-only); see
# `restore-bench --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The handlers alone first: built in one invocation with the bench, Cargo would unify reqwest's features with
# the emulator's and link AWS-LC into them too (unused, but it would be measured as binary size).
cargo build --release -p restore-intake -p restore-tracker
cargo build --release -p restore-bench
exec "${CARGO_TARGET_DIR:-target}/release/restore-bench" "$@"
