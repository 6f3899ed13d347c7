"""Speed of ``logscan scan`` as a ratio against a grep for the signatures' own words (issue 3).

The fair baseline for "find the known failure lines" is what a person would type with the
signature set in hand: one ``grep -c -E 'word1|word2|...'`` (``zgrep`` for .gz) over the same
log files, where the words are the literals the signatures key on. They are taken from the
compiled signatures, not typed by hand: the strings of ``contains``/``icontains``/
``startswith``/``endswith`` predicates and the literal prefixes of ``~`` regexes (each
top-level alternative, and each alternative of a leading group), skipping negated parts and
words shorter than 4 characters. Target: logscan within 5x of that grep.

Measured, best of ``--repeat`` runs each:

* the grep/zgrep command (one shell);
* ``logscan scan BUNDLE --format json`` as a subprocess, end to end (interpreter start,
  imports, read, parse, signatures, checks, diagnosis, JSON);
* in this process: ``logscan.load`` and ``signatures.evaluate`` separately, so the share of
  the signature pass (this issue's work) is visible next to ingest (issue 2's).

Results go to ``bench/out/bench_scan-latest.json`` (gitignored) and a table to stdout::

    python bench/gen_bundle.py /tmp/gb100 --mb 100
    python bench/bench_scan.py /tmp/gb100
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

import logscan  # noqa: E402
from logscan.rules.language import And, Count, Not, Or, Predicate, Regex, Sequence  # noqa: E402
from logscan.rules.signatures import Signature, evaluate, load_signatures  # noqa: E402

MANIFEST = "bench-manifest.json"
MIN_WORD = 4
TEXT_FIELDS = ("message", "text")
_RX_STOP = set(".[](){}*+?|^$")
_QUANT = set("?*{")
_ERE_META = set("\\.[](){}*+?|^$")


# ---------------------------------------------------------------------------------------
# Literal words of the signature set
# ---------------------------------------------------------------------------------------


def _split_top(pattern: str) -> list[str]:
    """Top-level ``|`` alternatives of a regex (not inside groups or classes)."""
    out, depth, cls, cur, i = [], 0, False, [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            cur.append(pattern[i : i + 2])
            i += 2
            continue
        if cls:
            cls = c != "]"
        elif c == "[":
            cls = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def _group_end(pattern: str, start: int) -> int:
    """Index of the ``)`` closing the group opened at ``start``."""
    depth, i, cls = 0, start, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if cls:
            cls = c != "]"
        elif c == "[":
            cls = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(pattern)


def literal_prefixes(pattern: str) -> list[str]:
    """The literal text each alternative of a regex must start with (may be empty)."""
    pattern = re.sub(r"^\(\?[a-z]+\)", "", pattern)
    words = []
    for alt in _split_top(pattern):
        alt = alt.lstrip("^")
        if alt.startswith("(?:"):  # a leading group: its alternatives' prefixes
            end = _group_end(alt, 0)
            words.extend(literal_prefixes(alt[3:end]))
            continue
        buf: list[str] = []
        i = 0
        while i < len(alt):
            c = alt[i]
            if c == "\\":
                nxt = alt[i + 1 : i + 2]
                if not nxt or nxt.isalnum():  # \d \s \b \w ...: not a literal
                    break
                ch, step = nxt, 2
            elif c in _RX_STOP:
                if c in _QUANT and buf:
                    buf.pop()  # the quantifier makes the previous character optional
                break
            else:
                ch, step = c, 1
            if alt[i + step : i + step + 1] in _QUANT:  # x? x* x{..}: x is optional
                break
            buf.append(ch)
            i += step
        words.append("".join(buf))
    return words


def signature_words(signatures: list[Signature]) -> tuple[list[str], list[str]]:
    """(words, ids of signatures that gave none) for the grep baseline."""
    words: list[str] = []
    empty: list[str] = []

    def walk(node: object, negated: bool, acc: list[str]) -> None:
        if isinstance(node, (And, Or)):
            for item in node.items:
                walk(item, negated, acc)
        elif isinstance(node, Not):
            walk(node.item, not negated, acc)
        elif isinstance(node, Count):
            walk(node.expr, negated, acc)
        elif isinstance(node, Sequence):
            walk(node.first, negated, acc)
            walk(node.then, negated, acc)
        elif isinstance(node, Predicate) and not negated and node.field in TEXT_FIELDS:
            if node.op in ("contains", "icontains", "startswith", "endswith"):
                vals = node.value if isinstance(node.value, tuple) else (node.value,)
                acc.extend(str(v) for v in vals)
            elif node.op == "~" and isinstance(node.value, Regex):
                acc.extend(literal_prefixes(node.value.pattern))

    for s in signatures:
        acc: list[str] = []
        walk(s.tree, False, acc)
        got = [w.strip() for w in acc if len(w.strip()) >= MIN_WORD]
        if not got:
            empty.append(s.id)
        words.extend(got)
    return sorted(set(words)), empty


def ere_escape(word: str) -> str:
    return "".join("\\" + c if c in _ERE_META else c for c in word)


# ---------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------


def log_files(bundle: Path) -> list[tuple[Path, int]]:
    """The bundle's log files and their uncompressed sizes (from the generator's manifest)."""
    man = bundle / MANIFEST
    if man.exists():
        return [(bundle / f["path"], int(f["bytes"])) for f in json.loads(man.read_text())["files"]]
    out = []
    for p in sorted(bundle.rglob("*")):
        if p.is_file() and ".log" in p.name:
            size = len(gzip.decompress(p.read_bytes())) if p.suffix == ".gz" else p.stat().st_size
            out.append((p, size))
    return out


def grep_cmd(files: list[Path], pattern: str) -> str:
    pat = shlex.quote(pattern)
    plain = [shlex.quote(str(p)) for p in files if p.suffix != ".gz"]
    gz = [shlex.quote(str(p)) for p in files if p.suffix == ".gz"]
    parts = []
    if plain:
        parts.append(f"grep -c -E {pat} " + " ".join(plain))
    if gz:
        parts.append(f"zgrep -c -E {pat} " + " ".join(gz))
    return "; ".join(parts) + "; true"  # grep exits 1 when a file has no match


def best_of(n: int, fn: Callable[[], object]) -> tuple[float, list[float]]:
    runs = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return min(runs), runs


def run_cli(bundle: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "logscan", "scan", str(bundle), "--format", "json"]
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", type=Path, help="bundle folder (bench/gen_bundle.py output)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--generate-mb", type=float, default=0, help="generate the bundle first with gen_bundle.py (MiB)")
    args = ap.parse_args(argv)

    if args.generate_mb:
        subprocess.run([sys.executable, str(HERE / "gen_bundle.py"), str(args.bundle), "--mb", str(args.generate_mb)], check=True)
    files = log_files(args.bundle)
    if not files:
        print(f"no log files in {args.bundle}", file=sys.stderr)
        return 2
    mb = sum(s for _, s in files) / 2**20

    sigs = load_signatures()
    words, wordless = signature_words(sigs)
    pattern = "|".join(ere_escape(w) for w in words)
    cmd = grep_cmd([p for p, _ in files], pattern)

    grep_s, grep_runs = best_of(args.repeat, lambda: subprocess.run(["bash", "-c", cmd], check=True, stdout=subprocess.DEVNULL))
    cli_s, cli_runs = best_of(args.repeat, lambda: run_cli(args.bundle))

    # In process: ingest vs the signature pass.
    loaded: list = []
    load_s, _ = best_of(1, lambda: loaded.append(logscan.load(args.bundle)))
    events = loaded[0].events
    hits: list[pl.DataFrame] = []
    eval_s, eval_runs = best_of(args.repeat, lambda: hits.append(evaluate(sigs, events)))

    result = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "polars": pl.__version__, "cpus": os.cpu_count()},
        "bundle": str(args.bundle),
        "files": len(files),
        "mb": round(mb, 1),
        "signatures": len(sigs),
        "grep_words": len(words),
        "signatures_without_words": wordless,
        "load_avg_before": os.getloadavg()[0],
        "grep_s": grep_s,
        "grep_runs": grep_runs,
        "cli_scan_s": cli_s,
        "cli_runs": cli_runs,
        "ratio_cli_vs_grep": cli_s / grep_s,
        "load_s": load_s,
        "events": events.height,
        "evaluate_s": eval_s,
        "evaluate_runs": eval_runs,
        "ratio_evaluate_vs_grep": eval_s / grep_s,
        "hits": hits[-1].height,
    }
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "bench_scan-latest.json").write_text(json.dumps(result, indent=1))

    print(f"bundle {args.bundle}: {len(files)} files, {mb:.1f} MiB, {events.height:,} events")
    print(f"signatures {len(sigs)}, grep words {len(words)} (no literal word: {', '.join(wordless) or '-'})")
    print(f"{'grep -c -E <words> / zgrep':34s} {grep_s:8.2f} s")
    print(f"{'logscan scan --format json':34s} {cli_s:8.2f} s   ratio {cli_s / grep_s:5.1f}x (target 5x)")
    print(f"{'  of which logscan.load (1 run)':34s} {load_s:8.2f} s")
    print(f"{'  of which signatures.evaluate':34s} {eval_s:8.2f} s   ratio {eval_s / grep_s:5.1f}x, {hits[-1].height:,} hits")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
