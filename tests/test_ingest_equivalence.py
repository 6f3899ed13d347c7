"""The vectorised ingest path gives exactly what an obviously-correct reader would.

``logscan.load`` reads waagent.log with polars expressions tuned for speed (masks, prefix
checks, a fast path for single-line records). Those tricks must never change a result, so
this test generates a mixed-era bundle with ``bench/gen_bundle.py`` (2 MB: 2.2.45 local-time
lines, 2.2.47+ UTC lines, waagent-2.0 HandlerUtil lines, syslog copies, ``Event:`` lines,
tracebacks and ``[stdout]``/``[stderr]`` blocks, files cut mid-record, gzipped rotations)
and compares every column of every waagent event against a slow line-by-line Python reader
written here from the regexes of linux-agent.md §1.2 and the algorithm of §1.6. The
reader exists only as a test oracle; it is never used by logscan itself.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.frames import EVENT_SCHEMA
from logscan.io import redact

ROOT = Path(__file__).resolve().parents[1]

# --- linux-agent.md §1.2, verbatim ---------------------------------------------------------
NEW = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)\s(?P<level>VERBOSE|INFO|WARNING|ERROR)\s"
    r"(?:(?P<thread>(?!\[)\S+)\s)?(?:(?P<prefix>Daemon|ExtHandler|LogCollector|Firewall|\[[^\]]+\])\s)?(?P<msg>.*)$"
)
OLD = re.compile(
    r"^(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\.\d{6})\s(?P<level>VERBOSE|INFO|WARNING|ERROR)\s"
    r"(?:(?P<prefix>Daemon|ExtHandler|\[[^\]]+\])\s)?(?P<msg>.*)$"
)
V20 = re.compile(r"^(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})\s(?:(?P<level>ERROR|WARNING):)?(?P<msg>.*)$")
SYSLOG = re.compile(
    r"^(?:[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{1,2}|\d{4}-\d{2}-\d{2}T\S+)\s+(?:\S+\s+)??"
    r"(?P<proc>python[\d.]*|waagent|WALinuxAgent)(?:\[\d+\])?:\s(?P<rest>.*)$"
)
# §1.6 step 6, and the waagent-2.0 "[Name-Ver]" glued to the message (§1.2 notes).
EXT = re.compile(r"^\[(?P<name>.+)-(?P<ver>\d+(?:\.\d+)*)\]$")
V20_EXT = re.compile(r"^\[(?P<name>[^\]]+?)-(?P<ver>\d+(?:\.\d+)*)\]\s?(?P<msg>.*)$")
# §1.4: "Event: name=<name>, op=<op>, message=<msg>[, duration=<ms>]" (duration on the last line).
EVENT = re.compile(r"^Event: name=(?P<name>[^,]*), op=(?P<op>[^,]*), message=(?P<msg>.*?)(?:, duration=(?P<dur>-?\d+))?\Z", re.S)
PROCESSES = ("Daemon", "ExtHandler", "LogCollector", "Firewall")
ERA = {  # regex, time format, time basis
    "new": (NEW, "%Y-%m-%dT%H:%M:%S.%fZ", "utc"),
    "old": (OLD, "%Y/%m/%d %H:%M:%S.%f", "local-assumed-utc"),
    "v20": (V20, "%Y/%m/%d %H:%M:%S", "local-assumed-utc"),
}


def _header(line: str) -> tuple[str, re.Match[str]] | None:
    """§1.6 steps 1-2: strip a syslog wrapper, then NEW, OLD, V20 in that order."""
    m = SYSLOG.match(line)
    body = m["rest"] if m else line
    for era, (rx, _, _) in ERA.items():
        hit = rx.match(body)
        if hit:
            return era, hit
    return None


def _time(raw: str, fmt: str) -> datetime | None:
    if fmt.endswith(".%fZ") and "." not in raw:
        fmt = fmt.replace(".%f", "")
    try:
        return datetime.strptime(raw, fmt).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _record(lines: list[str], start: int, head: tuple[str, re.Match[str]] | None, file: str) -> dict:
    row: dict = dict.fromkeys(EVENT_SCHEMA)
    single = head is not None and len(lines) == 1
    text = lines[0] if single else "\n".join(lines).rstrip("\n ")
    row.update(source="waagent_log", file=file, line=start + 1, text=text)
    if head is None:  # lines before the first header: a record with no time of its own
        row.update(message=text, time_basis="none")
    else:
        era, m = head
        _, fmt, basis = ERA[era]
        g = m.groupdict()
        msg, prefix, thread = g["msg"], g.get("prefix"), g.get("thread")
        level = g["level"] or ("INFO" if era == "v20" else None)
        process = None
        if prefix in PROCESSES:
            process = prefix
        elif thread in PROCESSES and prefix is None:
            process, thread = thread, None  # 2.2.46 prefix or 2.8+ prefix-less line
        elif prefix is not None and prefix.startswith("["):
            process = "ExtHandler"
        ext = ver = None
        em = EXT.match(prefix) if prefix else None
        if em:
            ext, ver = em["name"], em["ver"]
        if era == "v20" and msg.startswith("["):
            vm = V20_EXT.match(msg)
            if vm:
                ext, ver, msg = vm["name"], vm["ver"], vm["msg"]
        if "\n" in text:  # the message goes on with the record's other lines
            msg += text[len(text.split("\n")[0]) :]
        row.update(
            time=_time(g["ts"], fmt), time_raw=g["ts"], time_basis=basis, level=level.rstrip(":").upper() if level else None,
            process=process, thread=thread, extension=ext, ext_version=ver, message=msg,
        )
    ev = EVENT.match(row["message"]) if row["message"].startswith("Event: ") else None
    if ev:
        row.update(event_name=ev["name"], event_op=ev["op"], event_duration=int(ev["dur"]) if ev["dur"] else None)
        if row["extension"] is None and ev["name"] not in ("WALinuxAgent", "WALA"):
            row["extension"] = ev["name"]
    return row


def reference_events(bundle: Path) -> list[dict]:
    """Every waagent.log* event of a folder bundle, read one line at a time in Python."""
    names = re.compile(r"(^|/)waagent\.log(\.\d+)?$|(^|/)waagent\.log-\d{4}-\d{2}-\d{2}(-\d+)?$")
    rows: list[dict] = []
    for dirpath, dirnames, filenames in os.walk(bundle):  # the order logscan.io.bundle walks in
        dirnames.sort()
        for fn in sorted(filenames):
            path = Path(dirpath) / fn
            rel = path.relative_to(bundle).as_posix()
            if not names.search(re.sub(r"\.gz$", "", rel)):
                continue
            data = path.read_bytes()
            text = (gzip.decompress(data) if rel.endswith(".gz") else data).decode("utf-8")
            lines = text.split("\n")
            if text.endswith("\n"):
                lines.pop()
            recs: list[tuple[int, list[str], tuple | None]] = []
            for i, line in enumerate(lines):
                head = _header(line)
                if head is not None or not recs:
                    recs.append((i, [line], head))
                else:
                    recs[-1][1].append(line)
            rows.extend(_record(ls, start, head, rel) for start, ls, head in recs)
    # ingest._order: a record with no time takes its file neighbour's (before, then after).
    for k, r in enumerate(rows):
        r["_k"] = k
    by_file: dict[str, list[dict]] = {}
    for r in rows:
        by_file.setdefault(r["file"], []).append(r)
    for recs in by_file.values():
        filled, last = [], None
        for r in recs:
            last = r["time"] or last
            filled.append(last)
        nxt = None
        for i in range(len(recs) - 1, -1, -1):
            nxt = filled[i] or nxt
            filled[i] = filled[i] or nxt
        for r, t in zip(recs, filled, strict=True):
            if r["time"] is None and t is not None:
                r["time"], r["time_basis"] = t, "inherited"
    rows.sort(key=lambda r: (r["time"] is None, r["time"] or datetime.min.replace(tzinfo=timezone.utc), r["_k"]))
    for r in rows:
        del r["_k"]
        r["text"], r["message"] = redact.text(r["text"]), redact.text(r["message"])
    return rows


def _load_generator():
    path = ROOT / "bench" / "gen_bundle.py"
    spec = importlib.util.spec_from_file_location("logscan_bench_gen_bundle", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def gen():
    return _load_generator()


@pytest.fixture(scope="module")
def bundle(gen, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench-bundle")
    gen.generate(out, mb=2.0, seed=7)
    return out


@pytest.fixture(scope="module")
def expected(bundle) -> list[dict]:
    return reference_events(bundle)


@pytest.fixture(scope="module")
def actual(bundle) -> list[dict]:
    ev = logscan.load(bundle).events
    return ev.filter(pl.col("source") == "waagent_log").to_dicts()


def test_bundle_exercises_every_case(expected):
    """The comparison below only means something if the data holds each tricky shape."""
    basis = {r["time_basis"] for r in expected}
    assert {"utc", "local-assumed-utc", "inherited"} <= basis
    assert any("\n" in r["text"] and "[stdout]" in r["text"] for r in expected)
    assert any("Traceback" in r["message"] and "\n" in r["message"] for r in expected)
    assert any(r["event_name"] and "\n" in r["message"] and r["event_duration"] == 0 for r in expected)
    assert any(r["text"].startswith(("Jan", "Feb", "Mar", "Apr", "May")) and r["time_basis"] == "utc" for r in expected)
    assert any(r["extension"] and r["text"][19:20] == " " and r["text"][4] == "/" for r in expected)  # waagent-2.0
    assert any(r["process"] == "ExtHandler" and r["thread"] is None for r in expected)
    assert any(r["process"] == "ExtHandler" and r["thread"] == "MonitorHandler" for r in expected)
    assert any(redact.MASK in r["text"] for r in expected)
    assert sum(r["level"] in ("ERROR", "WARNING") for r in expected) > 0.02 * len(expected)


def test_same_events_as_reference_reader(expected, actual):
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        if a != e:
            diff = {k: (a.get(k), e.get(k)) for k in EVENT_SCHEMA if a.get(k) != e.get(k)}
            pytest.fail(f"event {i} ({e['file']}:{e['line']}) differs (logscan, reference): {diff}")


def test_generator_is_deterministic(gen, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    ma, mb = gen.generate(a, mb=0.3, seed=11), gen.generate(b, mb=0.3, seed=11)
    assert ma == mb
    for f in ma["files"]:
        assert (a / f["path"]).read_bytes() == (b / f["path"]).read_bytes()
    other = gen.generate(tmp_path / "c", mb=0.3, seed=12)
    assert (tmp_path / "c" / other["files"][-2]["path"]).read_bytes() != (a / ma["files"][-2]["path"]).read_bytes()
