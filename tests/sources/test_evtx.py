"""EVTX into the event frame: the nine shared samples (record counts from SOURCES.md), the
layouts of windows-events.md §4, both engines, and damaged input that must never raise."""

from __future__ import annotations

import importlib.util
import re
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.errors import IngestError
from logscan.frames import EVENT_SCHEMA
from logscan.sources import spec_for
from logscan.sources.base import SourceFile
from logscan.sources.evtx import ENGINE_ENV, SPEC, default_engine, read_evtx

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "evtx-samples"
APP = "deepbluecli-many-events-application.evtx"
HAS_PYTHON_EVTX = importlib.util.find_spec("Evtx") is not None


def sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path.read_bytes()


def expected_counts() -> dict[str, int]:
    """``records (evtx)`` per file, read from SOURCES.md (``## N. `file` `` ... ``Records: 2,216 (evtx``)."""
    sources = SAMPLES / "SOURCES.md"
    if not sources.exists():
        return {}
    counts: dict[str, int] = {}
    current = None
    for line in sources.read_text(encoding="utf-8").splitlines():
        head = re.match(r"^## \d+\. `([^`]+\.evtx)`", line)
        if head:
            current = head.group(1)
        rec = re.search(r"Records: ([\d,]+) \(evtx", line)
        if rec and current:
            counts[current] = int(rec.group(1).replace(",", ""))
            current = None
    return counts


COUNTS = expected_counts()


def test_sources_md_lists_nine_files() -> None:
    if not COUNTS:
        pytest.skip("SOURCES.md not present")
    assert len(COUNTS) == 9
    assert COUNTS[APP] == 2216


@pytest.mark.parametrize("name", sorted(COUNTS) or ["(no samples)"])
def test_each_sample_loads_with_the_sources_md_count(name: str) -> None:
    data = sample(name) if COUNTS else pytest.skip("no samples")
    events, errors = read_evtx(data, "evtx")
    assert events.height == COUNTS[name]
    assert events.schema == pl.Schema(EVENT_SCHEMA)
    # Every record has its header record number; all but damaged ones have a time and an id.
    assert events["line"].null_count() == 0
    assert events["event_id"].null_count() == 0
    assert events.filter(pl.col("time").is_null()).height <= 1
    assert events.filter(pl.col("time").is_not_null())["time_basis"].unique().to_list() == ["utc"]
    assert all(e["kind"] and e["detail"] for e in errors)


def test_damaged_samples_report_what_was_skipped() -> None:
    _, zero = read_evtx(sample("evtxrs-sample-with-zero-data-size-event.evtx"))
    assert any("data size" in e["detail"] for e in zero if e["kind"] == "record")
    assert any(e["kind"] == "records-missing" for e in zero)
    events, bad = read_evtx(sample("evtxrs-sample_with_a_bad_chunk_magic.evtx"))
    chunk = [e for e in bad if e["kind"] == "chunk"]
    assert len(chunk) == 1 and "1-6, 10-15" in chunk[0]["detail"]
    # The one record evtx recovers without System values is kept, with nulls, not dropped.
    broken = events.filter(pl.col("record_id").is_null())
    assert broken.height == 1 and broken["provider"][0] is None and broken["channel"][0] is None
    # A clean file (and a dirty one whose missing ids are just overwritten) reports nothing.
    assert read_evtx(sample(APP))[1] == []
    assert read_evtx(sample("evtxrs-2-vss_7-System-dirty.evtx"))[1] == []


def test_application_error_1000_windows7_layout() -> None:
    events, _ = read_evtx(sample(APP))
    ae = events.filter((pl.col("provider") == "Application Error") & (pl.col("event_id") == 1000))
    assert ae.height == 1
    row = ae.row(0, named=True)
    assert row["level"] == "ERROR" and row["channel"] == "Application" and row["computer"] == "IE10Win7"
    assert row["time"].isoformat() == "2016-08-18T20:11:24+00:00"  # TimeCreated, not the written time
    values = [d["value"] for d in row["data"] if d["name"] is None]
    assert len(values) == 13  # Windows 7: 13 unnamed items
    assert values[0] == "rundll32.exe" and values[3] == "KERNELBASE.dll" and values[5] == "56eb2fb9"
    assert values[6] == "c0000005" and values[12] == "efc65f51-657f-11e6-8eb4-000c290d8d3a"
    assert row["message"].startswith("Application Error 1000: rundll32.exe; 6.1.7600.16385;")
    assert '<Provider Name="Application Error">' in row["text"] and not row["text"].startswith("<?xml")


def test_wer_1001_keeps_an_empty_first_field_in_place() -> None:
    events, _ = read_evtx(sample(APP))
    wer = events.filter((pl.col("provider") == "Windows Error Reporting") & (pl.col("event_id") == 1001))
    assert wer.height == 44
    # Windows 7 writes 21 positional items (Server 2019 has 23); the count is read, not assumed.
    positional = wer["data"].list.eval(pl.element().struct.field("name").is_null().sum()).list.first()
    assert positional.unique().to_list() == [21]
    rec = wer.filter(pl.col("record_id") == 154).row(0, named=True)["data"]
    assert rec[0] == {"name": None, "value": ""}  # Bucket
    assert rec[1] == {"name": None, "value": "0"}  # BucketType
    assert rec[2]["value"] == "WindowsUpdateFailure"


def test_event_ids_are_keyed_with_the_provider() -> None:
    events, _ = read_evtx(sample(APP))
    by = dict(
        events.filter(pl.col("event_id") == 1000).group_by("provider").len().iter_rows()
    )
    assert by == {"Application Error": 1, "Microsoft-Windows-LoadPerf": 121, "VMware Tools": 13, "Interactive Services detection": 1}


def test_named_data_userdata_qualifiers_and_event_source_name() -> None:
    events, _ = read_evtx(sample(APP))
    msdtc = events.filter((pl.col("provider") == "Microsoft-Windows-MSDTC 2") & (pl.col("event_id") == 4202))
    assert msdtc.height == 15  # EventID has Qualifiers=16384; the id is still 4202
    names = [d["name"] for d in msdtc["data"][0]]
    assert names[:3] == ["param1", "param2", "param3"]
    assert "param1=" in msdtc["message"][0]
    complus = events.filter(pl.col("event_id") == 781)
    assert complus["provider"].unique().to_list() == ["Microsoft-Windows-Complus"]
    loadperf = events.filter(pl.col("record_id") == 157).row(0, named=True)
    assert [d["name"] for d in loadperf["data"]][:2] == ["param1", "param2"]  # UserData flattened
    vss = events.filter((pl.col("provider") == "VSS") & (pl.col("event_id") == 8212)).row(0, named=True)
    binary = [d["value"] for d in vss["data"] if d["name"] == "Binary"]
    assert bytes.fromhex(binary[0]).decode("ascii").startswith("- Code: ")
    assert "Binary" not in vss["message"] and "\n" not in vss["message"]


def test_string_typed_system_values_and_nine_digit_times() -> None:
    events, _ = read_evtx(sample("mitre-ID1151-Defender-health-status.evtx"))
    assert events["event_id"].unique().to_list() == [1151]
    assert events["level"].unique().to_list() == ["INFO"]
    nine = events.filter(pl.col("time_raw").str.contains(r"\.\d{9}Z$"))
    assert nine.height > 0
    row = nine.row(0, named=True)
    frac = row["time_raw"].split(".")[1][:6]
    assert row["time"].microsecond == int(frac)


def test_event_id_masked_to_16_bits() -> None:
    from logscan.sources.evtx import xml_frame

    xml = (
        '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
        '<Provider Name="A &amp; B"></Provider><EventID Qualifiers="49152">3221226599</EventID>'
        "<Level>3</Level><TimeCreated SystemTime=\"2024-01-02T03:04:05.1234567Z\"></TimeCreated>"
        "<EventRecordID>7</EventRecordID><Channel>System</Channel><Computer>vm1</Computer></System>"
        '<EventData><Data Name="x">1 &lt; 2</Data><Data Name="empty"/></EventData></Event>'
    )
    row = xml_frame([7], [xml]).row(0, named=True)
    assert row["event_id"] == 3221226599 & 0xFFFF == 1127
    assert row["provider"] == "A & B" and row["level"] == "WARNING"
    assert row["data"] == [{"name": "x", "value": "1 < 2"}, {"name": "empty", "value": ""}]
    assert row["message"] == "A & B 1127: x=1 < 2"
    assert row["time"].isoformat() == "2024-01-02T03:04:05.123456+00:00"


@pytest.mark.skipif(not HAS_PYTHON_EVTX, reason="python-evtx not installed (extra logscan[python-evtx])")
def test_python_evtx_engine_matches_evtx_on_a_clean_file() -> None:
    data = sample("evtxrs-Application_no_crc32.evtx")
    a, ea = read_evtx(data, "evtx")
    b, eb = read_evtx(data, "python-evtx")
    assert ea == [] and eb == []
    key = ["provider", "event_id", "record_id"]
    assert sorted(a.select(key).iter_rows()) == sorted(b.select(key).iter_rows())
    # python-evtx converts the FILETIME through a float: allow a few microseconds.
    joined = a.join(b, on="record_id", suffix="_p")
    assert joined.height == a.height == 17
    assert joined.select(((pl.col("time") - pl.col("time_p")).abs() <= timedelta(microseconds=5)).all()).item()


@pytest.mark.skipif(not HAS_PYTHON_EVTX, reason="python-evtx not installed")
def test_python_evtx_engine_isolates_record_errors() -> None:
    events, errors = read_evtx(sample("pyevtx-tests-dns_log_malformed.evtx"), "python-evtx")
    assert events.height == 1  # SOURCES.md: python-evtx renders 1 of 5
    assert sum(e["kind"] == "record" for e in errors) == 4


def test_truncated_file_gives_error_rows(tmp_path: Path) -> None:
    data = sample(APP)
    events, errors = read_evtx(data[:100_000])
    assert 0 < events.height < 2216
    assert any(e["kind"] == "truncated" for e in errors)
    events, errors = read_evtx(data[:5000])
    assert events.height == 0 and any(e["kind"] == "truncated" for e in errors)
    events, errors = read_evtx(data[:100])
    assert events.height == 0 and errors


def test_zeroed_chunk_gives_error_rows(tmp_path: Path) -> None:
    data = bytearray(sample(APP))
    data[4096 : 4096 + 65536] = bytes(65536)
    path = tmp_path / "zeroed.evtx"
    path.write_bytes(bytes(data))
    events, errors = read_evtx(path.read_bytes())
    assert 0 < events.height < 2216
    assert any(e["kind"] == "chunk" and "chunk(s) 0 " in e["detail"] for e in errors)


def test_not_evtx_named_evtx_never_raises_anything_but_ingest_error(tmp_path: Path) -> None:
    junk = b"this is not an event log\n" * 200
    events, errors = read_evtx(junk)
    assert events.height == 0 and errors[0]["kind"] == "parse"
    with pytest.raises(IngestError):
        SPEC.parse(SourceFile("Logs/Application.evtx", "Logs/Application.evtx", junk))
    # Through the whole ingest path: an ingest-error row, and the good file still loads.
    (tmp_path / "Application.evtx").write_bytes(junk)
    (tmp_path / "System.evtx").write_bytes(sample("evtxrs-Application_no_crc32.evtx"))
    bundle = logscan.load(tmp_path)
    assert bundle.events.filter(pl.col("source") == "evtx").height == 17
    bad = bundle.ingest_errors.filter(pl.col("file").str.ends_with("Application.evtx"))
    assert bad.height >= 1 and bad["kind"][0] == "parse"


def test_spec_claims_evtx_by_name_and_by_magic() -> None:
    assert spec_for("Windows/System32/winevt/Logs/Application.evtx") is SPEC
    assert SPEC.sniff is not None and SPEC.sniff(b"ElfFile\0" + bytes(100))
    assert not SPEC.sniff(b"<Events>")
    assert spec_for("logs/renamed.bin.xml", b"ElfFile\0" + bytes(100)) is SPEC


def test_parse_uses_the_engine_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENGINE_ENV, "nonsense")
    assert default_engine() == "auto"
    monkeypatch.setenv(ENGINE_ENV, "python-evtx")
    assert default_engine() == "python-evtx"
    data = sample("evtxrs-Application_no_crc32.evtx")
    if HAS_PYTHON_EVTX:
        parsed = SPEC.parse(SourceFile("a/Application.evtx", "a/Application.evtx", data))
        assert parsed.events.height == 17
        # python-evtx writes times as "2021-03-31 23:51:45.018767+00:00"
        assert parsed.events["time_raw"].str.contains(r"\+00:00$").all()
        assert parsed.events["source"].unique().to_list() == ["evtx"]
    events, errors = read_evtx(data, "bogus")
    assert events.height == 0 and errors[0]["kind"] == "config"
