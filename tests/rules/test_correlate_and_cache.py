"""The correlation engine over literal events, its load errors, and the startup cache."""

from __future__ import annotations

import json
import os

import polars as pl
import pytest

from logscan.errors import SignatureError
from logscan.frames import events_from_records
from logscan.io import cache
from logscan.rules import loader
from logscan.rules.checks import HIT_SCHEMA
from logscan.rules.correlate import correlate, load_correlations, parse_correlations
from logscan.rules.signatures import load_signatures

RID = "EFC65F51-657F-11E6-8EB4-000C290D8D3A"


def _hit(file: str, line: int) -> pl.DataFrame:
    return pl.DataFrame([{"signature": "crash", "cause": "antivirus-blocking", "weight": 0.8, "file": file, "line": line,
                          "time": None, "source": "evtx", "text": "t", "note": None}], schema=HIT_SCHEMA)


def _events(crash_data, wer_data, wer_message: str = "") -> pl.DataFrame:
    return events_from_records([
        {"source": "evtx", "file": "app.evtx", "line": 1, "provider": "Application Error", "event_id": 1000, "data": crash_data, "message": ""},
        {"source": "evtx", "file": "app.evtx", "line": 2, "provider": "Windows Error Reporting", "event_id": 1001,
         "data": wer_data, "message": wer_message, "text": "wer record"},
        {"source": "evtx", "file": "app.evtx", "line": 3, "provider": "Windows Error Reporting", "event_id": 1001,
         "data": [{"name": "ReportId", "value": "00000000-0000-0000-0000-000000000000"}], "message": ""},
    ])


def test_links_by_named_data_and_adds_weightless_evidence():
    ev = _events([{"name": "IntegratorReportId", "value": RID}], [{"name": "ReportId", "value": RID.lower()}])
    out = correlate(_hit("app.evtx", 1), ev)
    added = out.filter(pl.col("signature") == "crash+wer")
    assert added.select("line", "weight", "cause", "text").rows() == [(2, 0.0, "antivirus-blocking", "wer record")]


def test_links_by_position_when_items_are_unnamed_and_by_rendered_message():
    crash = [{"name": str(i), "value": RID if i == 12 else "x"} for i in range(13)]
    ev = _events(crash, [], wer_message=f"Fault bucket, type 0\nReport Id: {RID}\n")
    assert correlate(_hit("app.evtx", 1), ev).filter(pl.col("signature") == "crash+wer")["line"].to_list() == [2]


def test_no_link_for_other_ids_or_hits_on_other_lines():
    ev = _events([{"name": "IntegratorReportId", "value": RID}], [{"name": "ReportId", "value": "not-a-guid"}])
    assert correlate(_hit("app.evtx", 1), ev).height == 1
    ev = _events([{"name": "IntegratorReportId", "value": RID}], [{"name": "ReportId", "value": RID}])
    assert correlate(_hit("app.evtx", 9), ev).height == 1


def test_the_shipped_correlation_names_fields_and_positions():
    (c,) = load_correlations()
    assert c.first.key.names == ("IntegratorReportId", "ReportId") and c.first.key.position == 12
    assert c.then.key.names == ("ReportId",) and c.then.key.position == 19


CORR = """\
- id: x
  title: t
  from: {where: {provider: A, event_id: 1}, key: {data: [K]}}
  to: {where: {provider: B, event_id: 2}, key: {data: [K]}}
  value: "[0-9]+"
  suffix: "+x"
  weight: 0
  note: n
  source: doc@1
"""


@pytest.mark.parametrize(
    ("change", "fragment", "line", "col"),
    [
        (("{provider: B,", "{providr: B,"), "unknown event field 'providr' (did you mean 'provider'?)", 4, 16),
        (("event_id: 2}", "event_id: two}"), "event_id is a whole number", 4, 39),
        (("key: {data: [K]}}\n  value", "key: {dta: [K]}}\n  value"), "unknown key rule 'dta'", 4, 49),
        (("  weight: 0\n", "  weigth: 0\n"), "unknown correlation key 'weigth'", 7, 3),
    ],
)
def test_correlation_load_errors_carry_file_line_col(change, fragment, line, col):
    assert parse_correlations(CORR, "c.yaml")[0].id == "x"
    with pytest.raises(SignatureError) as exc:
        parse_correlations(CORR.replace(*change), "c.yaml")
    assert fragment in str(exc.value)
    assert (exc.value.line, exc.value.col) == (line, col)


SIG = """\
title: t
id: cached-one
level: high
causes: [{cause}]
logsource: {{sources: [waagent_log]}}
condition: '"boom"'
tests: {{match: [boom], nomatch: [calm]}}
"""


def _entries() -> list[str]:
    return sorted(p.name for p in cache.cache_dir().glob("signatures-*.json"))


def test_cache_is_written_reused_and_invalidated_when_a_file_changes(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(SIG.format(cause="agent-not-running"))
    first = load_signatures([tmp_path])
    assert len(_entries()) == 1
    loader._load.cache_clear()
    assert load_signatures([tmp_path]) == first  # rebuilt from the JSON entry
    f.write_text(SIG.format(cause="agent-crash-loop"))  # same size class, new content
    loader._load.cache_clear()
    assert load_signatures([tmp_path])[0].causes == ("agent-crash-loop",)
    assert len(_entries()) == 2


def test_cache_entry_for_a_bad_file_is_never_written_and_errors_still_point_at_it(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(SIG.format(cause="no-such-cause"))
    with pytest.raises(SignatureError, match=r"s\.yaml:4:10: unknown cause id 'no-such-cause'"):
        load_signatures([tmp_path])
    assert _entries() == []


def test_a_corrupt_or_foreign_entry_is_ignored(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(SIG.format(cause="agent-not-running"))
    good = load_signatures([tmp_path])
    (entry,) = cache.cache_dir().glob("signatures-*.json")
    doc = json.loads(entry.read_text())
    doc["value"] = {"$": "os.system", "fields": {"command": "true"}}  # not an allowed class
    entry.write_text(json.dumps(doc))
    loader._load.cache_clear()
    assert load_signatures([tmp_path]) == good
    entry.write_text("{not json")
    loader._load.cache_clear()
    assert load_signatures([tmp_path]) == good


def test_no_cache_when_disabled_or_unwritable(tmp_path, monkeypatch):
    monkeypatch.setenv("LOGSCAN_NO_CACHE", "1")
    assert cache.cache_dir() is None
    monkeypatch.delenv("LOGSCAN_NO_CACHE")
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("LOGSCAN_CACHE_DIR", str(blocker / "sub"))  # cannot be created
    assert cache.cached("k", "0" * 64, lambda: (1, 2), cache.encode, lambda v: cache.decode(v, {})) == (1, 2)
    assert not os.path.exists(blocker / "sub")


def test_codec_round_trips_and_refuses_unknown_classes():
    from datetime import date, datetime, timezone

    value = {"a": (1, 2.5, None), 3: [date(2024, 5, 30), datetime(2024, 5, 30, tzinfo=timezone.utc)]}
    assert cache.decode(json.loads(json.dumps(cache.encode(value))), {}) == value
    with pytest.raises(KeyError):
        cache.decode({"$": "Evil", "fields": {}}, {})
