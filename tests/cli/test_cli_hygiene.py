"""Issue #14 leftovers: `signatures list` at 100 columns and as JSON, exit 130 on Ctrl-C for
every command, `scan --quiet`, `explain --platform/--distro`."""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import logscan
from logscan.cli import app, main
from logscan.rules.signatures import load_signatures

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "linux-dhcp-disabled"
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason="sample absent")


def run(*args: str, columns: int = 100):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns), "NO_COLOR": "1"})


# -- signatures list --------------------------------------------------------------------------


def test_signatures_list_fits_100_columns_with_whole_ids() -> None:
    r = run("signatures", "list")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 100
    starts = {m.group(1) for line in lines if (m := re.match(r"^(\S+)\s", line))}
    ids = [s.id for s in load_signatures(None)]
    missing = [i for i in ids if i not in starts]
    assert not missing, f"ids cut or wrapped: {missing[:5]}"
    assert len(lines) < 4 * len(ids)  # compact: a title and its causes, not a column per field


def test_signatures_list_json_has_every_field() -> None:
    r = run("signatures", "list", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    sigs = load_signatures(None)
    assert [row["id"] for row in rows] == [s.id for s in sigs]
    first = rows[0]
    assert {"id", "title", "level", "status", "causes", "sources", "error_codes", "file", "line"} <= set(first)
    assert first["causes"] == list(sigs[0].causes) and isinstance(first["line"], int)


# -- Ctrl-C: exit 130, one line, every command ------------------------------------------------


def _interrupt(*_a, **_k):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        (["scan", str(ROOT / "samples")], "load"),
        (["timeline", str(ROOT / "samples")], "load"),
        (["explain", "agent-not-running"], "render_explain"),
        (["signatures", "list"], "load_signatures"),
    ],
)
def test_ctrl_c_in_any_command_exits_130_with_one_line(monkeypatch, capsys, argv, target) -> None:
    import logscan.knowledge.explain as explain_module
    import logscan.rules.signatures as signatures_module

    owner = {"load": logscan, "render_explain": explain_module, "load_signatures": signatures_module}[target]
    monkeypatch.setattr(owner, target, _interrupt)
    monkeypatch.setattr(sys, "argv", ["logscan", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["logscan: interrupted"], err
    assert "Aborted" not in err and "Traceback" not in err


def test_abort_outside_a_command_is_130_not_aborted(monkeypatch, capsys) -> None:
    def abort(*_a, **_k):
        raise typer.Abort()

    monkeypatch.setattr("logscan.cli.app", abort)
    monkeypatch.setattr(sys, "argv", ["logscan", "scan", "x"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 130 and capsys.readouterr().err.strip() == "logscan: interrupted"


@pytest.mark.parametrize(("argv", "code"), [(["--version"], 0), (["scan", "--no-such-option"], 2), (["explain", "no-such-term"], 2)])
def test_main_keeps_exit_codes_and_usage_errors(monkeypatch, capsys, argv, code) -> None:
    monkeypatch.setattr(sys, "argv", ["logscan", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == code
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    if code == 2 and argv[0] == "scan":
        assert "No such option" in out.err


# -- scan --quiet ---------------------------------------------------------------------------


@needs_sample
def test_scan_quiet_drops_notes_and_keeps_the_report(monkeypatch) -> None:
    real = logscan.load

    def noisy(*a, **k):
        warnings.warn("Skipping EVTX data: chunk 3", RuntimeWarning, stacklevel=1)
        return real(*a, **k)

    monkeypatch.setattr(logscan, "load", noisy)
    loud = run("scan", str(SAMPLE), "-f", "json")
    quiet = run("scan", str(SAMPLE), "-f", "json", "--quiet")
    assert loud.exit_code == quiet.exit_code == 0
    assert loud.stderr.strip() == "logscan: note: RuntimeWarning: Skipping EVTX data: chunk 3"
    assert quiet.stderr == ""

    def report(r) -> dict:
        d = json.loads(r.stdout)
        d.pop("generated", None)
        return d

    assert report(loud) == report(quiet)


# -- explain --platform / --distro ----------------------------------------------------------


def test_explain_platform_narrows_the_fix() -> None:
    both = run("explain", "agent-not-running", columns=200)
    linux = run("explain", "agent-not-running", "--platform", "linux", columns=200)
    windows = run("explain", "agent-not-running", "--platform", "windows", columns=200)
    assert both.exit_code == linux.exit_code == windows.exit_code == 0
    assert "systemctl" in both.stdout and "systemctl" in linux.stdout
    assert "systemctl" not in windows.stdout


def test_explain_distro_gives_that_distributions_commands() -> None:
    rhel = run("explain", "agent-not-running", "--distro", "RHEL", columns=200)
    ubuntu = run("explain", "agent-not-running", "--distro", "ubuntu", columns=200)
    assert rhel.exit_code == ubuntu.exit_code == 0
    assert "systemctl status waagent" in rhel.stdout and "systemctl status walinuxagent" not in rhel.stdout
    assert "systemctl status walinuxagent" in ubuntu.stdout and "Ubuntu, Debian:" not in ubuntu.stdout


def test_explain_distro_is_checked() -> None:
    bad = run("explain", "agent-not-running", "--distro", "ubunto")
    assert bad.exit_code == 2 and "ubuntu" in bad.output and "rhel" in bad.output
    clash = run("explain", "agent-not-running", "--distro", "rhel", "--platform", "windows")
    assert clash.exit_code == 2 and "Linux" in clash.output
