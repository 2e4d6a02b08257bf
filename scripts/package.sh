#!/usr/bin/env bash
# Builds the deployable zip of each function app: out/package/<app>.zip (and the unpacked out/package/<app>/).
#
#   bash scripts/package.sh            # every app (each handlers/<app>/ holding a host.app.json)
#   bash scripts/package.sh intake     # one app (azd's prepackage hook passes the service name)
#
# Each zip's root is the app root the Functions host expects: host.json, one folder per function holding its
# function.json (copied from handlers/<app>/app/), and the handler binary at the path host.json's
# customHandler.description.defaultExecutablePath names, with its execute bit set in the zip.
#
# host.json is written here, never kept per app: the top-level host.json holds what every app shares (extension
# bundle, logging, Service Bus client retry) and handlers/<app>/host.app.json what only that app sets (executable,
# function timeout, Service Bus concurrency); scripts/hostjson.py merges them and refuses a setting stated in both.
# An app joins by adding handlers/<app>/{host.app.json,app/} and a binary named as its defaultExecutablePath.
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
target_dir="${CARGO_TARGET_DIR:-$root/target}"
out="$root/out/package"
base="$root/host.json"
[ -f "$base" ] || { echo "error: $base (the settings every app shares) is missing" >&2; exit 1; }

# The apps are the handler folders with an overlay; nothing here names them, so a new app needs no edit.
all_apps=()
for overlay in "$root"/handlers/*/host.app.json; do
  [ -f "$overlay" ] && all_apps+=("$(basename "$(dirname "$overlay")")")
done
[ ${#all_apps[@]} -gt 0 ] || { echo "error: no handlers/<app>/host.app.json found" >&2; exit 1; }
apps=("$@")
[ ${#apps[@]} -eq 0 ] && apps=("${all_apps[@]}")

# Each app's host.json first: a bad overlay fails in a second, before the release build.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bins=()
for app in "${apps[@]}"; do
  case " ${all_apps[*]} " in
    *" $app "*) ;;
    *) echo "error: unknown app '$app' (expected one of: ${all_apps[*]}; an app needs handlers/$app/host.app.json)" >&2; exit 2 ;;
  esac
  [ -d "$root/handlers/$app/app" ] || { echo "error: handlers/$app/app (its function folders) is missing" >&2; exit 1; }
  python3 "$root/scripts/hostjson.py" "$base" "$root/handlers/$app/host.app.json" "$work/$app.host.json"
  # The host runs the file host.json names; read it instead of assuming it equals the app name.
  exe="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["customHandler"]["description"]["defaultExecutablePath"])' "$work/$app.host.json")"
  case "$exe" in
    "" | /* | *..* | */*) echo "error: handlers/$app/host.app.json: defaultExecutablePath '$exe' must be the name of a workspace binary (no directories)" >&2; exit 1 ;;
  esac
  bins+=(--bin "$exe")
done

# One build for every binary (shared dependencies compile once).
echo "==> cargo build --release --target $target (static) ${bins[*]}"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --release --locked --target "$target" "${bins[@]}"

mkdir -p "$out"
for app in "${apps[@]}"; do
  src="$root/handlers/$app/app"
  host="$work/$app.host.json"
  exe="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["customHandler"]["description"]["defaultExecutablePath"])' "$host")"
  bin="$target_dir/$target/release/$exe"
  dest="$out/$app"
  [ -x "$bin" ] || { echo "error: $bin was not built" >&2; exit 1; }
  [ ! -e "$src/host.json" ] || { echo "error: $src/host.json must not exist: host.json is generated from host.json + handlers/$app/host.app.json" >&2; exit 1; }

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
  cp "$host" "$dest/host.json"
  mkdir -p "$(dirname "$dest/$exe")"
  cp "$bin" "$dest/$exe"
  chmod 0755 "$dest/$exe"

  python3 "$root/scripts/zipdir.py" "$dest" "$out/$app.zip"
  size="$(wc -c <"$dest/$exe" | tr -d ' ')"
  echo "==> $out/$app.zip (binary $exe: $size bytes)"
done
