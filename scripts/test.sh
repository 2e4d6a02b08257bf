#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, checks formatting and lints, then runs
# every test with cargo-nextest (installs nextest, cargo-deny, checkov, Azurite and Debian's chromium). Run from anywhere: `bash scripts/test.sh`.
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
# Production code: no unwrap/expect (tests may: a failed unwrap is a failed test; the test-only crates allow it).
cargo clippy --workspace --lib --bins --locked -- \
  -D warnings -D clippy::unwrap_used -D clippy::expect_used
# restorectl without its default `local` feature is the build that links no test harness: keep it compiling.
cargo clippy -p restorectl --no-default-features --locked -- -D warnings

step "checkov (infra/ Bicep: no failed check, no unparsable file)"
checkov_version=3.3.30
if ! "$root/.tools/checkov/bin/checkov" --version 2>/dev/null | grep -qx "$checkov_version"; then
  python3 -m venv "$root/.tools/checkov"
  "$root/.tools/checkov/bin/pip" install --quiet --disable-pip-version-check "checkov==$checkov_version"
fi
bash scripts/check-infra.sh

step "azurite (the Blob state-store tests start it; pinned npm package in .tools/azurite)"
azurite_version=3.37.0
if ! grep -qs "\"version\": \"$azurite_version\"" "$root/.tools/azurite/node_modules/azurite/package.json"; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm is missing; the Blob state-store tests run Azurite (Node.js). Install Node.js and npm" >&2
    echo "       (e.g. apt-get install nodejs npm) and run this script again." >&2
    exit 1
  fi
  mkdir -p "$root/.tools/azurite"
  npm install --prefix "$root/.tools/azurite" --no-audit --no-fund --save-exact --loglevel=error "azurite@$azurite_version"
fi
"$root/.tools/azurite/node_modules/.bin/azurite-blob" --version

step "chromium (the drill report pages are tested in Debian's headless chromium)"
if ! command -v chromium >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: chromium is missing and apt-get is not available; install Chromium and put 'chromium' on PATH" >&2
    echo "       (or set RESTORE_CHROMIUM to its binary)." >&2
    exit 1
  fi
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
chromium --version

step "cargo deny (licences, bans, sources; advisories need the RustSec database from github.com, see README)"
if ! cargo deny --version 2>/dev/null | grep -q '^cargo-deny 0.20.2$'; then
  step "installing cargo-deny"
  cargo install cargo-deny@0.20.2 --locked
fi
cargo deny --locked check --hide-inclusion-graph licenses bans sources

step "fuzz: a short budget per target (scripts/fuzz.sh runs the full 1,000,000)"
bash scripts/fuzz.sh 100000

step "cargo build --bins (the end-to-end tests start the handler binaries as the Functions host does)"
cargo build --workspace --bins --locked

step "cargo nextest run"
cargo nextest run --workspace --locked --no-fail-fast "$@"
