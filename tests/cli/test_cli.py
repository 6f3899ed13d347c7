"""Issue #14, command line: exit codes, streams, output formats, timeline windows, --signatures."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logscan.cli import app
from logscan.cli.common import captured_warnings, fail_on, finding_matches

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "linux-dhcp-disabled"
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason="sample absent")
ENV = {"COLUMNS": "100", "NO_COLOR": "1"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


def test_version_and_short_help():
    r = run("--version")
    assert r.exit_code == 0 and r.output.startswith("logscan ")
    h = run("-h")
    assert h.exit_code == 0 and "batch" in h.output and "timeline" in h.output
    assert "--install-completion" in h.output


def test_fail_on_reads_confidence_and_derives_nothing():
    findings = [{"cause": "a", "status": "evidence", "confidence": "likely"}, {"cause": "b", "status": "evidence"}]
    assert fail_on(findings, None) == 0
    assert fail_on(findings, "confirmed") == 0
    assert fail_on(findings, "likely") == 1 and fail_on(findings, "possible") == 1
    assert not finding_matches({"status": "evidence"}, "possible")  # no confidence stated: no match


def test_library_warnings_become_notes():
    with captured_warnings() as notes:
        warnings.warn("Skipping EVTX data", RuntimeWarning, stacklevel=1)
    assert notes == ["RuntimeWarning: Skipping EVTX data"]


@needs_sample
def test_scan_output_extension_stdout_and_bad_folder(tmp_path):
    r = run("scan", str(SAMPLE), "-o", str(tmp_path / "r.json"))
    assert r.exit_code == 0, r.output
    assert "logscan" in json.loads((tmp_path / "r.json").read_text())  # JSON, not the box-drawn table
    r = run("scan", str(SAMPLE), "-f", "json", "-o", "-")
    assert r.exit_code == 0 and r.stdout.lstrip().startswith("{") and not Path("-").exists()
    r = run("scan", str(SAMPLE), "-f", "json", "-o", str(tmp_path / "missing" / "r.json"))
    assert r.exit_code == 2 and "no such folder" in r.output and "Traceback" not in r.output


@needs_sample
def test_timeline_validation_lists_valid_names(tmp_path):
    r = run("timeline", str(SAMPLE), "--level", "nosuch")
    assert r.exit_code == 2 and "WARNING" in r.output and "ERROR" in r.output
    r = run("timeline", str(SAMPLE), "--source", "nosuch")
    assert r.exit_code == 2 and "waagent_log" in r.output
    r = run("timeline", str(SAMPLE), "-f", "csv", "-o", str(tmp_path / "missing" / "t.csv"))
    assert r.exit_code == 2 and "Traceback" not in r.output


@needs_sample
def test_timeline_levels_windows_and_counts(tmp_path):
    def events(*args: str) -> list[dict]:
        r = run("timeline", str(SAMPLE), "-f", "json", *args)
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)["events"]

    every = events()
    warn = events("--level", "WARN")
    assert warn and {e["level"] for e in warn} == {"WARNING"}
    assert {e["level"] for e in events("--min-level", "WARNING")} <= {"WARNING", "ERROR", "CRITICAL"}
    assert events("--last", "3") == every[-3:] and events("--first", "2") == every[:2]
    errors = [e for e in every if e["level"] == "ERROR"]
    centre = errors[-1]["time"]
    near = events("--around", centre, "--window", "1m")
    assert near and all(abs(_t(e["time"]) - _t(centre)) <= 60 for e in near)
    assert len(near) < len(every)
    # the table centres on the latest ERROR by default, and says so
    t = run("timeline", str(SAMPLE))
    assert t.exit_code == 0 and "the latest ERROR" in t.output


def _t(s: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def test_batch_input_errors_exit_2(tmp_path):
    r = run("batch", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert r.exit_code == 2 and "no such bundle" in r.output
    r = run("batch", str(tmp_path / "*.zip"), "--out", str(tmp_path / "o"))
    assert r.exit_code == 2 and "matches nothing" in r.output


TEAM_SIG = """\
- title: Frobnicator exploded (team signature)
  id: team-frobnicator
  status: experimental
  level: high
  description: A team's own signature for a line the shipped set does not know.
  tags: [linux]
  logsource: {sources: [waagent_log]}
  causes: [agent-not-running]
  condition: message contains "Frobnicator"
  tests:
    match:
      - '2024-05-30T10:06:00.000001Z ERROR ExtHandler ExtHandler Frobnicator 17 exploded'
    nomatch:
      - '2024-05-30T10:06:00.000001Z ERROR ExtHandler ExtHandler all fine'
"""


def test_signatures_dir_adds_a_teams_signatures_and_is_validated(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "batch"))
    from test_batch import build_good

    build_good(tmp_path / "b")
    team = tmp_path / "team"
    team.mkdir()
    (team / "frob.yaml").write_text(TEAM_SIG)
    r = run("batch", str(tmp_path / "b"), "--out", str(tmp_path / "o"), "--jobs", "1", "--signatures", str(team), "--quiet")
    assert r.exit_code == 0, r.output
    from logscan.fleet.read import read_batch

    sigs = read_batch(tmp_path / "o").findings.explode("signatures")["signatures"].to_list()
    assert "team-frobnicator" in sigs
    r = run("scan", str(tmp_path / "b" / "ext-disabled"), "-f", "json", "--signatures", str(team))
    assert r.exit_code == 0 and "team-frobnicator" in r.stdout
    (team / "bad.yaml").write_text("- title: broken\n  id: x\n")
    r = run("batch", str(tmp_path / "b"), "--out", str(tmp_path / "o2"), "--signatures", str(team))
    assert r.exit_code == 2 and "Traceback" not in r.output
