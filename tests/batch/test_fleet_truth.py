"""Issue #14, fleet side: jobs files, retries, identity, several VMs in one folder, CSV tables,
benign lines, the interrupted summary and the fleet-wide time pattern."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from test_batch import CONF_DISABLED, CONF_OK, _files, _folder, build_good, scan_with_faults

from logscan.errors import LogscanError
from logscan.facts import decide
from logscan.fleet.batch import (
    STATUS_OK,
    STATUS_TIMED_OUT,
    build_summary,
    render_markdown,
    run_batch,
    unexplained_lines,
)
from logscan.fleet.inputs import InputError, collect
from logscan.fleet.read import read_batch
from logscan.fleet.timepattern import time_patterns
from logscan.sources.ingest import load

ROOT = Path(__file__).resolve().parents[2]
CODE = "UserErrorGuestAgentStatusUnavailable"


def test_missing_path_and_empty_glob_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such bundle"):
        collect([str(tmp_path / "nope")])
    with pytest.raises(InputError, match="matches nothing"):
        collect([str(tmp_path / "*.zip")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no bundle"):
        collect([str(tmp_path / "empty")])


def test_jobs_file_gives_each_vm_its_own_code_and_time(tmp_path):
    build_good(tmp_path / "b")
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(
        "bundle,error_code,at\n"
        f"b/ext-disabled,{CODE},2024-05-30T10:10:00Z\n"
        f"b/ext-disabled,{CODE},2024-05-30T10:20:00Z\n"  # a later failure of the same VM wins
        "b/fsfreeze.zip,,\n"
    )
    paths, _per = collect([str(jobs)])
    assert [Path(p).name for p in paths] == ["ext-disabled", "fsfreeze.zip"]
    run_batch([str(jobs)], tmp_path / "out", jobs=1, progress=False)
    vms = {r["vm"]: r for r in read_batch(tmp_path / "out").vms.iter_rows(named=True)}
    assert set(vms) == {"ext-disabled", "fsfreeze"}
    assert vms["ext-disabled"]["error_code"] == CODE and vms["ext-disabled"]["failed_at"] == "2024-05-30T10:20:00Z"
    assert vms["fsfreeze"]["error_code"] is None and vms["fsfreeze"]["failed_at"] is None
    s = read_batch(tmp_path / "out").summary
    assert s["error_codes_given"] == [{"error_code": CODE, "vms": 1, "vm_list": ["ext-disabled"]}]


def test_jobs_file_with_an_unknown_code_or_no_bundle_column_is_refused(tmp_path):
    build_good(tmp_path / "b")
    (tmp_path / "bad.csv").write_text("bundle,error_code\nb/ext-disabled,NoSuchCode\n")
    with pytest.raises(LogscanError, match="NoSuchCode"):
        run_batch([str(tmp_path / "bad.csv")], tmp_path / "out", progress=False)
    (tmp_path / "nocol.csv").write_text("path\nb/ext-disabled\n")
    with pytest.raises(InputError, match="'bundle' column"):
        collect([str(tmp_path / "nocol.csv")])


def test_timed_out_bundles_are_retried_unless_skip_failed(tmp_path):
    b = tmp_path / "b"
    build_good(b)
    _folder(b, "hang", _files(CONF_OK))
    out = tmp_path / "out"
    first = run_batch([str(b)], out, jobs=2, timeout=15, progress=False, _scan=scan_with_faults)
    status = dict(read_batch(out).vms.select("vm", "status").iter_rows())
    assert status["hang"] == STATUS_TIMED_OUT
    not_ok = sum(1 for s in status.values() if s != STATUS_OK)  # a loaded machine may time out more
    skipped = run_batch([str(b)], out, jobs=1, progress=False, skip_failed=True)
    assert (skipped.scanned, skipped.skipped) == (0, 4)
    retried = run_batch([str(b)], out, jobs=1, timeout=None, progress=False)
    assert (retried.scanned, retried.skipped) == (not_ok, 4 - not_ok)
    assert retried.summary["status"] == {"ok": 4, "failed": 0, "timed-out": 0}
    assert first.summary["status"][STATUS_TIMED_OUT] >= 1


@pytest.mark.parametrize("sample", ["linux-healthy", "win-healthy"])
def test_identity_columns_come_from_the_facts_layer(tmp_path, sample):
    path = ROOT / "samples" / sample
    if not path.is_dir():
        pytest.skip("sample absent")
    run_batch([str(path)], tmp_path / "out", jobs=1, progress=False)
    row = read_batch(tmp_path / "out").vms.row(0, named=True)
    facts = decide(load(path))
    ident = facts.identity
    assert (row["hostname"], row["vm_id"], row["computer"]) == (ident.hostname, ident.vm_id, ident.computer)
    assert (row["os"], row["os_version"], row["platform"]) == (ident.os_name, ident.os_version, ident.platform)
    assert row["agent_version"] == facts.agent.version and row["agent_version"]
    if sample.startswith("win"):
        assert row["computer"] or row["vm_id"] or row["hostname"]


def test_a_folder_with_linux_and_windows_files_is_flagged_not_merged_silently(tmp_path):
    win = ROOT / "samples" / "win-healthy"
    if not win.is_dir():
        pytest.skip("sample absent")
    mixed = tmp_path / "fleet" / "mixed"
    _folder(tmp_path / "fleet", "mixed", _files(CONF_DISABLED))
    shutil.copytree(win / "WindowsAzure", mixed / "WindowsAzure")
    build_good(tmp_path / "fleet")
    run_batch([str(tmp_path / "fleet")], tmp_path / "out", jobs=1, progress=False)
    fleet = read_batch(tmp_path / "out")
    flags = dict(fleet.vms.select("vm", "several_vms").iter_rows())
    assert "Linux and Windows" in flags["mixed"]
    assert all(flags[v] is None for v in ("ext-disabled", "fsfreeze", "healthy"))
    note = fleet.ingest_errors.filter(pl.col("kind") == "several-vms")
    assert note["vm"].to_list() == ["mixed"]
    assert [r["vm"] for r in fleet.summary["several_vms"]] == ["mixed"]
    assert "several VMs" in (tmp_path / "out" / "summary.md").read_text()


def test_csv_tables_written_on_request(tmp_path):
    build_good(tmp_path / "b")
    run_batch([str(tmp_path / "b")], tmp_path / "out", jobs=1, progress=False, fmt="csv")
    vms = pl.read_csv(tmp_path / "out" / "vms.csv")
    assert vms.height == 3 and {"vm", "hostname", "vm_id", "computer", "agent_version"} <= set(vms.columns)
    findings = pl.read_csv(tmp_path / "out" / "findings.csv")
    assert findings["evidence"].str.starts_with("[").all()
    assert (tmp_path / "out" / "vms.parquet").exists()


def test_known_benign_lines_are_not_unexplained():
    ev = pl.DataFrame(
        {
            "file": ["a", "a"],
            "line": [1, 2],
            "level": ["WARNING", "ERROR"],
            "source": ["waagent_log"] * 2,
            "message": ["Dhcp client is not running.", "odd thing"],
            "text": [None, None],
        }
    )
    assert unexplained_lines(ev)["message"].to_list() == ["odd thing"]


def _vms(times: dict[str, str | None], cause: str = "wireserver-blocked") -> pl.DataFrame:
    return pl.DataFrame(
        {"vm": list(times), "status": [STATUS_OK] * len(times), "top_cause": [cause] * len(times), "cause_time": list(times.values())}
    )


def test_time_pattern_found_when_many_vms_fail_together():
    t0 = datetime(2024, 5, 30, 13, 0, tzinfo=timezone.utc)
    iso = lambda m: (t0 + timedelta(minutes=m)).isoformat().replace("+00:00", "Z")  # noqa: E731
    vms = _vms({"a": iso(0), "b": iso(12), "c": iso(25), "d": iso(40), "e": iso(60 * 24 * 3)})
    (p,) = time_patterns(vms)
    assert (p["cause"], p["vms"], p["of"]) == ("wireserver-blocked", 4, 5)
    assert p["vm_list"] == ["a", "b", "c", "d"] and p["start"] == iso(0) and p["end"] == iso(40)


def test_time_pattern_absent_when_failures_are_spread_out():
    t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
    vms = _vms({v: (t0 + timedelta(days=i)).isoformat() for i, v in enumerate("abcdef")} | {"g": None})
    assert time_patterns(vms) == []
    vms = pl.concat([vms, pl.DataFrame({"vm": ["x"], "status": ["ok"], "top_cause": [None], "cause_time": [None]}, schema=vms.schema)])
    assert time_patterns(vms) == []


def test_interrupted_summary_counts_what_was_not_done(tmp_path):
    build_good(tmp_path / "b")
    run = run_batch([str(tmp_path / "b")], tmp_path / "out", jobs=1, progress=False)
    fleet = read_batch(tmp_path / "out")
    s = build_summary(fleet.vms, read_batch(tmp_path / "out").findings, fleet.unexplained, not_done=5)
    md = render_markdown(s)
    assert "8 VMs: 3 scanned" in md and "5 not done" in md
    assert run.summary["not_done"] == 0 and "not done" not in (tmp_path / "out" / "summary.md").read_text()
