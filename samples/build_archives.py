"""Build the archive samples from their source folders, byte-for-byte reproducibly.

Each folder ``samples/_src/<name>.zip/`` or ``samples/_src/<name>.tar.gz/`` becomes the
archive ``samples/<name>.zip`` / ``samples/<name>.tar.gz``, laid out like
``waagent -collect-logs`` output: member names are the VM paths without the leading ``/``,
``results.txt`` at the root. A folder *inside* a source folder whose name ends in ``.zip``
(the agent's ``var/lib/waagent/history/<ts>__<incarnation>.zip``) is stored as a nested zip
of its files, with plain member names as the agent writes them.

Every timestamp, owner and permission is fixed and members are sorted, so running this again
gives identical bytes and a diff of the committed archives only shows real content changes::

    python samples/build_archives.py          # rebuild all
    python samples/build_archives.py --check  # exit 1 if a committed archive is stale
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "_src"
#: One fixed time for every member: archive bytes must not depend on when they were built.
FIXED = (2024, 6, 1, 0, 0, 0)
FIXED_EPOCH = 1717200000  # 2024-06-01T00:00:00Z


def _files(root: Path) -> list[tuple[str, bytes]]:
    """(member name, bytes) for everything under ``root``, sorted; ``*.zip`` folders nested."""
    out: list[tuple[str, bytes]] = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if any(part.endswith(".zip") for part in p.relative_to(root).parts[:-1]):
            continue  # inside a nested-zip folder: packed with that folder below
        if p.is_dir() and p.name.endswith(".zip"):
            out.append((rel, _zip_bytes(_files(p))))
        elif p.is_file():
            out.append((rel, p.read_bytes()))
    return sorted(out)


def _zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100644 & 0xFFFF) << 16
            info.create_system = 3  # unix, as the agent's Python zipfile writes on Linux
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buf.getvalue()


def _targz_bytes(members: list[tuple[str, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        dirs: set[str] = set()
        for name, _ in members:
            parts = name.split("/")[:-1]
            dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        entries = [(d, None) for d in sorted(dirs)] + list(members)
        for name, data in sorted(entries, key=lambda e: e[0]):
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = FIXED_EPOCH, 0, 0, "root", "root"
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o644
                tf.addfile(ti, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def build(src: Path = SRC, dest: Path = HERE) -> dict[str, bytes]:
    """The archive bytes for every source folder, by archive file name."""
    out: dict[str, bytes] = {}
    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        if folder.name.endswith(".zip"):
            out[folder.name] = _zip_bytes(_files(folder))
        elif folder.name.endswith(".tar.gz"):
            out[folder.name] = _targz_bytes(_files(folder))
        else:
            raise SystemExit(f"{folder}: source folders must be named <name>.zip or <name>.tar.gz")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only verify the committed archives are current")
    args = ap.parse_args(argv)
    stale = []
    for name, data in build().items():
        target = HERE / name
        if target.is_file() and target.read_bytes() == data:
            continue
        stale.append(name)
        if not args.check:
            target.write_bytes(data)
            print(f"wrote {target.relative_to(HERE.parent)} ({len(data)} bytes)")
    if args.check and stale:
        print("stale archives: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
