from __future__ import annotations

import tarfile
from pathlib import Path

from typer.testing import CliRunner

from logscan.cli import app

runner = CliRunner()


def test_collect_root_no_commands_then_scan(fake_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    r = runner.invoke(app, ["collect", "--out", str(out), "--root", str(fake_root), "--no-commands", "--max-file-mb", "1"])
    assert r.exit_code == 0, r.output
    assert "could not collect" in r.output and "evil-abs.log" in r.output
    with tarfile.open(out) as tf:
        assert "var/log/waagent.log" in tf.getnames()
    assert not (tmp_path / "b.tar.gz.partial").exists()
    s = runner.invoke(app, ["scan", str(out), "--format", "json"])
    assert s.exit_code == 0 and "linux-agent-config" in s.output


def test_collect_usage_errors(tmp_path: Path) -> None:
    assert runner.invoke(app, ["collect"]).exit_code == 2
    assert runner.invoke(app, ["collect", "--out", str(tmp_path / "x.tar.gz"), "--root", str(tmp_path / "nope")]).exit_code == 2
    assert runner.invoke(app, ["scan"]).exit_code == 2
    assert runner.invoke(app, ["scan", str(tmp_path), "--live"]).exit_code == 2


def test_windows_script_option(tmp_path: Path) -> None:
    r = runner.invoke(app, ["collect", "--windows-script", str(tmp_path / "c.ps1")])
    assert r.exit_code == 0 and (tmp_path / "c.ps1").read_bytes().startswith(b"\xef\xbb\xbf<#")


def test_scan_live_collects_in_memory(monkeypatch, tmp_path: Path) -> None:
    """On this machine; the WireServer test is replaced, nothing is written to disk."""
    from logscan.collect import commands

    def refused(host: str, port: int, timeout_s: float) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(commands, "tcp_connect", refused)
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["scan", "--live", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert '"live-' in r.output and "collect_manifest" in r.output
    assert list(tmp_path.iterdir()) == []
