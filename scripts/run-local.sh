#!/usr/bin/env bash
# The product's main job on its embedded defaults: the Azure Backup emulator, an embedded SQLite store, and the
# real intake, tracker and drill binaries, fed the sample requests in examples/requests, then one drill plan
# (see docs/restorectl.md, `local`).
# Run from anywhere: `bash scripts/run-local.sh [restorectl local options]`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build --release --locked -p restore-intake -p restore-tracker -p restore-drills-app -p restorectl
exec "$root/target/release/restorectl" local --root "$root" "$@"
