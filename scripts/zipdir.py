"""Zips a directory so that Unix permissions survive: zipdir.py <dir> <zip>.

Each entry's external attributes carry its Unix mode (mode << 16), so the handler binary keeps its execute bit
when the Functions host (Linux) unpacks or mounts the package. Entries are sorted and dated 1980-01-01, so the
same input gives a byte-identical zip.
"""

import os
import stat
import sys
import zipfile


def main(src: str, dest: str) -> None:
    files = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for name in filenames:
            files.append(os.path.join(dirpath, name))
    files.sort()
    tmp = dest + ".tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            mode = stat.S_IMODE(os.stat(path).st_mode)
            # Normalise: executables 0755, everything else 0644.
            mode = 0o755 if mode & 0o111 else 0o644
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3  # Unix, so readers honour the mode bits
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                zf.writestr(info, f.read())
    os.replace(tmp, dest)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: zipdir.py <dir> <zip>")
    main(sys.argv[1], sys.argv[2])
