"""How much of each labelled case logscan reads: events and kind, at its place and alone.

For every case of a ``cases.tsv`` set (see ``../shared/corpus/README.md``) this prints the
events read with the file at its ``place-in-bundle``, the events and detected kind when the
same bytes are given alone as ``case.txt`` and on stdin, and the file's line count. It is the
reading half of the accuracy bench: a case read as nothing can never be diagnosed.

Usage::

    python bench/corpus_input.py ../shared/corpus [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import logscan  # noqa: E402


def _cases(corpus: Path) -> list[tuple[str, str]]:
    out = []
    for line in (corpus / "cases.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        file, place = line.split("\t")[:2]
        out.append((file, place))
    return out


def _read(path: Path) -> tuple[int, str]:
    try:
        b = logscan.load(path)
    except Exception as exc:  # the bench reports, it does not stop
        return -1, f"error: {type(exc).__name__}"
    files = b.coverage.get("files") or []
    kinds = ",".join(sorted({f.get("kind") or "?" for f in files})) or ",".join(b.coverage.get("sources", {})) or "-"
    return b.events.height, kinds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for file, place in _cases(args.corpus):
            src = args.corpus / file
            bundle = Path(tmp) / "b"
            shutil.rmtree(bundle, ignore_errors=True)
            (bundle / place).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, bundle / place)
            n_place, k_place = _read(bundle)
            single = Path(tmp) / "case.txt"
            shutil.copyfile(src, single)
            n_single, k_single = _read(single)
            lines = len(src.read_text(encoding="utf-8", errors="replace").splitlines())
            rows.append({"file": file, "place": place, "lines": lines, "events_place": n_place, "kind_place": k_place,
                         "events_single": n_single, "kind_single": k_single})
            print(f"{file[:58]:58} {lines:4} {n_place:4} {k_place[:28]:28} {n_single:4} {k_single[:28]}")
    zero = sum(1 for r in rows if r["events_place"] <= 0)
    zero_s = sum(1 for r in rows if r["events_single"] <= 0)
    print(f"cases {len(rows)}; 0 events at place: {zero}; 0 events as case.txt: {zero_s}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
