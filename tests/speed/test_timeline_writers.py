"""Issue 13: the timeline's files are written by polars, with the same contract columns.

The reference is what the Python writer produced (one dict per event, ``time`` as ISO text),
computed here from the same loaded bundle; the polars writers must give the same values.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from logscan import load
from logscan.cli import app
from logscan.reports import timeline as tl

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [ROOT / "samples" / n for n in ("linux-fsfreeze-failed", "win-vss-writer-failure")]
runner = CliRunner()


def _reference(path: Path) -> list[dict]:
    ev = load(path).events
    rows = ev.select(tl.CONTRACT).to_dicts()
    for r in rows:
        r["time"] = r["time"].strftime("%Y-%m-%dT%H:%M:%S.%fZ") if r["time"] else None
    return rows


@pytest.mark.parametrize("chunk", [7, 50_000])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_json_and_ndjson_keep_the_contract_columns(sample: Path, chunk: int, tmp_path: Path, monkeypatch) -> None:
    """Also across the chunks the writers serialise at a time (7 rows: many chunk edges)."""
    if not sample.exists():
        pytest.skip("sample absent")
    monkeypatch.setattr(tl, "CHUNK", chunk)
    want = _reference(sample)
    out = tmp_path / "t.json"
    res = runner.invoke(app, ["timeline", str(sample), "-f", "json", "-o", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert set(doc) == {"vm", "bundle", "events", "ingest_errors"}
    assert [{k: e[k] for k in tl.CONTRACT} for e in doc["events"]] == want
    assert "text" not in doc["events"][0] and "time_raw" not in doc["events"][0]
    nd = tmp_path / "t.ndjson"
    res = runner.invoke(app, ["timeline", str(sample), "-f", "ndjson", "-o", str(nd)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in nd.read_text(encoding="utf-8").splitlines()]
    assert [{k: e[k] for k in tl.CONTRACT} for e in rows] == want


def test_windows_fields_only_where_there_are_windows_events(tmp_path: Path) -> None:
    win, lin = SAMPLES[1], SAMPLES[0]
    if not (win.exists() and lin.exists()):
        pytest.skip("samples absent")
    assert "event_id" in tl.columns(load(win).events)
    assert "event_id" not in tl.columns(load(lin).events)


def test_parquet_default_and_all_columns(tmp_path: Path) -> None:
    sample = SAMPLES[0]
    if not sample.exists():
        pytest.skip("sample absent")
    ev = load(sample).events
    for flags, has_text in (([], False), (["--all-columns"], True)):
        out = tmp_path / f"t{len(flags)}.parquet"
        res = runner.invoke(app, ["timeline", str(sample), "-o", str(out), *flags], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        got = pl.read_parquet(out)
        assert ("text" in got.columns) is has_text and ("time_raw" in got.columns) is has_text
        assert got.select(tl.CONTRACT).equals(ev.select(tl.CONTRACT))
    assert got.select(ev.columns).equals(ev)
