"""Diagnosis accuracy on a labelled set: top-1, top-3 and healthy cases kept clean.

Two labelled sets are understood:

* ``samples/`` (default): the lab bundles and their ``EXPECTED.toml`` (``top_cause``), each
  scanned with and without its own ``error_code``;
* a ``cases.tsv`` folder such as ``../shared/corpus/`` (see its README): each case file is
  placed at its ``place-in-bundle`` in an otherwise empty bundle folder and scanned.

A faulty case counts for top-3 when any expected cause is among the first three findings, and
for top-1 when the first finding is an expected cause. ``healthy`` cases count as clean when no
finding is ``confirmed`` or ``likely`` (``possible`` leads are allowed). ``other`` (a real fault
no cause id names) counts as clean-or-anything: it is reported, not scored.

Usage::

    python bench/accuracy.py                       # samples/
    python bench/accuracy.py ../shared/corpus      # a cases.tsv set
    python bench/accuracy.py ../shared/corpus --json out.json --min-top3 0.9
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import logscan  # noqa: E402

STRONG = {"confirmed", "likely"}


@dataclass
class Case:
    name: str
    expected: list[str]
    path: Path
    error_code: str | None = None
    ranked: list[tuple[str, str]] = field(default_factory=list)  # (cause, confidence)

    @property
    def healthy(self) -> bool:
        return self.expected == ["healthy"] or (self.expected[:1] == ["healthy"])

    @property
    def faults(self) -> list[str]:
        return [c for c in self.expected if c not in ("healthy", "other")]

    @property
    def scored(self) -> bool:
        return bool(self.faults) and not self.healthy

    def top(self, n: int) -> bool:
        return any(c in self.faults for c, _ in self.ranked[:n])

    @property
    def clean(self) -> bool:
        return not any(conf in STRONG for _, conf in self.ranked)


def _ranked(path: Path, error_code: str | None) -> list[tuple[str, str]]:
    report = logscan.scan(str(path), error_code=error_code)
    vm = report.as_dict()
    return [
        (f["cause"], f.get("confidence", "likely"))
        for f in vm["findings"]
        if f.get("status", "evidence") == "evidence"
    ]


def sample_cases(samples: Path) -> list[Case]:
    expected = tomllib.loads((samples / "EXPECTED.toml").read_text())
    cases = []
    for name, spec in expected.items():
        top = spec["top_cause"]
        exp = ["healthy"] if top == "none" else [top]
        cases.append(Case(name, exp, samples / name))
        if spec.get("error_code"):
            cases.append(Case(f"{name} --error-code", exp, samples / name, spec["error_code"]))
    return cases


def corpus_cases(folder: Path, work: Path) -> list[Case]:
    cases = []
    for raw in (folder / "cases.tsv").read_text().splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        file, place, _wrap, expected = raw.split("\t")[:4]
        bundle = work / Path(file).stem
        target = bundle / place
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / file, target)
        cases.append(Case(file, [c.strip() for c in expected.split(",")], bundle))
    return cases


def run(cases: list[Case]) -> dict:
    for case in cases:
        case.ranked = _ranked(case.path, case.error_code)
    faulty = [c for c in cases if c.scored]
    healthy = [c for c in cases if c.healthy]
    return {
        "cases": len(cases),
        "faulty": len(faulty),
        "top1": sum(c.top(1) for c in faulty),
        "top3": sum(c.top(3) for c in faulty),
        "healthy": len(healthy),
        "healthy_clean": sum(c.clean for c in healthy),
        "per_case": [
            {
                "case": c.name,
                "expected": c.expected,
                "got": [f"{cause}:{conf}" for cause, conf in c.ranked[:3]],
                "top1": c.top(1) if c.scored else None,
                "top3": c.top(3) if c.scored else None,
                "clean": c.clean if c.healthy else None,
            }
            for c in cases
        ],
    }


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.0f} %" if d else "0/0"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set", nargs="?", default=str(ROOT / "samples"), help="samples/ or a cases.tsv folder")
    ap.add_argument("--json", help="write the per-case results here")
    ap.add_argument("--quiet", action="store_true", help="totals only")
    ap.add_argument("--min-top1", type=float, default=0.0, help="exit 1 below this top-1 rate")
    ap.add_argument("--min-top3", type=float, default=0.0, help="exit 1 below this top-3 rate")
    ap.add_argument("--require-clean", action="store_true", help="exit 1 if a healthy case is not clean")
    args = ap.parse_args(argv)
    folder = Path(args.set)
    with tempfile.TemporaryDirectory(prefix="logscan-acc-") as tmp:
        if (folder / "cases.tsv").exists():
            cases = corpus_cases(folder, Path(tmp))
        elif (folder / "EXPECTED.toml").exists():
            cases = sample_cases(folder)
        else:
            print(f"{folder}: neither cases.tsv nor EXPECTED.toml", file=sys.stderr)
            return 2
        result = run(cases)
    if not args.quiet:
        for row in result["per_case"]:
            mark = {True: "ok ", False: "MISS", None: "   "}[row["top3"] if row["top3"] is not None else row["clean"]]
            t1 = "1" if row["top1"] else " "
            print(f"{mark} {t1} {row['case']:<70} expected {','.join(row['expected']):<45} got {', '.join(row['got']) or '-'}")
    print(
        f"{folder}: {result['cases']} cases; faulty top-1 {_pct(result['top1'], result['faulty'])}, "
        f"top-3 {_pct(result['top3'], result['faulty'])}; healthy clean {_pct(result['healthy_clean'], result['healthy'])}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    rc = 0
    if result["faulty"] and result["top1"] / result["faulty"] < args.min_top1:
        rc = 1
    if result["faulty"] and result["top3"] / result["faulty"] < args.min_top3:
        rc = 1
    if args.require_clean and result["healthy_clean"] < result["healthy"]:
        rc = 1
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
