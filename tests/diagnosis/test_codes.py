"""Error codes named inside the bundle become leads for their documented causes."""

from __future__ import annotations

from pathlib import Path

import logscan
from logscan.diagnosis.codes import code_hits
from logscan.frames import events_from_records
from logscan.knowledge import load_knowledge


def _events(*messages: str):
    return events_from_records(
        [{"source": "waagent_log", "file": "x.log", "line": i + 1, "message": m, "text": m, "level": "ERROR"} for i, m in enumerate(messages)]
    )


def test_single_cause_code_is_a_likely_lead() -> None:
    kb = load_knowledge()
    hits, seen = code_hits(_events("Backup failed: ExtensionSnapshotFailedCOM (snapshot failed due to COM+ error)"), kb)
    assert seen == ["ExtensionSnapshotFailedCOM"]
    assert hits["cause"].to_list() == ["complus-msdtc"] and hits["weight"][0] >= 0.5


def test_shared_code_gives_each_cause_a_weak_lead_and_no_false_token() -> None:
    kb = load_knowledge()
    hits, seen = code_hits(_events("job failed with UserErrorGuestAgentStatusUnavailable", "XUserErrorGuestAgentStatusUnavailableY"), kb)
    assert seen == ["UserErrorGuestAgentStatusUnavailable"]
    assert set(hits["cause"]) == set(kb.codes["UserErrorGuestAgentStatusUnavailable"].candidates)
    assert (hits["weight"] < 0.5).all() and hits["line"].unique().to_list() == [1]


def test_scan_lists_the_codes_seen(tmp_path: Path) -> None:
    log = tmp_path / "var/log/waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text("2024-05-30T13:00:00.000000Z ERROR ExtHandler ExtHandler backup job reported UserErrorFsFreezeFailed\n")
    r = logscan.scan(str(tmp_path))
    assert r.coverage["error_codes_seen"] == ["UserErrorFsFreezeFailed"]
