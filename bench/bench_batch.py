"""Fleet throughput, memory and accuracy of ``logscan batch`` (issue 5).

Absolute speeds depend on the machine, so the numbers that matter are ratios:

* **scaling**: bundles/s with ``--jobs 2`` over ``--jobs 1`` on the same fleet;
* **memory flatness**: peak RSS of the whole process tree (the CLI plus every worker,
  summed at each poll) for 1,000 bundles over 100 bundles; it must stay within 1.5x,
  because a bundle's events are dropped once its rows are written;
* **accuracy**: the share of VMs whose known fault (``truth.json`` from
  ``bench/gen_fleet.py``) is the rank-1 cause in ``vms.parquet``; target >= 95 %. Faults that
  miss are listed per fault so the missing signatures can be written.

Each run is ``python -m logscan batch FLEET --out DIR --jobs N`` as a subprocess, end to end
(interpreter start, worker spawn, scan, Parquet parts, merge, summary), timed on the wall
clock, with ``psutil`` polling the tree every 50 ms. Results go to ``bench/out/batch.json``
and a table to stdout::

    python bench/bench_batch.py                    # generates /tmp/logscan-fleet-{100,1000}
    python bench/bench_batch.py --small 50 --large 300 --keep
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_fleet import generate  # noqa: E402


def tree_rss(proc: psutil.Process) -> int:
    """RSS of a process and all its descendants, summed."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def run_batch_cli(fleet: Path, out: Path, jobs: int) -> dict:
    """Run the CLI once; wall time and peak tree RSS."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "logscan", "batch", str(fleet / "bundles"), "--out", str(out), "--jobs", str(jobs)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=HERE.parent)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(ps))
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"logscan batch failed ({proc.returncode}):\n{err[-3000:]}")
    return {"jobs": jobs, "seconds": wall, "peak_rss": peak}


def accuracy(fleet: Path, out: Path) -> dict:
    truth = json.loads((fleet / "truth.json").read_text())
    vms = pl.read_parquet(out / "vms.parquet").select("vm", "status", "top_cause")
    t = pl.DataFrame({"vm": list(truth), "expected": list(truth.values())})
    df = t.join(vms, on="vm", how="left").with_columns(hit=pl.col("top_cause") == pl.col("expected"))
    per = (
        df.group_by("expected")
        .agg(
            vms=pl.len(),
            rank1=pl.col("hit").fill_null(False).sum(),
            got=pl.col("top_cause").fill_null("(none)").mode().first(),
        )
        .sort("expected")
    )
    return {
        "vms": df.height,
        "rank1": int(df["hit"].fill_null(False).sum()),
        "share": float(df["hit"].fill_null(False).mean()),
        "failed_to_scan": int((df["status"] != "ok").sum()),
        "per_fault": per.to_dicts(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=100, help="bundles in the small fleet (throughput, RSS)")
    ap.add_argument("--large", type=int, default=1000, help="bundles in the large fleet (RSS)")
    ap.add_argument("--lines", type=int, default=1500, help="background records per waagent.log")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "logscan-bench-batch")
    ap.add_argument("--keep", action="store_true", help="keep the generated fleets")
    a = ap.parse_args()

    a.work.mkdir(parents=True, exist_ok=True)
    fleets = {}
    for n in (a.small, a.large):
        f = a.work / f"fleet-{n}"
        if not (f / "truth.json").exists() or json.loads((f / "manifest.json").read_text()).get("lines") != a.lines:
            shutil.rmtree(f, ignore_errors=True)
            generate(f, n, lines=a.lines)
        fleets[n] = f

    small = fleets[a.small]
    manifest = json.loads((small / "manifest.json").read_text())
    disk = sum(p.stat().st_size for p in (small / "bundles").rglob("*") if p.is_file())
    raw = manifest["uncompressed_bytes"]
    runs = {}
    for jobs in (1, 2):
        r = run_batch_cli(small, a.work / f"out-{a.small}-j{jobs}", jobs)
        r["bundles_per_s"] = a.small / r["seconds"]
        r["disk_mb_per_s"] = disk / r["seconds"] / 1e6
        r["raw_mb_per_s"] = raw / r["seconds"] / 1e6
        runs[jobs] = r
    big = run_batch_cli(fleets[a.large], a.work / f"out-{a.large}-j2", 2)
    acc = accuracy(fleets[a.large], a.work / f"out-{a.large}-j2")

    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "fleet": {"small": a.small, "large": a.large, "disk_bytes_small": disk, "raw_bytes_small": raw},
        "throughput": runs,
        "scaling_2_over_1": runs[2]["bundles_per_s"] / runs[1]["bundles_per_s"],
        "peak_rss": {"small": runs[2]["peak_rss"], "large": big["peak_rss"], "ratio_large_over_small": big["peak_rss"] / runs[2]["peak_rss"]},
        "large_run_seconds": big["seconds"],
        "accuracy": acc,
    }
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "batch.json").write_text(json.dumps(result, indent=2))

    print(f"fleet: {a.small} bundles, {disk / 1e6:.1f} MB on disk, {raw / 1e6:.1f} MB uncompressed; cpus={os.cpu_count()}")
    for jobs, r in runs.items():
        print(
            f"  --jobs {jobs}: {r['seconds']:.1f} s, {r['bundles_per_s']:.2f} bundles/s, "
            f"{r['disk_mb_per_s']:.2f} MB/s on disk, {r['raw_mb_per_s']:.2f} MB/s uncompressed, peak RSS {r['peak_rss'] / 2**20:.0f} MiB"
        )
    print(f"  scaling jobs 2 / jobs 1: {result['scaling_2_over_1']:.2f}x")
    pr = result["peak_rss"]
    print(
        f"peak RSS (process tree, --jobs 2): {a.small} bundles {pr['small'] / 2**20:.0f} MiB, "
        f"{a.large} bundles {pr['large'] / 2**20:.0f} MiB, ratio {pr['ratio_large_over_small']:.2f}x (target <= 1.5x); "
        f"large run {big['seconds']:.1f} s"
    )
    print(f"accuracy ({a.large} VMs): known fault ranked first for {acc['rank1']}/{acc['vms']} = {acc['share']:.1%} (target >= 95 %)")
    for row in acc["per_fault"]:
        mark = "ok " if row["rank1"] == row["vms"] else "MISS"
        print(f"  {mark} {row['expected']:<30} {row['rank1']:>4}/{row['vms']:<4} most common top cause: {row['got']}")
    if not a.keep:
        for n in (a.small, a.large):
            for jobs in (1, 2):
                shutil.rmtree(a.work / f"out-{n}-j{jobs}", ignore_errors=True)


if __name__ == "__main__":
    main()
