#!/usr/bin/env bash
# Builds the deployable zip of each function app: out/package/<app>.zip (and the unpacked out/package/<app>/).
#
#   bash scripts/package.sh            # both apps (intake, tracker)
#   bash scripts/package.sh intake     # one app (azd's prepackage hook passes the service name)
#
# Each zip's root is the app root the Functions host expects: host.json, one folder per function holding its
# function.json (copied from handlers/<app>/app/), and the handler binary at the path host.json's
# customHandler.description.defaultExecutablePath names, with its execute bit set in the zip.
#
# The binary is a statically linked Linux x86-64 executable, so it runs on any Functions Linux image whatever
# its glibc. Default: the glibc target with +crt-static (always installed with the host toolchain). Where the
# musl target is installed (`rustup target add x86_64-unknown-linux-musl`) PACKAGE_TARGET=x86_64-unknown-linux-musl
# gives the same result with musl. Building with an explicit --target keeps these artifacts (and RUSTFLAGS) out of
# the target/release and target/debug directories that tests and other builds use.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

target="${PACKAGE_TARGET:-x86_64-unknown-linux-gnu}"
out="$root/out/package"
all_apps=(intake tracker)
apps=("$@")
[ ${#apps[@]} -eq 0 ] && apps=("${all_apps[@]}")

for app in "${apps[@]}"; do
  case "$app" in
    intake | tracker) ;;
    *) echo "error: unknown app '$app' (expected: ${all_apps[*]})" >&2; exit 2 ;;
  esac
done

# One build for both binaries (shared dependencies compile once).
echo "==> cargo build --release --target $target (static)"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --release --locked --target "$target" -p restore-intake -p restore-tracker

mkdir -p "$out"
for app in "${apps[@]}"; do
  src="$root/handlers/$app/app"
  bin="$root/target/$target/release/$app"
  dest="$out/$app"
  [ -f "$src/host.json" ] || { echo "error: $src/host.json is missing" >&2; exit 1; }
  [ -x "$bin" ] || { echo "error: $bin was not built" >&2; exit 1; }

  # The host runs the file host.json names; read it instead of assuming it equals the app name.
  exe="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["customHandler"]["description"]["defaultExecutablePath"])' "$src/host.json")"
  case "$exe" in
    "" | /* | *..*) echo "error: $src/host.json: defaultExecutablePath '$exe' must be a relative path inside the app" >&2; exit 1 ;;
  esac

  # A dynamically linked binary would depend on the Functions image's glibc: refuse it.
  if command -v file >/dev/null 2>&1; then
    info="$(file -b "$bin")"
    case "$info" in
      *"statically linked"* | *"static-pie linked"*) ;;
      *) echo "error: $bin is not statically linked: $info" >&2; exit 1 ;;
    esac
  elif ldd "$bin" >/dev/null 2>&1; then
    echo "error: $bin is dynamically linked (ldd lists libraries)" >&2; exit 1
  fi

  rm -rf "$dest" "$out/$app.zip"
  mkdir -p "$dest"
  cp -R "$src/." "$dest/"
  mkdir -p "$(dirname "$dest/$exe")"
  cp "$bin" "$dest/$exe"
  chmod 0755 "$dest/$exe"

  python3 "$root/scripts/zipdir.py" "$dest" "$out/$app.zip"
  size="$(wc -c <"$dest/$exe" | tr -d ' ')"
  echo "==> $out/$app.zip (binary $exe: $size bytes)"
done
