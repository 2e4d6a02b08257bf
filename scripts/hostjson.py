"""Writes one function app's host.json: the top-level host.json (what every app shares) merged with the app's
overlay, handlers/<app>/host.app.json (what only that app sets). Usage: hostjson.py <base> <overlay> <out>.

Objects merge key by key; any other value in the overlay is added where the base has none. An overlay value
where the base already has one is refused, not overridden: each setting is stated in exactly one file, so a
shared setting cannot silently differ between apps. The result must name the executable and a function
timeout, the two things every app states for itself.
"""

import json
import sys

REQUIRED = (
    ("customHandler", "description", "defaultExecutablePath"),
    ("functionTimeout",),
)


class MergeError(Exception):
    pass


def merge(base: dict, overlay: dict, overlay_name: str, base_name: str, path: tuple = ()) -> dict:
    out = dict(base)
    for key, value in overlay.items():
        here = path + (key,)
        dotted = ".".join(here)
        if key not in base:
            out[key] = value
        elif isinstance(base[key], dict) and isinstance(value, dict):
            out[key] = merge(base[key], value, overlay_name, base_name, here)
        else:
            raise MergeError(
                f"{overlay_name} sets {dotted}, which {base_name} already sets: state it in one place "
                f"(remove it from {overlay_name} if every app shares it, else move it out of {base_name} "
                f"into every app's host.app.json)"
            )
    return out


def load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except OSError as e:
        raise MergeError(f"cannot read {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise MergeError(f"{path} is not valid JSON ({e}); host.json allows no comments") from e
    if not isinstance(value, dict):
        raise MergeError(f"{path} must hold a JSON object")
    return value


def main(base_path: str, overlay_path: str, out_path: str) -> None:
    merged = merge(load(base_path), load(overlay_path), overlay_path, base_path)
    for path in REQUIRED:
        node = merged
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, str) or not node:
            raise MergeError(f"{overlay_path} must set {'.'.join(path)} (a non-empty string) for its app")
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(merged, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: hostjson.py <base host.json> <handlers/<app>/host.app.json> <out host.json>", file=sys.stderr)
        sys.exit(2)
    try:
        main(*sys.argv[1:])
    except MergeError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
