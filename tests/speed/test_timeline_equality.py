"""Issue 13, timeline: the fast paths give the events the reference path gives.

The reference is today's parse kept as it was: every line through the capturing ``HEADER``
regex (``parse_agent_log(fast=False)``), lines split from the decoded ``str``
(``lines_frame(f.text)``), ``text`` kept, and the ordering by one stable sort
(:func:`_reference_order`, a frozen copy of ``_order`` before issue 13). The new path is what
``logscan timeline`` runs: FAST header lines cut by splits, ``pl.read_lines`` on the bytes,
``text`` dropped per file, whole files moved instead of sorted when they are in order.
"""

from __future__ import annotations

import functools
import io
import itertools
import random
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import logscan
from logscan.cli import app
from logscan.frames import EVENT_SCHEMA, UTC_DT, TimeBasis, concat, conform
from logscan.reports import timeline as tl
from logscan.sources import SourceFile, base, ingest, waagent_log
from logscan.sources.base import lines_frame, lines_of

from ._support import SAMPLES, bench_module

runner = CliRunner()
#: The columns of a waagent-format header parse that records and syslog read.
PARSED = ["idx", "raw", "is_header", *waagent_log.HEADER_FIELDS]

STAMP = "2024-05-29T05:45:42.123456Z"
#: Lines of every era and shape, with the cases where a split could differ from the regex.
CRAFTED = [
    # 2.2.47+: thread and process prefix, thread only, extension prefix, unusual threads
    f"{STAMP} INFO ExtHandler ExtHandler Azure Linux Agent (Goal State Agent version 2.11.1.4)",
    f"{STAMP} INFO Daemon Daemon Azure Linux Agent Version: 2.11.1.4",
    f"{STAMP} WARNING ExtHandler ExtHandler [PERIODIC] Fetch goal state failed",
    f"{STAMP} ERROR ExtHandler ExtHandler Event: name=Microsoft.Azure.RecoveryServices.VMSnapshotLinux, op=Enable, message=x, duration=0",
    f"{STAMP} VERBOSE EnvHandler ExtHandler Routing table",
    f"{STAMP} INFO MonitorHandler LogCollector Collecting",
    f"{STAMP} INFO Firewall Firewall rules set",
    f"{STAMP} INFO ExtHandler [Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0.9224.0] Target handler state: enabled",
    f"{STAMP} INFO ExtHandler [Microsoft.CPlat.Core.RunCommandLinux-1.0.5] [x]",
    f"{STAMP} INFO SendTelemetryHandler ExtHandler",
    f"{STAMP} INFO SendTelemetryHandler ExtHandler ",
    f"{STAMP} INFO ExtHandler ",
    f"{STAMP} INFO ExtHandler",
    f"{STAMP} INFO ",
    f"{STAMP} INFO",
    f"{STAMP} INFO thread [a b] message after a spaced bracket",
    f"{STAMP} INFO thread [ab]tail",
    f"{STAMP} INFO thread []",
    f"{STAMP} INFO thread [] x",
    f"{STAMP} INFO thread [ab]",
    f"{STAMP} INFO thread DaemonX rest",
    f"{STAMP} INFO thread Daemon",
    f"{STAMP} INFO thread thread2 thread3 more",
    f"{STAMP} INFO Thréad-ü ExtHandler ünïcode message ✓",
    f"{STAMP} INFO ExtHandler ExtHandler café: naïve ☃ message",
    # 2.2.46: the prefix where 2.2.47+ has the thread
    "2021-05-28T01:17:40.683072Z INFO ExtHandler Wire server endpoint:168.63.129.16",
    "2021-05-28T01:17:40.683072Z INFO Daemon Create user account if not exists",
    "2021-05-28T01:17:40.683072Z INFO [Microsoft.OSTCExtensions.VMAccessForLinux-1.5.11] Install",
    "2021-05-28T01:17:40.683072Z INFO [Microsoft.OSTCExtensions.VMAccessForLinux-1.5.11]Install",
    "2021-05-28T01:17:40.683072Z ERROR [a b] spaced",
    "2021-05-28T01:17:40.683072Z INFO [x]",
    "2021-05-28T01:17:40.683072Z INFO Daemon",
    # odd spacing and whitespace: never the fast path, same result
    f"{STAMP}  INFO ExtHandler ExtHandler two spaces before the level",
    f"{STAMP} INFO  ExtHandler two spaces after the level",
    f"{STAMP} INFO ExtHandler  ExtHandler two spaces after the thread",
    f"{STAMP} INFO ExtHandler ExtHandler  two spaces after the prefix",
    f"{STAMP}\tINFO\tExtHandler\tExtHandler tabs",
    f"{STAMP} INFO ExtHandler\tExtHandler tab after the thread",
    f"{STAMP} INFO ExtHandler ExtHandler\ttab after the prefix",
    f"{STAMP} INFO ExtHandler Daemon\tx",
    f"{STAMP} INFO Ext\u00a0Handler no-break space",
    f"{STAMP} INFO ExtHandler\u2003ExtHandler em space",
    f"{STAMP} INFO [Ext-1.0]\ttab after bracket",
    f"{STAMP} INFO x [Ext-1.0]\ttab after bracket",
    # stamps: other fraction widths, impossible dates, leap second, no Z
    "2024-05-29T05:45:42.123Z INFO ExtHandler ExtHandler three digits",
    "2024-05-29T05:45:42Z INFO ExtHandler ExtHandler no fraction",
    "2024-05-29T05:45:42.1234567Z INFO ExtHandler ExtHandler seven digits",
    "2024-02-30T05:45:42.123456Z INFO ExtHandler ExtHandler February 30",
    "2024-13-01T05:45:42.123456Z INFO ExtHandler ExtHandler month 13",
    "2024-00-01T05:45:42.123456Z INFO ExtHandler ExtHandler month 0",
    "2024-01-00T05:45:42.123456Z INFO ExtHandler ExtHandler day 0",
    "2024-01-01T24:00:00.000000Z INFO ExtHandler ExtHandler hour 24",
    "2024-01-01T23:60:00.000000Z INFO ExtHandler ExtHandler minute 60",
    "2016-12-31T23:59:60.000000Z INFO ExtHandler ExtHandler leap second",
    "2016-12-31T23:59:61.000000Z INFO ExtHandler ExtHandler second 61",
    "0000-01-01T00:00:00.000000Z INFO ExtHandler ExtHandler year 0",
    "2024-05-29T05:45:42.123456 INFO ExtHandler ExtHandler no Z",
    "2024-05-29 05:45:42.123456Z INFO ExtHandler ExtHandler space for T",
    f"{STAMP} DEBUG ExtHandler ExtHandler not an agent level",
    f"{STAMP} info ExtHandler ExtHandler lower case level",
    f"{STAMP} INFORMATION ExtHandler x",
    # 2.1 - 2.2.45, local time
    "2021/03/30 19:35:35.971742 INFO Daemon Azure Linux Agent Version:2.2.45",
    "2021/03/30 19:35:35.971742 INFO ExtHandler [Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0.9180.0] Enable",
    "2021/03/30 19:35:35.971742 WARNING Run command failed",
    "2021/03/30 19:35:35.971742 INFO ",
    "2021/03/30 19:35:35.971742 INFO Daemon\tafter a tab",
    "2021/03/30 19:35:35.971742 INFO ExtHandler  two spaces after the prefix",
    "2021/03/30 19:35:35.971742 INFO [a b] bracket with a space inside",
    "2021/03/30 19:35:35.971742 INFO [abc]glued to the message",
    "2021/03/30 19:35:35.971742 INFO Daemonic is not a prefix",
    "2021/03/30 19:35:35.971742 INFO  two spaces after the level",
    "2021/03/30 19:35:35.971742 ERROR Daemon",
    "2021/03/30 19:35:35.971742 ERROR Daemon ",
    "2021/03/30 19:35:35.971742 VERBOSE [Name-1.2] ",
    "2021/02/30 19:35:35.971742 INFO Daemon impossible date",
    "2021/03/30 19:35:35.971742\tINFO tab after the stamp",
    "2021/03/30 19:35:35.971742 INFO Daemon\u00a0no-break space",
    "2021/03/30 19:35:35.971742 INFO Exception in thread: starts with E",
    "2021/03/30 19:35:35.971742 INFO ExtHandlerX glued word",
    "2021/03/30 19:35:35.971742 INFO ExtHandler",
    "2021/03/30 19:35:35.971742 INFO Daemon",
    "2021/03/30 19:35:35.971742 INFO D",
    "2021/03/30 19:35:35.971742 INFO E",
    "2021/03/30 19:35:35.971742 INFO Data disk attached",
    "2021/03/30 19:35:35.971742 INFO Dæmon ünïcode ✓",
    "2021/03/30 19:35:35.971742 INFO [",
    "2021/03/30 19:35:35.971742 INFO [x",
    "2021/03/30 19:35:35.971742 INFO []",
    "2021/03/30 19:35:35.971742 INFO [] after empty brackets",
    "2021/03/30 19:35:35.971742 INFO [Ext-ü-1.0] ünïcode prefix",
    "2021/03/30 19:35:35.971742 INFO [Microsoft.OSTCExtensions.VMAccessForLinux] no version",
    "2021/03/30 19:35:35.971742 VERBOSE ExtHandler [Name-1.2] prefix then bracket",
    "2021/03/30 19:35:35.971742 ERROR Event: name=Microsoft.Azure.RecoveryServices.VMSnapshotLinux, op=Enable, message=x, duration=3",
    "2021/03/30 19:35:35.97174 INFO Daemon five digits",
    "2021/03/30 19:35:35.9717421 INFO Daemon seven digits",
    "2021/03/30 19:35:35 INFO Daemon no fraction",
    "2021/13/30 19:35:35.971742 INFO Daemon month 13",
    "2021/03/30 24:35:35.971742 INFO Daemon hour 24",
    "2016/12/31 23:59:60.000000 INFO Daemon leap second",
    "2021-03-30 19:35:35.971742 INFO Daemon dashes with a space",
    "2021/03/30 19:35:35.971742 DEBUG Daemon not an agent level",
    "2021/03/30 19:35:35.971742 INFO \u2003em space",
    # 2.0 and HandlerUtil: seconds, level glued on
    "2017/04/05 15:19:30 ERROR:timed out",
    "2017/04/05 15:19:30 WARNING:disk almost full",
    "2017/04/05 15:19:31 Starting waagent",
    "2021/03/30 19:45:31 [Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.7.0] cwd is /var/lib/waagent/x",
    # bare pasted lines: the level opens a record without a time
    "INFO Daemon Azure Linux Agent Version:2.2.45",
    "ERROR [Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0.9224.0] Enable failed",
    "ERROR:timed out",
    "WARNING:disk",
    # syslog and journal copies
    f"Mar  3 19:35:35 vm1 waagent[812]: {STAMP} INFO Daemon Daemon synced",
    f"Mar 30 19:35:35 vm1 python3[812]: {STAMP} INFO ExtHandler ExtHandler Event: name=WALA, op=HeartBeat, message=, duration=0",
    f"2021-03-30T19:35:35.5+00:00 vm1 WALinuxAgent: {STAMP} INFO Daemon Daemon synced",
    "Mar 30 19:35:35 vm1 python3[812]: 2021/03/30 19:35:35.971742 INFO Daemon Version:2.2.45",
    f"{STAMP} INFO waagent: looks like a syslog wrapper",
    f"{STAMP} INFO ExtHandler python3[12]: also a wrapper shape",
    # CommandExecution.log (same header) and lines that look like headers but are not
    f"{STAMP} INFO [Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0.9224.0] Command: main/handle.sh enable",
    "[stdout]",
    "Traceback (most recent call last):",
    '  File "/usr/lib/python3/dist-packages/azurelinuxagent/ga/exthandlers.py", line 1, in run',
    f" {STAMP} INFO ExtHandler ExtHandler indented",
    f"x{STAMP} INFO ExtHandler ExtHandler prefixed",
    "Inner error: INFO ExtHandler ExtHandler",
    "2024-05-29T05:45:42.123456Z",
    "",
    " ",
]


def _parse(lines: list[str], fast: bool) -> pl.DataFrame:
    df = pl.DataFrame({"raw": lines}).with_row_index("idx").with_columns(pl.col("idx").cast(pl.Int64))
    return waagent_log.parse_agent_log(df, fast=fast).select(PARSED)


def test_fast_header_path_equals_the_regex_on_crafted_lines() -> None:
    fast, ref = _parse(CRAFTED, True), _parse(CRAFTED, False)
    assert fast.equals(ref)
    # Row by row too, to name a failing line (times as integers: year 0 has no Python datetime).
    fast, ref = (d.with_columns(pl.col("time").dt.epoch("us")) for d in (fast, ref))
    for i, (a, b) in enumerate(zip(fast.iter_rows(named=True), ref.iter_rows(named=True), strict=True)):
        assert a == b, (i, CRAFTED[i])
    taken = pl.Series(CRAFTED).str.contains(waagent_log.FAST).sum()
    old = pl.Series(CRAFTED).str.contains(waagent_log.FAST_OLD).sum()
    assert taken >= 20 and old >= 15 and taken + old < len(CRAFTED)  # every path was exercised


def test_fast_old_lines_are_the_old_era_ones() -> None:
    """FAST_OLD claims no line another era's regex reads (NEW is tried first), and every line
    it claims is an OLD header."""
    df = pl.DataFrame({"raw": CRAFTED}).with_row_index("idx").with_columns(pl.col("idx").cast(pl.Int64), body=pl.col("raw"))
    groups = waagent_log._regex_groups(df).filter(pl.col("raw").str.contains(waagent_log.FAST_OLD))
    assert groups.height >= 15
    assert groups["ts_old"].null_count() == 0 and groups["ts_new"].null_count() == groups.height


def test_old_and_new_era_files_mixed_line_by_line() -> None:
    """A file whose lines switch era (an auto-updated agent writing beside the daemon): the
    three parts (FAST, FAST_OLD, regex) are put back in place."""
    old = [ln for ln in CRAFTED if ln.startswith("2021/03/30 19:35:35.971742 ")]
    lines = pl.Series((CRAFTED + old * 5) * 20).sample(fraction=1.0, shuffle=True, seed=11).to_list()
    assert _parse(lines, True).equals(_parse(lines, False))
    only_old = [ln for ln in old if bool(pl.Series([ln]).str.contains(waagent_log.FAST_OLD)[0])]
    assert _parse(only_old, True).equals(_parse(only_old, False))


def _reference_records_message(rec: pl.DataFrame) -> pl.Series:
    """The multi-line message as ``records_of`` built it before issue 13 (every record's
    text split to find its first line)."""
    first_line_len = pl.col("text").str.split("\n").list.first().str.len_chars()
    return rec.select(
        pl.when(pl.col("text").str.contains("\n")).then(pl.col("message") + pl.col("text").str.slice(first_line_len))
        .otherwise(pl.col("message"))
    ).to_series()


def test_multi_line_messages_equal_the_reference(monkeypatch) -> None:
    """Records of one and many lines, before the first header, with unicode and blank lines:
    ``records_of`` joins the other lines as the reference expression did."""
    text = "\n".join([
        "Traceback (most recent call last):", "  cut mid-record", CRAFTED[0], CRAFTED[2], "  File x", "", "ünïcode ✓ line",
        CRAFTED[63], "2021/03/30 19:35:35.971742 INFO Daemon x", "[stdout]", "out", "[stderr]", "", "   ", CRAFTED[5],
    ])
    seen: list[pl.DataFrame] = []
    build = waagent_log.build_records
    monkeypatch.setattr(waagent_log, "build_records", lambda *a, **k: seen.append(build(*a, **k)) or seen[-1])
    got = waagent_log.records(text)
    ref = _reference_records_message(seen[0])
    assert got["message"].to_list() == pl.select(pl.coalesce(ref, seen[0]["text"])).to_series().to_list()
    assert got["text"].str.contains("\n", literal=True).sum() >= 3 and got["message"].null_count() == 0


@pytest.mark.parametrize("fast_share", [0.0, 1.0])
def test_all_fast_or_none_fast(fast_share: float) -> None:
    lines = [ln for ln in CRAFTED if bool(pl.Series([ln]).str.contains(waagent_log.FAST)[0]) == bool(fast_share)]
    assert lines
    assert _parse(lines, True).equals(_parse(lines, False))


def test_fast_header_path_on_shuffled_and_repeated_lines() -> None:
    """Many rows, FAST and not interleaved in every way: the two parts are put back in place."""
    lines = pl.Series(CRAFTED * 50).sample(fraction=1.0, shuffle=True, seed=7).to_list()
    assert _parse(lines, True).equals(_parse(lines, False))


def test_syslog_rows_with_null_messages_keep_their_place() -> None:
    df = pl.DataFrame({"idx": [0, 1, 2, 3], "raw": [CRAFTED[0], None, "ERROR:x", CRAFTED[1]]})
    assert waagent_log.parse_agent_log(df).select(PARSED).equals(waagent_log.parse_agent_log(df, fast=False).select(PARSED))


@pytest.mark.parametrize(
    "data",
    [
        b"a\nb\n", b"a\nb", b"\n\n", b"x\xe2\x80\xa8y\x0bz\n", "caf\u00e9 \u2603\n".encode(), b"",
        b"a\r\nb\r\n", b"a\rb\n", b"\xef\xbb\xbfbom\n", b"a\x00b\n", b"latin \xe9\n", b"\xff\xfeu\x00t\x00f\x00",
        b"a\x00\nb\x00\n", b"x" * 40 + b"\n",
    ],
    ids=repr,
)
def test_lines_of_bytes_equals_the_decoded_split(data: bytes) -> None:
    """Plain UTF-8 is split from the bytes; anything else through the decoder, which records
    the same notes (the "decoded" ingest row) as before."""
    f, g = SourceFile("var/log/waagent.log", "w", data), SourceFile("var/log/waagent.log", "w", data)
    assert lines_of(f).equals(lines_frame(g.text))
    assert f.decoded.notes == g.decoded.notes


def test_lines_of_cuts_long_lines_through_the_decoder(monkeypatch) -> None:
    monkeypatch.setattr(base, "MAX_LINE_CHARS", 10)
    data = b"short\n" + b"y" * 30 + b"\n"
    f = SourceFile("var/log/waagent.log", "w", data)
    lines = lines_of(f)
    assert "decoded" in f.__dict__ and lines.equals(lines_frame(f.text))  # the decoder ran


def _cuts(n: int, rng: random.Random) -> list[tuple[int, int]]:
    """(offset, length) of 1-4 consecutive parts of ``n`` rows: a file's rows may come in
    several frames (the parts of a paste), so the per-frame fill must not be taken."""
    edges = sorted({0, n, *(rng.randint(0, n) for _ in range(rng.randint(0, 3)))})
    return [(a, b - a) for a, b in itertools.pairwise(edges)]


def _reference_order(ev: pl.DataFrame | list[pl.DataFrame]) -> pl.DataFrame:
    """``ingest._order`` before issue 13: fill, then one stable sort on time."""
    ev = concat(ev, EVENT_SCHEMA) if isinstance(ev, list) else ev
    if not ev.height:
        return ev
    ev = ev.with_columns(_k=pl.int_range(pl.len()))
    filled = pl.col("time").forward_fill().backward_fill().over("file", order_by="_k")
    ev = ev.with_columns(
        time_basis=pl.when(pl.col("time").is_null() & filled.is_not_null()).then(pl.lit(TimeBasis.INHERITED)).otherwise(pl.col("time_basis")),
        time=filled,
    )
    return ev.drop("_k").sort("time", nulls_last=True, maintain_order=True)


def _reference_load(path: Path, monkeypatch) -> logscan.LoadedBundle:
    with monkeypatch.context() as m:
        m.setattr(waagent_log, "parse_agent_log", functools.partial(waagent_log.parse_agent_log, fast=False))
        m.setattr(waagent_log, "lines_of", lambda f: lines_frame(f.text))
        m.setattr(ingest, "_order", _reference_order)
        return logscan.load(path)


def _same_timeline(path: Path, monkeypatch, tmp_path: Path) -> pl.DataFrame:
    ref = _reference_load(path, monkeypatch)
    new = logscan.load(path, drop=("text", "time_raw"))
    cols = [c for c in ref.events.columns if c not in ("text", "time_raw")]
    assert new.events.select(cols).equals(ref.events.select(cols)), path.name
    assert new.events["text"].null_count() == new.events["time_raw"].null_count() == new.events.height
    assert new.facts.equals(ref.facts) and new.ingest_errors.equals(ref.ingest_errors), path.name
    assert new.coverage == ref.coverage
    out = tmp_path / f"{path.name}.parquet"
    res = runner.invoke(app, ["timeline", str(path), "-o", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    got = pl.read_parquet(out)
    assert got.columns == tl.columns(ref.events)
    assert got.equals(ref.events.select(got.columns)), path.name
    return ref.events


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_samples_give_the_same_timeline(sample: Path, monkeypatch, tmp_path: Path) -> None:
    _same_timeline(sample, monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    """Six fleet bundles (both agent eras, folder/zip/tar.gz) and a 1 MB mixed-era bundle
    with rotated gzip files and the VMSnapshot extension.log."""
    out = tmp_path_factory.mktemp("fleet")
    bench_module("gen_fleet").generate(out, 6, seed=17, lines=200)
    big = tmp_path_factory.mktemp("mixed")
    bench_module("gen_bundle").generate(big, mb=1.0)
    return [*sorted((out / "bundles").iterdir()), big]


def test_generated_bundles_give_the_same_timeline(generated: list[Path], monkeypatch, tmp_path: Path) -> None:
    bases: set[str] = set()
    for path in generated:
        bases |= set(_same_timeline(path, monkeypatch, tmp_path)["time_basis"].drop_nulls().unique().to_list())
    assert {"utc", "local-assumed-utc"} <= bases  # both agent eras were compared


def test_files_in_order_are_moved_not_sorted(tmp_path: Path, monkeypatch) -> None:
    """Rotated logs that do not overlap take the no-sort path, and give the sorted result."""
    root = tmp_path / "b" / "var" / "log"
    root.mkdir(parents=True)
    (root / "waagent.log").write_text("2024-05-29T06:00:00.000000Z INFO ExtHandler ExtHandler late\ncontinued\n")
    (root / "waagent.log.1").write_text(f"{STAMP} INFO ExtHandler ExtHandler early\n2024-05-29T05:50:00.000000Z INFO Daemon Daemon x\n")
    seen: list = []
    runs = ingest._runs_in_order
    monkeypatch.setattr(ingest, "_runs_in_order", lambda ev: seen.append(runs(ev)) or seen[-1])
    new = logscan.load(tmp_path / "b")
    assert seen and seen[0] is not None and len(seen[0]) == 2
    assert new.events.equals(_reference_load(tmp_path / "b", monkeypatch).events)
    assert new.events["message"].to_list() == ["early", "x", "late\ncontinued"]


def test_order_equals_the_stable_sort_on_random_frames() -> None:
    """Files in and out of order, overlapping or touching, with and without times, one file
    in two runs: the no-sort path is taken only when it gives the stable sort's frame."""
    rng = random.Random(3)
    taken = 0
    for _ in range(400):
        rows = []
        for f in range(rng.randint(1, 4)):
            start, broken = rng.randint(0, 20), rng.random() < 0.1
            for i in range(rng.randint(1, 5)):
                t = None if broken or rng.random() < 0.15 else start + (i if rng.random() < 0.8 else rng.randint(-2, 2))
                name = "f0" if rng.random() < 0.05 else f"f{f}"
                rows.append({"file": name, "line": i, "time_basis": "utc", "time": None if t is None else datetime(2024, 1, 1, 0, 0, t % 60, tzinfo=timezone.utc)})
        ev = conform(pl.DataFrame(rows, schema_overrides={"time": UTC_DT}), EVENT_SCHEMA)
        assert ingest._order(ev).equals(_reference_order(ev)), rows
        frames = [part for _, part in ev.group_by("file", maintain_order=True)] if rng.random() < 0.5 else [
            ev.slice(a, n) for a, n in _cuts(ev.height, rng)
        ]
        assert ingest._order(list(frames)).equals(_reference_order(list(frames))), rows
        taken += ingest._runs_in_order(_reference_order(ev)) is not None
    assert 50 < taken < 400


@pytest.mark.parametrize("all_columns", [False, True], ids=["default", "all-columns"])
@pytest.mark.parametrize("name", ["linux-fsfreeze-failed", "win-vss-writer-failure"])
def test_json_rows_are_the_bytes_polars_writes(name: str, all_columns: bool, monkeypatch) -> None:
    """The JSON/NDJSON rows (``struct.json_encode`` written by ``write_csv``, chunks encoded on threads) are byte for
    byte what ``write_json``/``write_ndjson`` write, across many chunk edges, Windows event
    data (lists of structs) included."""
    sample = Path(__file__).resolve().parents[2] / "samples" / name
    monkeypatch.setattr(tl, "CHUNK", 7)
    ev = logscan.load(sample).events
    df = tl._textual(ev, tl.columns(ev, all_columns=all_columns))
    assert df.height > 3 * tl.CHUNK
    for sep, end, want in ((",", "", df.write_json().encode()[1:-1]), ("\n", "\n", df.write_ndjson().encode())):
        buf = io.BytesIO()
        tl._write_rows(buf, df, sep, end)
        assert buf.getvalue() == want
        buf = io.BytesIO()  # time still a datetime: formatted chunk by chunk, same bytes
        tl._write_rows(buf, ev.select(df.columns), sep, end)
        assert buf.getvalue() == want
    buf = io.BytesIO()
    tl._write_rows(buf, df.head(0), ",", "")
    assert buf.getvalue() == b""


def test_drop_applies_to_grep_first_parsers_too() -> None:
    """``load(drop=...)`` with a scan's grep plan: the same events, less the dropped columns."""
    from logscan.rules.grep import grep_plan

    sample = Path(__file__).resolve().parents[2] / "samples" / "linux-fsfreeze-failed"
    full, lean = logscan.load(sample, grep=grep_plan()), logscan.load(sample, grep=grep_plan(), drop=("text",))
    assert lean.events["text"].null_count() == lean.events.height
    assert lean.events.drop("text").equals(full.events.drop("text")) and lean.unparsed_events == full.unparsed_events
