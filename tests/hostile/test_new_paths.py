"""Broken files through the paths this round added: the grep-first scan, a single file, stdin.

Each broken agent log sits beside the evidence of a known cause; the scan must not crash,
must report the broken file, must still find the cause, and the grep-first scan must say
exactly what the full parse says.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import logscan
from logscan.cli import app
from logscan.diagnosis import diagnose
from logscan.reports import json_report

from .conftest import AGENT_LOG, CAUSE

GOOD = AGENT_LOG.decode()

BROKEN: dict[str, tuple[str, bytes]] = {
    "empty": ("var/log/waagent.log.1", b""),
    "truncated-gzip": ("var/log/waagent.log.2.gz", gzip.compress((GOOD * 200).encode())[:-40]),
    "binary": ("var/log/waagent.log.1", bytes(range(256)) * 64),
    "utf16-no-bom": ("var/log/waagent.log.1", (GOOD * 3).encode("utf-16-le")),
    "nul-runs": ("var/log/waagent.log.1", GOOD.encode().replace(b"INFO", b"IN\x00\x00FO") * 3),
    "latin1-mixed": ("var/log/waagent.log.1", GOOD.encode() + "caf\xe9 ERROR \xff\xfe\n".encode("latin-1")),
    "one-huge-line": ("var/log/waagent.log.1", b"2024-05-30T13:14:00.000000Z ERROR ExtHandler " + b"A" * 3_000_000 + b"\n"),
}


def _json(report) -> dict:
    d = json.loads(json_report.render([report]))
    d.pop("generated", None)
    return d


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_grep_first_scan_meets_broken_files(tmp_path: Path, kind: str) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/waagent.conf").write_bytes(b"Extensions.Enabled=n\n")
    (tmp_path / "var/log").mkdir(parents=True)
    (tmp_path / "var/log/waagent.log").write_bytes(AGENT_LOG)
    name, data = BROKEN[kind]
    (tmp_path / name).write_bytes(data)
    report = logscan.scan(str(tmp_path))  # the grep-first path
    assert report.findings and report.findings[0].cause == CAUSE
    full = diagnose(logscan.load(str(tmp_path)))  # every line parsed
    assert _json(report)["vms"][0]["findings"] == _json(full)["vms"][0]["findings"]
    if kind in ("truncated-gzip", "binary", "utf16-no-bom", "nul-runs", "latin1-mixed"):
        assert any(name in (e.get("file") or "") for e in report.ingest_errors), report.ingest_errors


@pytest.mark.parametrize("kind", ["binary", "utf16-no-bom", "nul-runs", "truncated-gzip"])
def test_single_file_and_stdin_meet_broken_files(tmp_path: Path, kind: str) -> None:
    _name, data = BROKEN[kind]
    f = tmp_path / ("case.txt.gz" if kind == "truncated-gzip" else "case.txt")
    f.write_bytes(data)
    runner = CliRunner()
    for args, stdin in ((["scan", str(f), "-f", "json"], None), (["scan", "-", "-f", "json"], data)):
        res = runner.invoke(app, args, input=stdin)
        # Either read (exit 0, the file reported if damaged) or refused with one line (exit 2):
        # never a traceback.
        assert res.exit_code in (0, 2), res.output
        assert "Traceback" not in res.output


def test_empty_stdin_is_a_clear_error() -> None:
    res = CliRunner().invoke(app, ["scan", "-"], input=b"")
    assert res.exit_code == 2 and "Traceback" not in res.output


VMSNAPSHOT = "var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/extension.log"
BIG_BROKEN: dict[str, bytes] = {
    "binary": bytes(range(256)) * 640,
    "utf16-no-bom": (GOOD * 200).encode("utf-16-le"),
    "nul-runs": GOOD.encode().replace(b"INFO", b"IN\x00\x00FO") * 200,
    "latin1-mixed": GOOD.encode() * 200 + "caf\xe9 ERROR \xff\xfe\n".encode("latin-1"),
    "cr-line-ends": GOOD.replace("\n", "\r\n").encode() * 200,
}


@pytest.mark.parametrize("place", ["var/log/waagent.log.1", VMSNAPSHOT])
@pytest.mark.parametrize("kind", sorted(BIG_BROKEN))
def test_big_broken_files_on_the_polars_paths(tmp_path: Path, kind: str, place: str) -> None:
    """Files past BIG_TEXT are split by polars from their bytes and the VMSnapshot log is cut
    after parsing: broken ones there fall back to the decoder, are reported, and the scan's
    findings equal the full parse's."""
    from logscan.sources.reading import BIG_TEXT

    data = BIG_BROKEN[kind]
    assert len(data) > BIG_TEXT
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/waagent.conf").write_bytes(b"Extensions.Enabled=n\n")
    (tmp_path / "var/log").mkdir(parents=True)
    (tmp_path / "var/log/waagent.log").write_bytes(AGENT_LOG)
    (tmp_path / place).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / place).write_bytes(data)
    report = logscan.scan(str(tmp_path))
    assert report.findings and report.findings[0].cause == CAUSE
    full = diagnose(logscan.load(str(tmp_path)))
    assert _json(report)["vms"][0]["findings"] == _json(full)["vms"][0]["findings"]
    if kind != "cr-line-ends":
        assert any(place in (e.get("file") or "") for e in report.ingest_errors), report.ingest_errors
