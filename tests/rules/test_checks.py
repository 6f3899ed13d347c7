"""Each check kind, matching and not matching, over small literal bundles; load-time errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

from logscan.errors import SignatureError
from logscan.frames import events_from_records, facts_from_records
from logscan.rules.checks import conf_notes, load_checks, run_checks
from logscan.rules.checks.loader import parse_checks
from logscan.rules.validate import cause_ids, source_names

from ._support import Bundle

T0 = datetime(2024, 5, 30, 13, 0, tzinfo=timezone.utc)
BY_ID = {c.id: c for c in load_checks()}




def fact(subject: str, key: str, value: str | None, line: int = 1, source: str = "waagent_conf", t=None) -> dict:
    return {"source": source, "file": "f", "line": line, "time": t, "subject": subject, "key": key, "value": value}


def run(check_id: str, facts: list[dict], events: list[dict] | None = None, platform: str = "linux", at=None) -> pl.DataFrame:
    b = Bundle(facts_from_records(facts), events_from_records(events or []), coverage={"platform": platform})
    return run_checks(b, at, [BY_ID[check_id]])


def test_config_value_matches_the_last_assignment_and_reports_the_misspelt_key():
    hits = run("conf-extensions-disabled", [
        fact("conf", "Extensions.Enabled", "y", 1), fact("conf", "Extensions.Enable", "y", 2), fact("conf", "Extensions.Enabled", "N", 3),
    ])
    assert hits.select("line", "weight", "cause").rows() == [(3, 0.9, "linux-agent-config"), (2, 0.3, "linux-agent-config")]
    assert "has no effect" in hits["note"][1]


def test_config_value_does_not_match_when_the_last_value_differs():
    assert run("conf-extensions-disabled", [fact("conf", "Extensions.Enabled", "n", 1), fact("conf", "Extensions.Enabled", "y", 2)]).height == 0
    assert run("conf-provisioning-agent", [fact("conf", "Provisioning.Agent", "auto")]).height == 0
    assert run("conf-provisioning-agent", [fact("conf", "Provisioning.Agent", "cloud-init")]).height == 1


@pytest.mark.parametrize(("version", "weight"), [("2.2.53", 0.45), ("2.1.7", 0.85), ("2.2.53.1", None), ("2.11.1.4", None)])
def test_linux_version_floor_is_2_2_53_1(version, weight):
    hits = run("agent-version-floor", [fact("agent", "goal_state_agent_version", version, source="waagent_log"),
                                       fact("conf", "AutoUpdate.Enabled", "n", 9)])
    if weight is None:
        assert hits.height == 0
    else:
        assert hits["weight"].to_list() == [weight, 0.4]  # and auto-update off beside it
        assert "2.2.53.1" in hits["note"][0]


@pytest.mark.parametrize(("version", "hit"), [("2.7.41491.1009", True), ("2.7.41491.1010", False), ("2.7.41491.1102", False)])
def test_windows_version_floor_is_2_7_41491_1010(version, hit):
    facts = [fact("agent", "version", version, source="win_aggregate_status")]
    assert run("win-agent-version-floor", facts, platform="windows").height == int(hit)
    assert run("win-agent-version-floor", facts, platform="linux").height == 0  # platform-scoped
    assert run("agent-version-floor", facts, platform="windows").height == 0


def test_version_floor_over_every_fact_row():
    hits = run("python-floor", [fact("agent", "python", "2.5.1", 1), fact("agent", "python", "3.6.8", 2)])
    assert hits["line"].to_list() == [1]


EXT = "extension:Microsoft.Azure.RecoveryServices.VMSnapshotLinux"


def test_status_code_specific_code_adds_the_umbrella_and_generic_code_weighs_less():
    hits = run("backup-extension-code", [fact(EXT, "status_code", "121", source="ext_status")])
    assert hits.select("cause", "weight").rows() == [("fs-freeze-failed", 0.9), ("vmsnapshot-extension-failed", 0.4)]
    assert hits["signature"].unique().to_list() == ["extension-status"]
    generic = run("backup-extension-code", [fact(EXT, "status_code", "2", source="ext_status")])
    assert generic.select("cause", "weight").rows() == [("vmsnapshot-extension-failed", 0.55)]


def test_status_code_no_match_for_success_or_other_extensions():
    assert run("backup-extension-code", [fact(EXT, "status_code", "1")]).height == 0
    assert run("backup-extension-code", [fact("extension:Other.Ext", "status_code", "121")]).height == 0


def test_status_code_gated_on_handler_status_uses_the_agent_table():
    facts = [fact("extension:A.B", "handler_status", "NotReady", 1), fact("extension:A.B", "handler_code", "1004", 2)]
    hits = run("extension-handler-not-ready", facts)
    assert hits.select("cause", "line").rows() == [("storage-unreachable", 1)]
    assert hits["note"][0] == "A.B handler NotReady, code 1004 (package download failed)"
    assert run("extension-handler-not-ready", [fact("extension:A.B", "handler_status", "Ready")]).height == 0


def test_extension_value_with_detail_and_filter():
    facts = [fact("extension:A.B", "status", "error", 1), fact("extension:A.B", "status_message", "disk full", 2)]
    hits = run("extension-status-error", facts)
    assert hits["note"].to_list() == ["A.B last status: error: disk full"]
    assert run("extension-status-error", [fact(EXT, "status", "error")]).height == 0  # the backup one: by code
    assert run("extension-status-error", [fact("extension:A.B", "status", "success")]).height == 0


def _log(hours_before_end: float, process: str = "ExtHandler") -> list[dict]:
    return [
        {"source": "waagent_log", "file": "waagent.log", "line": 1, "time": T0, "process": process, "message": "alive"},
        {"source": "syslog", "file": "syslog", "line": 1, "time": T0 + timedelta(hours=hours_before_end), "message": "x"},
    ]


def test_silence_matches_after_the_threshold_with_bands():
    hits = run("agent-log-silent", [], _log(7))
    assert hits["weight"].to_list() == [0.6, 0.0]
    assert "7.0 h before the newest event in other logs" in hits["note"][1]
    assert run("agent-log-silent", [], _log(50))["weight"][0] == 0.75


def test_silence_no_match_below_the_threshold_or_for_the_log_collector():
    assert run("agent-log-silent", [], _log(5)).height == 0
    assert run("agent-log-silent", [], _log(30, process="LogCollector")).height == 0


def test_source_presence_kind():
    (check,) = parse_checks(
        "- {id: no-conf, title: t, kind: source_presence, log: waagent_conf, present: false, cause: linux-agent-config,"
        " weight: 0.2, note: no conf, why: w, heuristic: true, reason: r}\n", "p.yaml", cause_ids(), source_names())
    empty = Bundle(facts_from_records([]), events_from_records(_log(1)))
    assert run_checks(empty, None, [check])["note"].to_list() == ["no conf"]
    present = Bundle(facts_from_records([]), events_from_records([{"source": "waagent_conf", "file": "c", "line": 1}]))
    assert run_checks(present, None, [check]).height == 0


def test_conf_notes_come_from_data():
    facts = facts_from_records([fact("conf", "Extensions.Enable", "n", 4), fact("conf", "Extensions.Enabled", "maybe", 5)])
    notes = conf_notes(facts)
    assert notes[0].startswith("f:4: `Extensions.Enable=n` is ignored")
    assert notes[1] == "f:5: `Extensions.Enabled=maybe` is not y or n, so the agent uses its default (y)."


GOOD = """\
- id: c1
  title: t
  kind: config_value
  key: K
  is: [n]
  cause: linux-agent-config
  weight: 0.5
  note: n
  why: w
  source: https://example.invalid/doc
"""


@pytest.mark.parametrize(
    ("change", "fragment", "line", "col"),
    [
        (("kind: config_value", "kind: config_valu"), "unknown check kind 'config_valu' (did you mean 'config_value'?)", 3, 9),
        (("cause: linux-agent-config", "cause: linux-agent-confg"), "unknown cause id 'linux-agent-confg'", 6, 10),
        (("weight: 0.5", "weight: 5"), "a weight is a number from 0 to 1", 7, 11),
        (("  is: [n]", "  iss: [n]"), "unknown key 'iss'", 5, 3),
        (("  source: https://example.invalid/doc\n", ""), "needs a source:", 1, 3),
        (("  note: n", "  note: '{nope}'"), "unknown field", 8, 9),
    ],
)
def test_load_errors_carry_file_line_col(change, fragment, line, col):
    assert parse_checks(GOOD, "c.yaml", cause_ids(), source_names())[0].id == "c1"
    with pytest.raises(SignatureError) as exc:
        parse_checks(GOOD.replace(*change), "c.yaml", cause_ids(), source_names())
    assert fragment in str(exc.value)
    assert (exc.value.file, exc.value.line, exc.value.col) == ("c.yaml", line, col)
    assert str(exc.value).startswith(f"c.yaml:{line}:{col}: ")


def test_unknown_source_and_bad_threshold_fail_at_load():
    silent = GOOD.replace("kind: config_value\n  key: K\n  is: [n]", "kind: silence\n  log: waagent_logg\n  threshold: 6h")
    with pytest.raises(SignatureError, match=r"c\.yaml:4:8: unknown source 'waagent_logg' \(did you mean 'waagent_log'\?\)"):
        parse_checks(silent, "c.yaml", cause_ids(), source_names())
    with pytest.raises(SignatureError, match=r"c\.yaml:5:14: not a duration"):
        parse_checks(silent.replace("waagent_logg", "waagent_log").replace("6h", "6 hours"), "c.yaml", cause_ids(), source_names())


def test_every_shipped_check_cites_a_source_or_is_a_reasoned_heuristic():
    for c in load_checks():
        assert c.source or (c.heuristic and c.reason), c.id
    assert BY_ID["agent-log-silent"].heuristic
    assert Path(BY_ID["agent-version-floor"].path).name == "agent-linux.yaml"
