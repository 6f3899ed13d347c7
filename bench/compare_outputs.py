"""Snapshot the JSON of every sample (and a batch over samples/) to compare two builds.

    python bench/compare_outputs.py snap OUT_DIR      # write one JSON per sample + batch summary
    python bench/compare_outputs.py diff A_DIR B_DIR  # list the samples whose JSON differs

Volatile keys (generation time, absolute paths, timings) are dropped so two runs of the same
build compare equal. Used to show a refactor changes no output except where stated.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VOLATILE = {"generated", "elapsed", "seconds", "duration_s", "started", "finished", "path", "peak_rss", "rss"}


def _clean(obj):
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def snap(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    samples = sorted(p for p in (ROOT / "samples").iterdir() if not p.name.startswith(("_", ".")) and p.name not in ("EXPECTED.toml", "build_archives.py"))
    for s in samples:
        r = subprocess.run([sys.executable, "-m", "logscan", "scan", str(s), "--format", "json"], capture_output=True, text=True)
        data = _clean(json.loads(r.stdout)) if r.stdout.strip().startswith("{") else {"stdout": r.stdout, "stderr": r.stderr[-2000:]}
        (out / f"{s.name}.json").write_text(json.dumps(data, indent=1, sort_keys=True))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "logscan", "batch", str(ROOT / "samples"), "--out", tmp, "--jobs", "2"], capture_output=True, text=True)
        summary = Path(tmp) / "summary.json"
        if summary.exists():
            (out / "_batch_summary.json").write_text(json.dumps(_clean(json.loads(summary.read_text())), indent=1, sort_keys=True))


def diff(a: Path, b: Path) -> int:
    names = sorted({p.name for p in a.glob("*.json")} | {p.name for p in b.glob("*.json")})
    changed = [n for n in names if not (a / n).exists() or not (b / n).exists() or (a / n).read_text() != (b / n).read_text()]
    for n in changed:
        print("differs:", n)
    print(f"{len(names) - len(changed)}/{len(names)} identical")
    return 1 if changed else 0


if __name__ == "__main__":
    if sys.argv[1] == "snap":
        snap(Path(sys.argv[2]))
    else:
        raise SystemExit(diff(Path(sys.argv[2]), Path(sys.argv[3])))
