#!/usr/bin/env bash
# The benchmark command (DESIGN §7): builds the release binaries the benchmark drives, then runs it.
# Extra arguments go to restore-bench (e.g. --json, --operations 2000, --scale 10); see `restore-bench --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p restore-bench -p restore-intake -p restore-tracker
exec target/release/restore-bench "$@"
