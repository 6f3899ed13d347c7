"""``collect --root`` on a fake VM tree, then ``scan`` of what it wrote."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.collect import FileLimits, Options, collect_to_file
from logscan.rules.checks import run_checks

from .conftest import HUGE_TAIL, OUTSIDE_SECRET, PROTECTED, FakeRunner, refuse_all

MB = 1024**2


@pytest.fixture
def collected(fake_root: Path, tmp_path: Path) -> tuple[Path, dict, FakeRunner]:
    runner = FakeRunner()
    opts = Options(root=fake_root, limits=FileLimits(max_file_bytes=MB, max_total_bytes=64 * MB), run=runner, connect=refuse_all)
    out = tmp_path / "bundle.tar.gz"
    return out, collect_to_file(out, opts), runner


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf if m.isfile()}


def test_files_keep_their_path_and_commands_use_the_sos_layout(collected) -> None:
    out, manifest, _ = collected
    names = set(_members(out))
    assert {"var/log/waagent.log", "etc/waagent.conf", "etc/os-release", "sos_commands/process/ps_-ef",
            "sos_commands/filesys/mount", "sos_commands/logscan/connect_168.63.129.16_80",
            "sos_commands/logscan/manifest.json"} <= names
    # a missing command is recorded, not written, and does not stop the rest
    assert "sos_commands/azure/waagent_--version" not in names
    cmds = {c["path"]: c for c in manifest["commands"]}
    assert cmds["sos_commands/azure/waagent_--version"]["status"] == "missing"
    assert cmds["sos_commands/systemd/systemctl_status_waagent"]["status"] == "failed"
    assert cmds["sos_commands/systemd/systemctl_status_waagent"]["exit_code"] == 3
    assert all(c["start"].endswith("Z") and "argv" in c for c in manifest["commands"])


def test_links_out_of_the_root_fifos_and_folder_links_are_listed_not_read(collected) -> None:
    out, manifest, _ = collected
    members = _members(out)
    assert not any(OUTSIDE_SECRET.encode() in b for b in members.values())
    assert not any(b"notcollected" in b for b in members.values())
    skipped = {n["path"]: n for n in manifest["not_collected"]}
    azure = "var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/"
    for name in ("evil-abs.log", "evil-inside.log", "evil-rel.log", "linkdir", "pipe.log", "loop1.log"):
        assert azure + name in skipped, name
        assert azure + name not in members
    assert skipped[azure + "pipe.log"]["kind"] == "not-regular"
    # the one legitimate link (etc/os-release -> /usr/lib/os-release, inside the root) is followed
    assert members["etc/os-release"].startswith(b'NAME="Ubuntu"')


def test_secrets_are_masked_as_written_also_inside_archives(collected) -> None:
    out, manifest, _ = collected
    members = _members(out)
    blob = b"".join(members.values())
    for secret in (b"SECRETSIG123abc", PROTECTED.encode(), b"hunter2"):
        assert secret not in blob
    hist = zipfile.ZipFile(io.BytesIO(members["var/lib/waagent/history/2024-05-30T13-15-40__3.zip"]))
    assert PROTECTED.encode() not in hist.read("ExtensionsConfig.xml")
    assert any(f.get("masked") for f in manifest["files"] if f["path"] == "var/log/waagent.log")


def test_huge_file_keeps_its_newest_part(collected) -> None:
    out, manifest, _ = collected
    data = _members(out)["var/log/waagent.log.1"]
    assert len(data) == MB and data.endswith(HUGE_TAIL.encode())
    entry = next(f for f in manifest["files"] if f["path"] == "var/log/waagent.log.1")
    assert entry["cut_to_last_bytes"] == MB and entry["size"] > 3 * MB


def test_scan_reads_the_collected_bundle(collected) -> None:
    out, _, _ = collected
    b = logscan.load(out)
    conf = b.facts.filter(pl.col("subject") == "conf")
    assert ("Extensions.Enabled", "n") in conf.select("key", "value").rows()
    assert b.events.filter(pl.col("source") == "waagent_log").height >= 3
    facts = dict(b.facts.filter(pl.col("subject") == "collect").select("key", "value").rows())
    assert facts["agent_installed"] == "yes"
    assert facts["connect:168.63.129.16:80"] == "timed-out"
    assert facts["connect:168.63.129.16:32526"] == "refused"
    assert facts["command:azure/waagent_--version"] == "missing"
    errs = b.ingest_errors.filter(pl.col("kind") == "not-collected")["detail"].to_list()
    assert any("evil-abs.log" in e for e in errs) and any("waagent --version" in e for e in errs)
    assert OUTSIDE_SECRET not in json.dumps(b.ingest_errors.to_dicts(), default=str)
    hits = run_checks(b)
    connect = hits.filter(pl.col("signature") == "wireserver-connect-test")
    assert set(connect["cause"]) == {"wireserver-blocked"} and connect.height == 4  # manifest + outputs, 2 ports
    report = logscan.scan(out)
    causes = [f.cause for f in report.findings]
    assert causes[0] == "linux-agent-config"  # Extensions.Enabled=n
    # the fake VM's other faults, from the live state: the connect test (run as root here or
    # not, the outputs say it failed), /var mounted noexec, no python at all
    assert {"wireserver-blocked", "extension-install-failed", "extension-python-missing"} <= set(causes)
    assert any(n.startswith("sos_commands/filesys/df_-h:2: / is 100% full") for n in report.notes)
    assert any("Commands not installed" in n and "azure/waagent_--version" in n for n in report.notes)


def test_no_commands_collects_files_only(fake_root: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    m = collect_to_file(tmp_path / "f.tar.gz", Options(root=fake_root, commands=False, run=runner, connect=refuse_all))
    assert runner.calls == [] and m["commands"] == [] and m["commands_run"] is False
    assert not any(n.startswith("sos_commands/") and not n.endswith("manifest.json") for n in _members(tmp_path / "f.tar.gz"))


def test_total_budget_drops_later_files(fake_root: Path, tmp_path: Path) -> None:
    m = collect_to_file(tmp_path / "b.tar.gz", Options(root=fake_root, commands=False, limits=FileLimits(max_file_bytes=MB, max_total_bytes=MB)))
    assert any(n["kind"] == "too-large" for n in m["not_collected"])
    assert m["files"][0]["path"] == "var/log/waagent.log"  # plan order: the agent log first


def test_unreadable_file_is_listed(fake_root: Path, tmp_path: Path, monkeypatch) -> None:
    from logscan.collect import files

    real_read = files.Finder.read

    def deny(self, found, limit):  # as a non-root user sees /etc/waagent.conf at mode 600
        if found.rel == "etc/waagent.conf":
            raise PermissionError(13, "Permission denied")
        return real_read(self, found, limit)

    monkeypatch.setattr(files.Finder, "read", deny)
    m = collect_to_file(tmp_path / "u.tar.gz", Options(root=fake_root, commands=False))
    entry = next(n for n in m["not_collected"] if n["path"] == "etc/waagent.conf")
    assert entry["kind"] == "unreadable" and "run as root" in entry["reason"]
    assert "etc/waagent.conf" not in _members(tmp_path / "u.tar.gz")


def test_on_this_machine_without_an_agent_it_says_not_installed(tmp_path: Path) -> None:
    """Real commands on the CI machine (no agent); the network test is injected."""
    if Path("/usr/sbin/waagent").exists() or Path("/var/lib/waagent").exists():
        pytest.skip("an agent is installed here")
    out = tmp_path / "ci.tar.gz"
    m = collect_to_file(out, Options(connect=refuse_all, since="1 hour ago"))
    assert {c["path"] for c in m["commands"] if c["status"] == "missing"} >= {"sos_commands/azure/waagent_--version"}
    assert "var/log/waagent.log" in m["absent"]
    # The shipped check set (content/checks/live-state.yaml) names the cause.
    report = logscan.scan(out)
    top = report.findings[0]
    assert top.cause == "agent-not-running" and top.confidence == "confirmed"
    note = next(e.note for e in top.evidence if "not installed" in (e.note or ""))
    assert "usr/sbin/waagent" in note and "azure/waagent_--version" in note
