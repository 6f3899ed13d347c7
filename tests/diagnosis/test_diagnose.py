"""End-to-end diagnosis behaviours: --error-code re-ranking, --at outside the bundle,
unexplained templates, platform in the report."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import tomllib

import logscan
from logscan.diagnosis import diagnose
from logscan.diagnosis.ranking import candidate_causes
from logscan.knowledge import load_knowledge

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
EXPECTED = tomllib.loads((SAMPLES / "EXPECTED.toml").read_text())


@pytest.mark.parametrize("name", [n for n, s in EXPECTED.items() if s.get("error_code")])
def test_error_code_reranks_and_keeps_the_expected_top_cause(name: str) -> None:
    spec = EXPECTED[name]
    report = logscan.scan(str(SAMPLES / name), error_code=spec["error_code"])
    evidence = [f for f in report.findings if f.status == "evidence"]
    assert evidence and evidence[0].cause == spec["top_cause"]
    assert all(f.in_error_code is not None for f in report.findings)


def test_error_code_never_hides_a_finding_outside_its_causes() -> None:
    bundle = logscan.load(str(SAMPLES / "linux-ext-disabled"))
    plain = {f.cause for f in diagnose(bundle).findings}
    code = "UserErrorFsFreezeFailed"  # a code whose causes this VM does not show
    ranked = diagnose(bundle, error_code=code)
    shown = {f.cause for f in ranked.findings if f.status == "evidence"}
    assert plain <= shown
    cands = set(candidate_causes(load_knowledge().code(code), load_knowledge()))
    outside = [f for f in ranked.findings if f.status == "evidence" and f.cause not in cands]
    assert outside and all(f.in_error_code is False for f in outside)
    assert {f.cause for f in ranked.other_findings} == {f.cause for f in outside}
    # the code's own causes, when they have evidence, come before the others
    first_out = min(ranked.findings.index(f) for f in outside)
    assert all(ranked.findings.index(f) < first_out for f in ranked.findings if f.in_error_code and f.status == "evidence")


def test_at_after_the_bundle_is_noted_and_silence_does_not_fire() -> None:
    bundle = logscan.load(str(SAMPLES / "linux-healthy"))
    late = datetime(2030, 1, 1, tzinfo=timezone.utc)
    r = diagnose(bundle, at=late)
    assert r.coverage["at_outside_span"] == "after"
    assert any("does not cover that time" in n for n in r.notes)
    assert "agent-not-running" not in {f.cause for f in r.findings}
    inside = diagnose(bundle, at=bundle.events["time"].max())
    assert "at_outside_span" not in inside.coverage


def test_at_before_the_bundle_is_noted() -> None:
    bundle = logscan.load(str(SAMPLES / "linux-healthy"))
    r = diagnose(bundle, at=datetime(2001, 1, 1, tzinfo=timezone.utc))
    assert r.coverage["at_outside_span"] == "before"


def test_unexplained_lines_are_templated_and_benign_left_out(tmp_path: Path) -> None:
    log = tmp_path / "var" / "log" / "waagent.log"
    log.parent.mkdir(parents=True)
    lines = [f"2024-05-30T13:0{i}:00.000000Z ERROR ExtHandler ExtHandler Frobnicator {i} failed to sprocket widget {100 + i}" for i in range(4)]
    lines += ["2024-05-30T13:05:00.000000Z WARNING EnvHandler ExtHandler Dhcp client is not running."] * 3
    lines += ["2024-05-30T13:06:00.000000Z INFO ExtHandler ExtHandler all is well"]
    log.write_text("\n".join(lines) + "\n")
    r = logscan.scan(str(tmp_path))
    assert len(r.unexplained) == 1
    u = r.unexplained[0]
    assert u["count"] == 4 and u["first"] == "var/log/waagent.log:1"
    assert "Dhcp" not in str(r.unexplained)
    d = r.as_dict()
    assert d["unexplained"] == r.unexplained
    assert "No known cause" in d["verdict"] and "unexplained" in d["verdict"]


def test_every_finding_carries_confidence_in_json() -> None:
    d = logscan.scan(str(SAMPLES / "linux-dhcp-disabled")).as_dict()
    assert d["findings"] and all(f["confidence"] in ("confirmed", "likely", "possible") for f in d["findings"])
    assert d["identity"]["platform"] == "linux"


LINUX_ONLY = ("sudo ", "systemctl", "/var/lib/waagent", "iptables", "/etc/sysconfig")
WINDOWS_ONLY = ("Get-", "Test-NetConnection", "C:\\\\", "net stop", "sc query")


@pytest.mark.parametrize("name", ["win-wireserver-blocked", "win-dhcp-disabled", "win-agent-unresponsive"])
def test_windows_vms_get_windows_fixes_only(name: str) -> None:
    d = logscan.scan(str(SAMPLES / name)).as_dict()
    steps = [s for f in d["findings"] for s in f["fix_steps"]]
    assert steps and all(s["platform"] in ("windows", "any") for s in steps)
    text = " ".join(f"{s['text']} {s.get('command') or ''}" for s in steps)
    assert not any(w in text for w in LINUX_ONLY), text


@pytest.mark.parametrize("name", ["linux-wireserver-blocked.zip", "linux-dhcp-disabled", "linux-agent-stopped"])
def test_linux_vms_get_linux_fixes_for_their_distro(name: str) -> None:
    d = logscan.scan(str(SAMPLES / name)).as_dict()
    steps = [s for f in d["findings"] for s in f["fix_steps"]]
    assert steps and all(s["platform"] in ("linux", "any") for s in steps)
    cmds = " ".join(s.get("command") or "" for s in steps)
    assert "Get-NetFirewallRule" not in cmds and "Test-NetConnection" not in cmds
    assert all(f["remediation"] for f in d["findings"] if f["fix_steps"])
