#!/usr/bin/env bash
# The product's main job on its embedded defaults. Today: the Azure Backup emulator with the example scenario
# (the intake/tracker local run replaces this once they exist). Run from anywhere: `bash scripts/run-local.sh`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
exec cargo run --release --locked -p backup-emulator -- serve --scenario examples/scenario.json "$@"
