#!/usr/bin/env bash
# Fuzz every decoder a queue message or an Azure response reaches (tools/fuzz), EXECUTIONS inputs per target
# (default 1,000,000), on the stable toolchain. Extra arguments go to the harness (e.g. --target arm-id, --seed 7).
# Inputs that panic or hang are saved under target/fuzz-findings/ (relative to the checkout); the exit status is non-zero if there were any.
#   bash scripts/fuzz.sh            # the full run the README reports
#   bash scripts/fuzz.sh 100000     # a short budget, about a second per target (scripts/test.sh runs this)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

executions="${1:-1000000}"
shift || true

# The fuzz profile: optimised without fat LTO (quick to build), overflow checks and debug assertions on.
exec cargo run --quiet --profile fuzz --locked -p restore-fuzz -- "$executions" "$@"
