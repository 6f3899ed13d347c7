"""The Windows signature families (logscan/signatures/windows/) beyond their own examples.

tests/signatures/test_signature_set.py already runs every shipped signature's examples. Here:
event signatures are keyed on provider AND event id (id 1000 is shared by LoadPerf, VMware
Tools, ...), they stay quiet on real benign logs and fire exactly where an independent scan of
the real System logs says they should, and diagnosis links WER 1001 reports to their
Application Error 1000 by report id.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan import diagnosis as diag
from logscan.diagnosis.correlate import link_wer
from logscan.frames import events_from_records
from logscan.rules.checks import HIT_SCHEMA
from logscan.rules.language import fields_of
from logscan.rules.signatures import PACKAGE_DIR, Example, evaluate, example_events, load_signatures

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "evtx-samples"
SAMPLES = REPO / "samples"
WINDOWS_DIR = PACKAGE_DIR / "windows"

ALL = load_signatures()
WINDOWS = [s for s in ALL if Path(s.path).parent == WINDOWS_DIR]
BY_ID = {s.id: s for s in ALL}
EVENT_SIGS = [s for s in WINDOWS if {"provider", "event_id"} <= fields_of(s.tree)]


def _evtx(name: str) -> pl.DataFrame:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    from logscan.sources.evtx import read_evtx

    events, _ = read_evtx(path.read_bytes())
    return events.with_columns(source=pl.lit("evtx"), file=pl.lit(name))


def test_the_windows_families_are_shipped() -> None:
    files = {Path(s.path).name for s in WINDOWS}
    assert {"agent.yaml", "extension.yaml", "network.yaml", "vss.yaml", "complus.yaml", "shutdown.yaml"} <= files
    causes = {c for s in WINDOWS for c in s.causes}
    issue = {
        "antivirus-blocking", "app-control-blocking", "win-agent-unresponsive", "wireserver-blocked", "dhcp-disabled",
        "vss-writer-failure", "vss-service-bad-state", "complus-msdtc", "bitlocker-locked", "vcredist-install-failed",
        "tls-channel-failure", "guest-shutdown",
    }
    assert issue <= causes, sorted(issue - causes)


@pytest.mark.parametrize("sig_id", sorted(s.id for s in EVENT_SIGS))
@pytest.mark.parametrize(("field", "value"), [("provider", "Microsoft-Windows-LoadPerf"), ("provider", "VMware Tools"), ("event_id", 1)])
def test_event_signatures_need_provider_and_id(sig_id: str, field: str, value: object) -> None:
    """Every match example of an event signature stops matching when only the provider (or only
    the id) is swapped for another one: the message text alone never decides."""
    sig = BY_ID[sig_id]
    examples = [ex for ex in sig.tests if ex.expect == "match" and ex.events]
    assert examples, f"{sig_id}: an event signature needs an events example"
    for ex in examples:
        assert evaluate([sig], example_events(sig, ex)).height > 0  # the unmodified example hits
        rows = tuple({**r, field: value} for r in ex.events)
        changed = dataclasses.replace(ex, events=rows)
        hits = evaluate([sig], example_events(sig, changed))
        assert hits.height == 0, f"{sig_id} still hits with {field}={value!r}"


@pytest.mark.parametrize("provider", ["Microsoft-Windows-LoadPerf", "VMware Tools", "Interactive Services detection"])
def test_event_1000_of_other_providers_never_hits(provider: str) -> None:
    rows = (
        {"provider": provider, "event_id": 1000, "level": "ERROR", "message": "IaaSBcdrExtension.exe crashed; WindowsAzureGuestAgent.exe"},
        {"provider": provider, "event_id": 1026, "level": "ERROR", "message": "Application: WindowsAzureGuestAgent.exe"},
    )
    ex = Example("nomatch", 0, source="evtx", events=rows)
    hits = evaluate(ALL, example_events(WINDOWS[0], ex))
    assert hits.height == 0, hits.select("signature", "text").rows()
    # The same rows from the right provider do hit: the test above is not vacuous.
    good = Example("match", 0, source="evtx", events=tuple({**r, "provider": p} for r, p in zip(rows, ["Application Error", ".NET Runtime"], strict=True)))
    ids = set(evaluate(ALL, example_events(WINDOWS[0], good))["signature"])
    assert {"win-iaasbcdr-application-error", "win-agent-application-error", "win-agent-dotnet-crash"} <= ids


def test_deepbluecli_application_log_gives_no_backup_findings() -> None:
    """A real Windows 7 Application log: 136 events 1000 (one Application Error, for rundll32.exe),
    VSS/COM+/MSDTC informational events. None of it is a backup problem."""
    ev = _evtx("deepbluecli-many-events-application.evtx")
    crashes = ev.filter((pl.col("provider") == "Application Error") & (pl.col("event_id") == 1000))
    assert crashes.height >= 1 and crashes["message"].str.contains("rundll32.exe").all()
    assert ev.filter(pl.col("event_id") == 1000).height > crashes.height  # other providers share the id
    hits = evaluate(WINDOWS, ev)
    assert "win-iaasbcdr-application-error" not in set(hits["signature"])
    assert hits.height == 0, hits.group_by("signature").len().rows()


def test_system_logs_shutdown_hits_match_an_independent_count() -> None:
    """On the real System logs, the guest-shutdown signatures hit exactly the events a plain
    Python scan of the records finds (USER32/User32 1074 power off, EventLog 6008, Kernel-Power 41)."""
    for name in ("pyevtx-tests-system.evtx", "evtxrs-sample-with-zero-data-size-event.evtx"):
        ev = _evtx(name)
        rows = ev.select("provider", "event_id", "message").rows()
        power_off = sum(1 for p, i, m in rows if (p or "").lower() == "user32" and i == 1074 and "power off" in (m or "").lower())
        unexpected = sum(
            1 for p, i, _ in rows if (p, i) in (("EventLog", 6008), ("Microsoft-Windows-Kernel-Power", 41))
        )
        hits = evaluate([BY_ID["win-guest-power-off"], BY_ID["win-unexpected-shutdown"]], ev)
        counts = dict(hits.group_by("signature").len().rows())
        assert counts.get("win-guest-power-off", 0) == power_off, name
        assert counts.get("win-unexpected-shutdown", 0) == unexpected, name
        assert power_off + unexpected > 0 or name != "pyevtx-tests-system.evtx"


def _hit_on(row: dict, signature: str = "sig", cause: str = "antivirus-blocking") -> pl.DataFrame:
    return pl.DataFrame(
        [{"signature": signature, "cause": cause, "weight": 0.8, "file": row["file"], "line": row["line"], "time": row["time"], "source": row["source"], "text": "t"}],
        schema=HIT_SCHEMA,
    )


def test_link_wer_on_the_real_log() -> None:
    """The rundll32 crash's report id appears in exactly the WER 1001 records link_wer adds."""
    ev = _evtx("deepbluecli-many-events-application.evtx")
    crash = ev.filter((pl.col("provider") == "Application Error") & (pl.col("event_id") == 1000)).row(0, named=True)
    report_id = crash["data"][12]["value"]
    expected = {
        r["line"]
        for r in ev.filter((pl.col("provider") == "Windows Error Reporting") & (pl.col("event_id") == 1001)).iter_rows(named=True)
        if any(d["value"] == report_id for d in r["data"])
    }
    assert expected  # the sample holds the crash's WER reports
    out = link_wer(_hit_on(crash), ev)
    added = out.filter(pl.col("signature") == "sig+wer")
    assert set(added["line"]) == expected
    assert (added["weight"] == 0).all() and (added["cause"] == "antivirus-blocking").all()
    assert out.height == 1 + len(expected)


def test_link_wer_by_named_data_and_rendered_text() -> None:
    gid = "4D2F6A1E-8C3B-4E97-B5A0-71C9E2D8F346"
    rows = [
        {"source": "evtx", "file": "a.evtx", "line": 1, "provider": "Application Error", "event_id": 1000,
         "data": [{"name": "AppName", "value": "IaaSBcdrExtension.exe"}, {"name": "IntegratorReportId", "value": gid}], "message": "m"},
        {"source": "evtx", "file": "a.evtx", "line": 2, "provider": "Windows Error Reporting", "event_id": 1001,
         "data": [{"name": "EventName", "value": "APPCRASH"}, {"name": "ReportId", "value": gid.lower()}], "message": "w"},
        {"source": "evtx", "file": "a.evtx", "line": 3, "provider": "Windows Error Reporting", "event_id": 1001,
         "data": [{"name": "ReportId", "value": "00000000-0000-0000-0000-000000000001"}], "message": "other"},
        {"source": "evtx", "file": "a.evtx", "line": 4, "provider": "Microsoft-Windows-LoadPerf", "event_id": 1001,
         "data": [{"name": "ReportId", "value": gid}], "message": "same id, wrong provider"},
        {"source": "event_export", "file": "b.csv", "line": 7, "provider": "Windows Error Reporting", "event_id": 1001,
         "data": [], "message": f"Fault bucket , type 0\nReport Id: {gid.lower()}\nReport Status: 4"},
    ]
    ev = events_from_records(rows)
    out = link_wer(_hit_on(ev.row(0, named=True)), ev)
    assert sorted(out.filter(pl.col("signature") == "sig+wer")["line"]) == [2, 7]
    # A hit that is not on an Application Error 1000 links nothing.
    assert link_wer(_hit_on(ev.row(1, named=True)), ev).height == 1


def test_wer_evidence_in_a_diagnosis_does_not_change_the_score(monkeypatch: pytest.MonkeyPatch) -> None:
    sample = SAMPLES / "win-antivirus-blocking"
    if not sample.is_dir():
        pytest.skip("sample absent")
    bundle = logscan.load(sample)
    with_link = diag.diagnose(bundle)
    top = with_link.findings[0]
    assert top.cause == "antivirus-blocking"
    wer = [e for e in top.evidence if (e.signature or "").endswith("+wer")]
    assert wer and all("Windows Error Reporting" in e.text for e in wer)
    monkeypatch.setattr("logscan.diagnosis.hits.link_wer", lambda hits, events: hits)
    without = diag.diagnose(bundle).findings[0]
    assert without.cause == top.cause and without.score == pytest.approx(top.score)
    assert without.hits == top.hits
    assert not any((e.signature or "").endswith("+wer") for e in without.evidence)
