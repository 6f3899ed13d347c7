"""Issue 13's table: scan and timeline as ratios against zgrep, with peak RSS, in one run.

The baseline is the issue's: ``zgrep -c -E`` of eight words over the bundle's log files
(``zgrep`` reads plain files too). Each command is run ``--repeat`` times interleaved with the
baseline, and the medians are compared, so load from other processes hits both sides alike.
Peak RSS is the child's own ``ru_maxrss`` (``os.wait4``), not the harness's.

    python bench/gen_bundle.py /tmp/bench --mb 100
    python bench/bench_ratios.py /tmp/bench --scale 2 4   # RSS as the bundle grows (2x, 4x)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORDS = ("ERROR", "WARNING", "FIFREEZE", "timed out", "Exception", "VMSnapshot", "failed", "Traceback")
TARGETS = {"scan": 3.0, "timeline parquet": 2.5, "timeline json": 4.0}
RSS_TARGETS_MB = {"scan": 600, "timeline parquet": 1024, "timeline json": 1024}


def log_files(bundle: Path) -> list[Path]:
    man = bundle / "bench-manifest.json"
    if man.exists():
        return [bundle / f["path"] for f in json.loads(man.read_text())["files"]]
    return sorted(p for p in bundle.rglob("*") if p.is_file() and ".log" in p.name)


def run(cmd: list[str] | str, shell: bool = False, root: Path = ROOT) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one child process (CPU of its own
    children too: zgrep is a shell with gzip and grep under it)."""
    before = os.times()
    t = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    p = subprocess.Popen(cmd, shell=shell, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):  # scan exits 1 only with --fail-on
        raise SystemExit(f"failed ({p.returncode}): {cmd}\n{p.stderr.read().decode() if p.stderr else ''}")
    after = os.times()
    kids = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, usage.ru_maxrss / 1024, kids


def commands(bundle: Path, out: Path) -> dict[str, list[str]]:
    lg = [sys.executable, "-m", "logscan"]
    return {
        "scan": [*lg, "scan", str(bundle), "--format", "json"],
        "timeline parquet": [*lg, "timeline", str(bundle), "--format", "parquet", "--output", str(out / "t.parquet")],
        "timeline json": [*lg, "timeline", str(bundle), "--format", "json", "--output", str(out / "t.json")],
    }


def compile_tree(root: Path) -> None:
    """Byte-compile the tree's package first, as ``pip install`` does for an installed one.

    Without it a machine with ``PYTHONDONTWRITEBYTECODE`` set (this one is) recompiles every
    logscan module on every run: ~0.15 s of each command's time that no installed copy pays."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "logscan")], check=True, stdout=subprocess.DEVNULL)


def measure(bundle: Path, repeat: int, only: list[str] | None, root: Path = ROOT, against: Path | None = None) -> dict:
    """Medians of ``repeat`` rounds; each round runs the baseline, then every command (and,
    with ``against``, the same command from that tree right after it: an A/B in one run)."""
    for tree in (root, against):
        if tree is not None:
            compile_tree(tree)
    pattern = "|".join(WORDS)
    grep = f"zgrep -c -E {shlex.quote(pattern)} " + " ".join(shlex.quote(str(p)) for p in log_files(bundle)) + "; true"
    res: dict = {"bundle": str(bundle), "mb": round(sum(p.stat().st_size for p in log_files(bundle)) / 2**20, 1)}
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(bundle, Path(tmp))
        names = [n for n in cmds if not only or n in only]
        trees = {n: root for n in names}
        if against is not None:
            for n in list(names):
                trees[f"{n} [{against.name}]"] = against
                cmds[f"{n} [{against.name}]"] = cmds[n]
            names = [m for n in names for m in (n, f"{n} [{against.name}]")]
        g_runs: list[tuple[float, float, float]] = []
        c_runs: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
        for _ in range(repeat):
            g_runs.append(run(["bash", "-c", grep]))
            for n in names:
                c_runs[n].append(run(cmds[n], root=trees[n]))
    g = statistics.median(w for w, _, _ in g_runs)
    g_cpu = statistics.median(c for _, _, c in g_runs)
    res["zgrep_s"], res["zgrep_cpu_s"] = g, g_cpu
    for n in names:
        wall = statistics.median(w for w, _, _ in c_runs[n])
        cpu = statistics.median(c for _, _, c in c_runs[n])
        res[n] = {"s": wall, "ratio": wall / g, "cpu_s": cpu, "cpu_ratio": cpu / g_cpu, "rss_mb": max(r for _, r, _ in c_runs[n])}
    res["load_avg"] = os.getloadavg()[0]
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="commands to run: scan, 'timeline parquet', 'timeline json'")
    ap.add_argument("--label", default="")
    ap.add_argument("--root", type=Path, default=ROOT, help="logscan tree to run (e.g. `git worktree add /tmp/before main`)")
    ap.add_argument("--against", type=Path, help="also run this tree, interleaved with --root's runs (A/B in one command)")
    ap.add_argument("--scale", type=float, nargs="*", default=[],
                    help="also run on bundles this many times bigger (made by gen_bundle.py beside BUNDLE if absent): RSS growth")
    a = ap.parse_args(argv)
    r = measure(a.bundle, a.repeat, a.only, a.root.resolve(), a.against.resolve() if a.against else None)
    r["label"] = a.label
    print(f"bundle {r['bundle']} ({r['mb']} MiB on disk), zgrep -c -E <8 words>: {r['zgrep_s']:.3f} s wall, "
          f"{r['zgrep_cpu_s']:.3f} s CPU (medians of {a.repeat}); load average {r['load_avg']:.1f}")
    print(f"{'command':<30}{'s':>8}{'x zgrep':>9}{'cpu s':>8}{'x zgrep':>9}{'target':>8}{'RSS MiB':>9}{'target':>8}")
    for n in [m for t in TARGETS for m in r if m == t or m.startswith(t + " [")]:
        if n in r:
            x = r[n]
            t = n.split(" [")[0]
            print(f"{n:<30}{x['s']:>8.2f}{x['ratio']:>9.2f}{x['cpu_s']:>8.2f}{x['cpu_ratio']:>9.2f}{TARGETS[t]:>8.1f}"
                  f"{x['rss_mb']:>9.0f}{RSS_TARGETS_MB[t]:>8}")
    if a.scale:
        base_mb = json.loads((a.bundle / "bench-manifest.json").read_text())["mb"]
        rows = [(1.0, r)]
        for k in a.scale:
            big = a.bundle.with_name(f"{a.bundle.name}-x{k:g}")
            if not (big / "bench-manifest.json").exists():
                subprocess.run([sys.executable, str(HERE / "gen_bundle.py"), str(big), "--mb", str(base_mb * k)], check=True)
            rows.append((k, measure(big, 1, a.only, a.root.resolve())))
        r["scaled"] = {f"{k:g}": x for k, x in rows[1:]}
        names = [n for n in TARGETS if n in r]
        print("\npeak RSS MiB as the bundle grows (x zgrep wall in brackets)")
        print(f"{'bundle':<10}{'MiB':>8}" + "".join(f"{n:>22}" for n in names))
        for k, x in rows:
            print(f"{k:<10g}{x['mb']:>8}" + "".join(f"{x[n]['rss_mb']:>14.0f} ({x[n]['ratio']:>4.1f}x)" for n in names))
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / f"bench_ratios-{a.label or 'latest'}.json").write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
