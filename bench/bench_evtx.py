"""EVTX throughput: logscan's parser into the event frame against bare iteration of evtx.

Run: ``python bench/bench_evtx.py [file.evtx ...]`` (default: the largest file in
../shared/evtx-samples). Prints records/s for

(a) bare ``for r in PyEvtxParser(path).records_json(): pass`` (the floor any consumer pays),
(b) ``logscan.sources.evtx.read_evtx`` to the full event frame (engine ``evtx``),
(c) python-evtx through the same interface, if installed, on the smallest sample with a
    time cap (it runs at a few hundred records/s),

and the ratio b/a (aim ≥ 0.5, issue 13). Each figure is the best of ``--repeat`` runs, so noise from
other processes on the machine inflates no number.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

from evtx import PyEvtxParser

from logscan.sources.evtx import read_evtx

SAMPLES = Path(__file__).resolve().parents[1] / ".." / "shared" / "evtx-samples"


def best(fn, repeat: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - t)
    return min(times), n


def bare(path: Path) -> int:
    n = 0
    for _ in PyEvtxParser(str(path)).records_json():
        n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--python-evtx-cap", type=float, default=30.0, help="seconds allowed for python-evtx")
    args = ap.parse_args()
    files = args.files or sorted(SAMPLES.glob("*.evtx"), key=lambda p: (-p.stat().st_size, p.name))[:1]
    if not files:
        raise SystemExit(f"no .evtx files given and none in {SAMPLES}")
    for path in files:
        data = path.read_bytes()
        read_evtx(data, "evtx")  # warm-up: imports, regex compilation
        ta, na = best(lambda p=path: bare(p), args.repeat)
        tb, nb = best(lambda d=data: read_evtx(d, "evtx")[0].height, args.repeat)
        print(f"{path.name}: {len(data):,} bytes, {na:,} records")
        print(f"  (a) evtx records_json, bare iteration : {na / ta:12,.0f} records/s  ({ta * 1000:.1f} ms)")
        print(f"  (b) logscan read_evtx -> event frame   : {nb / tb:12,.0f} records/s  ({tb * 1000:.1f} ms)")
        print(f"  ratio b/a = {ta / tb:.2f}  (records: a={na}, b={nb})")
    if importlib.util.find_spec("Evtx") is None:
        print("(c) python-evtx: not installed (pip install 'logscan[python-evtx]')")
        return
    small = min(SAMPLES.glob("*.evtx"), key=lambda p: (p.stat().st_size, p.name), default=None)
    if small is None:
        return
    data = small.read_bytes()
    t = time.perf_counter()
    events, errors = read_evtx(data, "python-evtx")
    dt = time.perf_counter() - t
    note = " (over the cap; not repeated)" if dt > args.python_evtx_cap else ""
    print(f"  (c) python-evtx via read_evtx on {small.name}: {events.height / dt:,.0f} records/s "
          f"({events.height} records, {len(errors)} errors, {dt:.2f} s){note}")
    tb, nb = best(lambda d=data: read_evtx(d, "evtx")[0].height, args.repeat)
    print(f"      evtx via read_evtx on the same file : {nb / tb:,.0f} records/s ({nb} records)")


if __name__ == "__main__":
    main()
