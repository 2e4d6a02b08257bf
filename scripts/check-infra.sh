#!/usr/bin/env bash
# Static checks of infra/ (Bicep) with checkov, offline. Fails on any failed check (each accepted finding is
# suppressed inline with `//checkov:skip=CKV_...: reason`) and on any Bicep file checkov cannot parse: checkov
# itself exits 0 on parse errors and silently skips the file, so the count is read from its JSON report.
# scripts/test.sh installs checkov into .tools/checkov; run this after it (or with CHECKOV=/path/to/checkov).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
checkov="${CHECKOV:-$root/.tools/checkov/bin/checkov}"
report="$root/out/checkov.json"
mkdir -p "$root/out"
rm -f "$report"

# --skip-download: no calls to the vendor's platform (severities and guideline links need it; we treat every
# failed check as blocking instead).
status=0
"$checkov" -d infra --framework bicep --skip-download --quiet --compact \
  -o cli -o json --output-file-path "console,$report" || status=$?

python3 - "$report" "$status" <<'PY'
import json, sys
path, status = sys.argv[1], int(sys.argv[2])
data = json.load(open(path))
reports = data if isinstance(data, list) else [data]
parsing = sum(r["summary"].get("parsing_errors", 0) for r in reports)
failed = sum(r["summary"].get("failed", 0) for r in reports)
skipped = sum(r["summary"].get("skipped", 0) for r in reports)
resources = sum(r["summary"].get("resource_count", 0) for r in reports)
print(f"checkov: {resources} resources, {failed} failed, {skipped} suppressed inline, {parsing} parse errors")
# Every suppression must say why: `//checkov:skip=CKV_X: reason`.
import glob, re
for f in sorted(glob.glob("infra/**/*.bicep", recursive=True)):
    for n, line in enumerate(open(f), 1):
        m = re.search(r"checkov:skip=([A-Z0-9_]+)(.*)", line)
        if m and len(m.group(2).lstrip(": ").strip()) < 10:
            print(f"error: {f}:{n}: {m.group(1)} is suppressed without a reason", file=sys.stderr)
            sys.exit(1)
if parsing:
    print(f"error: checkov could not parse {parsing} Bicep file(s); run with LOG_LEVEL=DEBUG to see where", file=sys.stderr)
    sys.exit(1)
if failed or status != 0:
    sys.exit(1)
PY
