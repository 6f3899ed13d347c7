"""Ingest speed of ``logscan timeline`` as a ratio against ``grep -c ERROR`` (issue 2).

Absolute MB/s depend on the machine, so the number that matters is the ratio against a
baseline measured in the same command on the same files: what a person would run first,
``grep -c ERROR`` on the plain files and ``zgrep -c ERROR`` on the gzipped ones. Target:
logscan within 4x of that grep.

Measured, best of ``--repeat`` runs each:

* grep/zgrep over the bundle's log files (one shell, like a person would type it);
* ``logscan timeline BUNDLE --format parquet --output ...`` as a subprocess, end to end
  (interpreter start, imports, read, parse, order, redact, Parquet write);
* ``logscan.load()`` in this process, and the same work split into stages (read+gunzip,
  decode, parse per source, facts, concat, order, redaction, coverage) so the slow stage is
  visible, plus the steps inside the waagent.log parser for its biggest file.

Results go to ``bench/out/`` (gitignored) as JSON, and a table to stdout::

    python bench/gen_bundle.py /tmp/bigbundle --mb 200
    python bench/bench_timeline.py /tmp/bigbundle
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

import logscan  # noqa: E402
from logscan.errors import IngestError  # noqa: E402
from logscan.frames import EVENT_SCHEMA, FACT_SCHEMA, concat  # noqa: E402
from logscan.io import redact  # noqa: E402
from logscan.io.bundle import Bundle  # noqa: E402
from logscan.sources import ingest, reading  # noqa: E402

MANIFEST = "bench-manifest.json"


def log_files(bundle: Path) -> list[tuple[Path, int]]:
    """The bundle's log files and their uncompressed sizes (from the generator's manifest)."""
    man = bundle / MANIFEST
    if man.exists():
        return [(bundle / f["path"], int(f["bytes"])) for f in json.loads(man.read_text())["files"]]
    out = []
    for p in sorted(bundle.rglob("*")):
        if p.is_file() and (".log" in p.name):
            size = len(gzip.decompress(p.read_bytes())) if p.suffix == ".gz" else p.stat().st_size
            out.append((p, size))
    return out


def _cpu() -> float:
    """CPU seconds of this process and its finished children (all threads)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def best_of(n: int, fn: Callable[[], object]) -> tuple[float, float, list[float]]:
    """Best wall time of ``n`` runs, the CPU time of that run, and all wall times.

    CPU time is reported too because a shared machine makes wall time noisy; a ratio of CPU
    times says how much work each side does, a ratio of wall times what a person waits.
    """
    runs = []
    for _ in range(n):
        c, t = _cpu(), time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t, _cpu() - c))
    wall, cpu = min(runs)
    return wall, cpu, [w for w, _ in runs]


def grep_cmd(files: list[Path]) -> str:
    plain = [shlex.quote(str(p)) for p in files if p.suffix != ".gz"]
    gz = [shlex.quote(str(p)) for p in files if p.suffix == ".gz"]
    parts = []
    if plain:
        parts.append("grep -c ERROR " + " ".join(plain))
    if gz:
        parts.append("zgrep -c ERROR " + " ".join(gz))
    # grep exits 1 when a file has no match; that is not a failure here.
    return "; ".join(parts) + "; true"


def run_grep(files: list[Path]) -> None:
    subprocess.run(["bash", "-c", grep_cmd(files)], check=True, stdout=subprocess.DEVNULL)


def run_cli(bundle: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "logscan", "timeline", str(bundle), "--format", "parquet", "--output", str(out)]
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def staged_load(bundle: Path) -> tuple[dict[str, float], dict[str, float], int]:
    """``ingest.load`` done step by step with a clock around each step.

    Mirrors the loop in :func:`logscan.sources.ingest.load` (same helpers, same order), so the sum is
    close to the real call; the real call is timed separately and reported next to it.
    """
    st: dict[str, float] = defaultdict(float)
    per_source: dict[str, float] = defaultdict(float)
    events, facts = [], []

    def clock(key: str, fn: Callable[[], object], bucket: dict[str, float] = st):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        bucket[key] += time.perf_counter() - t
        bucket[key + " [cpu]"] += time.process_time() - c
        return out

    files_per_source: Counter[str] = Counter()
    with Bundle.open(bundle) as b:
        for member in b.members():
            read = clock("read+gunzip+decode+paste", lambda m=member: reading.prepare(b, m))
            for job in read.jobs:
                spec, src = job.spec, job.src
                files_per_source[spec.name] += 1
                clock("decode", lambda s=src: s.decoded)
                try:
                    parsed = clock(spec.name, lambda s=src, sp=spec: sp.parse(s), per_source)
                except IngestError:
                    continue
                if parsed.events is not None and parsed.events.height:
                    events.append(parsed.events)
                if parsed.facts is not None and parsed.facts.height:
                    facts.append(parsed.facts)
    ev = clock("concat", lambda: concat(events, EVENT_SCHEMA))
    n = ev.height
    ev = clock("order", lambda: ingest._order(ev))
    ev = clock("redact events", lambda: redact.events(ev))
    clock("redact facts", lambda: redact.facts(concat(facts, FACT_SCHEMA)))
    clock("coverage", lambda: ingest.coverage(files_per_source, ev, ingest.detect_platform(files_per_source), []))
    st["parse (all sources)"] = sum(v for k, v in per_source.items() if not k.endswith("[cpu]"))
    st["parse (all sources) [cpu]"] = sum(v for k, v in per_source.items() if k.endswith("[cpu]"))
    return dict(st), dict(per_source), n


def waagent_steps(files: list[tuple[Path, int]]) -> dict[str, float]:
    """Inside the waagent.log parser, on the biggest plain waagent file."""
    try:
        from logscan.sources import base
        from logscan.sources import waagent_log as wl
    except ImportError:
        return {}
    plain = [(p, n) for p, n in files if p.name.startswith("waagent.log") and p.suffix != ".gz"]
    if not plain:
        return {}
    path = max(plain, key=lambda x: x[1])[0]
    st: dict[str, float] = {}
    t = time.perf_counter()
    text = base.decode(path.read_bytes()).text
    st["decode"] = time.perf_counter() - t
    t = time.perf_counter()
    lines = base.lines_frame(text)
    st["lines_frame"] = time.perf_counter() - t
    if hasattr(base, "lines_of"):  # issue 13: polars splits the bytes
        t = time.perf_counter()
        base.lines_of(base.SourceFile(path.name, path.name, path.read_bytes()))
        st["lines_of (pl.read_lines on the bytes, incl. read)"] = time.perf_counter() - t
        t = time.perf_counter()
        wl.parse_agent_log(lines, fast=False)
        st["parse_agent_log(fast=False) (HEADER on every line)"] = time.perf_counter() - t
    t = time.perf_counter()
    wl.parse_agent_log(lines)
    st["parse_agent_log (header regexes)"] = time.perf_counter() - t
    t = time.perf_counter()
    rec = wl.records(text)
    st["records() total (lines+headers+build_records+Event:)"] = time.perf_counter() - t
    st["records() minus headers = build_records+Event:"] = st["records() total (lines+headers+build_records+Event:)"] - st["lines_frame"] - st["parse_agent_log (header regexes)"]
    src = base.SourceFile(path.name, path.name, b"")
    t = time.perf_counter()
    ev = base.finish_events(rec, "waagent_log", src)
    st["finish_events"] = time.perf_counter() - t
    if hasattr(wl, "facts_from_events"):
        t = time.perf_counter()
        wl.facts_from_events(ev)
        st["facts_from_events"] = time.perf_counter() - t
    st["_file"] = str(path.name)  # type: ignore[assignment]
    st["_mb"] = path.stat().st_size / 1e6
    return st


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--repeat", type=int, default=3, help="runs of grep and of the CLI; the best counts")
    ap.add_argument("--label", default="", help="tag stored with the results (e.g. before/after)")
    ap.add_argument("--no-cli", action="store_true", help="skip the subprocess runs")
    ap.add_argument("--no-stages", action="store_true", help="skip the in-process stage breakdown")
    a = ap.parse_args(argv)

    files = log_files(a.bundle)
    total = sum(n for _, n in files)
    mb = total / 1e6
    res: dict = {
        "label": a.label,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "polars": pl.__version__, "cpus": os.cpu_count()},
        "bundle": str(a.bundle),
        "files": len(files),
        "gz_files": sum(p.suffix == ".gz" for p, _ in files),
        "mb": round(mb, 1),
        "grep_cmd": "grep -c ERROR <plain files>; zgrep -c ERROR <.gz files>",
    }
    res["load_avg_before"] = os.getloadavg()[0]
    g, g_cpu, g_all = best_of(a.repeat, lambda: run_grep([p for p, _ in files]))
    res.update(grep_s=g, grep_cpu_s=g_cpu, grep_runs=g_all, grep_mb_s=mb / g)
    if not a.no_cli:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "timeline.parquet"
            c, c_cpu, c_all = best_of(a.repeat, lambda: run_cli(a.bundle, out))
            res["cli_rows"] = pl.scan_parquet(out).select(pl.len()).collect().item()
        res.update(cli_s=c, cli_cpu_s=c_cpu, cli_runs=c_all, cli_mb_s=mb / c)
        res["ratio_cli_vs_grep"] = c / g
        res["ratio_cli_vs_grep_cpu"] = c_cpu / g_cpu
    box: dict = {}
    w, cpu, _ = best_of(1, lambda: box.update(b=logscan.load(a.bundle)))
    res.update(load_s=w, load_cpu_s=cpu, load_events=box.pop("b").events.height, load_mb_s=mb / w)
    res["ratio_load_vs_grep"] = w / g
    res["ratio_load_vs_grep_cpu"] = cpu / g_cpu
    if not a.no_stages:
        res["stages"], res["parse_per_source"], _ = staged_load(a.bundle)
        res["waagent_steps"] = waagent_steps(files)

    outdir = HERE / "out"
    outdir.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"bench_timeline-{stamp}{'-' + a.label if a.label else ''}.json"
    (outdir / name).write_text(json.dumps(res, indent=1))
    (outdir / "bench_timeline-latest.json").write_text(json.dumps(res, indent=1))
    print_table(res)
    print(f"\nwritten: {outdir / name}")
    return 0


def print_table(r: dict) -> None:
    print(f"bundle {r['bundle']}: {r['files']} log files ({r['gz_files']} gzipped), {r['mb']:.1f} MB uncompressed")
    print(f"load average before: {r['load_avg_before']:.1f} on {r['machine']['cpus']} CPUs (wall times are noisy when it is high)")
    print(f"{'what':<44}{'wall s':>8}{'MB/s':>8}{'x grep':>8}{'cpu s':>8}{'x grep':>8}")
    print(f"{'grep -c ERROR / zgrep -c ERROR':<44}{r['grep_s']:>8.2f}{r['grep_mb_s']:>8.1f}{1.0:>8.2f}{r['grep_cpu_s']:>8.2f}{1.0:>8.2f}")
    if "cli_s" in r:
        print(
            f"{'logscan timeline --format parquet (CLI)':<44}{r['cli_s']:>8.2f}{r['cli_mb_s']:>8.1f}"
            f"{r['ratio_cli_vs_grep']:>8.2f}{r['cli_cpu_s']:>8.2f}{r['ratio_cli_vs_grep_cpu']:>8.2f}"
        )
    print(
        f"{'logscan.load() in process':<44}{r['load_s']:>8.2f}{r['load_mb_s']:>8.1f}"
        f"{r['ratio_load_vs_grep']:>8.2f}{r['load_cpu_s']:>8.2f}{r['ratio_load_vs_grep_cpu']:>8.2f}"
    )
    if "stages" in r:
        print(f"\nstages of load() (in process, one run){'wall s':>14}{'cpu s':>8}")
        st = r["stages"]
        for k, v in st.items():
            if not k.endswith(" [cpu]"):
                print(f"  {k:<44}{v:>8.2f}{st.get(k + ' [cpu]', float('nan')):>8.2f}")
        ps = r["parse_per_source"]
        for k, v in sorted(ps.items(), key=lambda kv: -kv[1]):
            if not k.endswith(" [cpu]"):
                print(f"    parse {k:<38}{v:>8.2f}{ps.get(k + ' [cpu]', float('nan')):>8.2f}")
    steps = r.get("waagent_steps") or {}
    if steps:
        print(f"\nwaagent.log parser steps on {steps['_file']} ({steps['_mb']:.1f} MB):")
        for k, v in steps.items():
            if not k.startswith("_"):
                print(f"  {k:<56}{v:>7.2f}")


if __name__ == "__main__":
    sys.exit(main())
