#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, checks formatting and lints, then runs
# every test with cargo-nextest. Run from anywhere: `bash scripts/test.sh`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

if [ ! -d ../shared/conformance ]; then
  echo "error: ../shared/conformance is missing; the conformance tests read Azure's published examples from" >&2
  echo "       the 'shared' folder beside this checkout ($(cd .. && pwd)/shared)." >&2
  exit 1
fi

step "toolchain"
cargo --version
if ! cargo nextest --version >/dev/null 2>&1; then
  step "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
cargo nextest --version | head -1

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo nextest run"
cargo nextest run --workspace --locked --no-fail-fast "$@"
