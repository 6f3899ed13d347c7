"""The evtx event frame against an independent reading of the same records.

``read_evtx`` reads the engine's XML; these tests read every sample a second way, through the
engine's JSON rendering and plain Python, and require the two to agree record by record: the
records kept and their order, record ids, event ids, levels, providers, times, channel and
computer. They exist so that work on the speed of the XML reading cannot change what it reads.
The samples are never copied into the project: without ../shared/evtx-samples the sample
tests skip, and the synthetic ones still run.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import logscan.sources.evtx as evtx_source
from logscan.frames import EVENT_SCHEMA
from logscan.sources._evtx_xml import xml_frame
from logscan.sources.evtx import read_evtx

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "evtx-samples"
FILES = sorted(SAMPLES.glob("*.evtx")) if SAMPLES.is_dir() else []
# System/Level as Windows numbers it (Event Viewer's names), written out here on purpose.
LEVELS = {0: "INFO", 1: "CRITICAL", 2: "ERROR", 3: "WARNING", 4: "INFO", 5: "VERBOSE"}


def _json_records(data: bytes) -> list[tuple[int, dict]]:
    """(header record number, parsed JSON) of every record evtx renders, errors skipped."""
    from evtx import PyEvtxParser

    out: list[tuple[int, dict]] = []
    it = iter(PyEvtxParser(io.BytesIO(data), skip_errors=False).records_json())
    while True:
        try:
            rec = next(it)
        except StopIteration:
            return out
        except Exception:  # a damaged record or chunk: read_evtx makes an error row of it
            continue
        out.append((rec["event_record_id"], json.loads(rec["data"])))


def _text(v: object) -> str | None:
    """A System value as text: ``{"#text": x, "#attributes": ...}`` or x; blank is None."""
    if isinstance(v, dict):
        v = v.get("#text")
    s = "" if v is None else str(v).strip()
    return s or None


def _expected(rec: dict) -> dict:
    system = rec["Event"].get("System") or {}
    attrs = (system.get("Provider") or {}).get("#attributes") or {}
    event_id, level = _text(system.get("EventID")), _text(system.get("Level"))
    stamp = _text(((system.get("TimeCreated") or {}).get("#attributes") or {}).get("SystemTime"))
    time = None
    if stamp:  # 2013-10-23T16:16:29.1234567Z: microseconds, the rest cut (as polars' %.f does)
        whole, _, frac = stamp.rstrip("Z").partition(".")
        time = datetime.fromisoformat(whole).replace(microsecond=int((frac + "000000")[:6]), tzinfo=UTC)
    record_id = _text(system.get("EventRecordID"))
    return {
        "provider": _text(attrs.get("Name")) or _text(attrs.get("EventSourceName")),
        "event_id": int(event_id) & 0xFFFF if event_id else None,
        "level": LEVELS.get(int(level)) if level and level.isdigit() else None,
        "record_id": int(record_id) if record_id else None,
        "time": time,
        "channel": _text(system.get("Channel")),
        "computer": _text(system.get("Computer")),
    }


@pytest.mark.skipif(not FILES, reason="../shared/evtx-samples is absent")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_frame_agrees_with_the_json_rendering(path: Path) -> None:
    data = path.read_bytes()
    events, _ = read_evtx(data, "evtx")
    records = _json_records(data)
    assert events.height == len(records) > 0
    assert events.schema == pl.Schema(EVENT_SCHEMA)
    assert events["line"].to_list() == [n for n, _ in records]
    cols = ["provider", "event_id", "level", "record_id", "time", "channel", "computer"]
    got = events.select(cols).to_dicts()
    want = [_expected(r) for _, r in records]
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    assert not bad, f"{len(bad)} records differ, first: {bad[0]}"
    assert set(events["record_id"].drop_nulls()) == {w["record_id"] for w in want} - {None}
    # Every record has a message and its text is its XML, without the declaration.
    assert events["message"].null_count() == 0 and events["data"].null_count() == 0
    assert events["text"].str.starts_with("<Event ").all() and events["text"].str.ends_with("</Event>").all()


@pytest.mark.skipif(not FILES, reason="../shared/evtx-samples is absent")
@pytest.mark.parametrize("path", FILES[:3], ids=[p.name for p in FILES[:3]])
def test_batches_join_into_the_same_frame(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records cut into many small batches (offsets, empty item lists at batch edges) read the same."""
    data = path.read_bytes()
    whole, errors = read_evtx(data, "evtx")
    monkeypatch.setattr(evtx_source, "BATCH", 7)
    batched, batched_errors = read_evtx(data, "evtx")
    assert_frame_equal(batched, whole, check_exact=True)
    assert batched_errors == errors


def _event(system: str, body: str = "") -> str:
    ns = "http://schemas.microsoft.com/win/2004/08/events/event"
    return f'<?xml version="1.0" encoding="utf-8"?>\n<Event xmlns="{ns}"><System>{system}</System>{body}</Event>\n'


def test_records_with_no_items_some_items_and_no_provider_name() -> None:
    """Item lists of every length side by side, Binary and UserData after the Data items, and the
    provider taken from EventSourceName only where Name is empty."""
    sys_a = '<Provider Name="A"/><EventID>1</EventID><Level>2</Level><EventRecordID>1</EventRecordID>'
    sys_b = '<Provider Name="" EventSourceName="Src"/><EventID Qualifiers="16384">7</EventID><EventRecordID>2</EventRecordID>'
    sys_c = '<Provider Name="C"/><EventID>3</EventID><Level>4</Level><EventRecordID>3</EventRecordID>'
    xmls = [
        _event(sys_a),
        _event(sys_b, '<EventData><Data Name="x">1</Data><Data>two  words</Data><Binary>0A0B</Binary></EventData>'),
        _event(sys_c, "<UserData><Ev><p1>a &amp; b</p1><p2/></Ev></UserData>"),
        _event(sys_a, "<EventData><Data>\n    </Data></EventData>"),
    ]
    events = xml_frame([11, 12, 13, 14], xmls)
    assert events.columns == list(EVENT_SCHEMA)
    rows = events.select("line", "provider", "event_id", "level", "record_id", "data", "message").to_dicts()
    assert rows == [
        {"line": 11, "provider": "A", "event_id": 1, "level": "ERROR", "record_id": 1, "data": [], "message": "A 1"},
        {
            "line": 12, "provider": "Src", "event_id": 7, "level": None, "record_id": 2,
            "data": [{"name": "x", "value": "1"}, {"name": None, "value": "two  words"}, {"name": "Binary", "value": "0A0B"}],
            "message": "Src 7: x=1; two words",
        },
        {
            "line": 13, "provider": "C", "event_id": 3, "level": "INFO", "record_id": 3,
            "data": [{"name": "p1", "value": "a & b"}, {"name": "p2", "value": ""}],
            "message": "C 3: p1=a & b",
        },
        {"line": 14, "provider": "A", "event_id": 1, "level": "ERROR", "record_id": 1, "data": [{"name": None, "value": ""}], "message": "A 1"},
    ]
    assert events["text"][0].startswith("<Event ") and events["time_basis"].to_list() == ["none"] * 4


def test_non_ascii_names_keep_their_values_whole() -> None:
    """A name with non-ASCII characters (byte and character offsets differ) cuts nothing off."""
    sys_a = '<Provider Name="A"/><EventID>1</EventID><Level>2</Level><EventRecordID>1</EventRecordID>'
    xmls = [
        _event(sys_a, '<EventData><Data Name="é">value1</Data><Data Name="名前">値2</Data></EventData>'),
        _event(sys_a.replace("</EventRecordID>", "</EventRecordID><Computer>sérveur-ü</Computer>"),
               '<UserData><Ev><p1 a="ö">first</p1><x>ü second</x></Ev></UserData>'),
    ]
    data = xml_frame([1, 2], xmls)["data"].to_list()
    assert data[0] == [{"name": "é", "value": "value1"}, {"name": "名前", "value": "値2"}]
    assert data[1] == [{"name": "p1", "value": "first"}, {"name": "x", "value": "ü second"}]


_VALUE = st.text(alphabet=st.sampled_from(["a", "b", " ", "\t", "\n", "\r", "\xa0", "\u2003", "\x1c", ";", "&", "<", "é"]), max_size=8)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.tuples(st.sampled_from([None, "n", "Binary"]), _VALUE), max_size=5))
def test_message_is_the_joined_parts_with_whitespace_collapsed(values: list[tuple[str | None, str]]) -> None:
    """``message`` against its definition: the data parts joined, ``\\s+`` made one space, trimmed.

    The frame collapses whitespace per part before joining; this holds it to the joined form.
    """
    esc = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    body = "".join(
        f"<Data{'' if n is None else f' Name={chr(34)}{n}{chr(34)}'}>{''.join(esc.get(c, c) for c in v)}</Data>" for n, v in values
    )
    system = '<Provider Name="P"/><EventID>5</EventID><EventRecordID>1</EventRecordID>'
    row = xml_frame([1], [_event(system, f"<EventData>{body}</EventData>")]).row(0, named=True)
    parts = [v if n is None else f"{n}={v}" for n, v in ((d["name"], d["value"]) for d in row["data"]) if v != "" and n != "Binary"]
    joined = pl.select(pl.lit("; ".join(parts)).str.replace_all(r"\s+", " ").str.strip_chars()).item()
    assert row["message"] == ("P 5" if joined == "" else f"P 5: {joined}")
