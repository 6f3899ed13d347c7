"""Command outputs support asks for, each read by content and by its sosreport name."""

from __future__ import annotations

import io

import pytest

from logscan.io.bundle import Bundle
from logscan.sources import SourceFile, spec_for
from logscan.sources.ingest import load_bundle


def _load(text: str):
    with Bundle.from_stream(io.BytesIO(text.encode())) as b:
        return load_bundle(b)


def _facts(b) -> dict[tuple[str, str], str]:
    return {(r["subject"], r["key"]): r["value"] for r in b.facts.iter_rows(named=True)}


SYSTEMCTL = """\
* waagent.service - Azure Linux Agent
   Loaded: loaded (/usr/lib/systemd/system/waagent.service; disabled; vendor preset: disabled)
   Active: activating (auto-restart) (Result: exit-code) since Mon 2023-01-09 10:00:00 UTC; 3s ago
  Process: 4242 ExecStart=/usr/bin/python -u /usr/sbin/waagent -daemon (code=exited, status=203/EXEC)
 Main PID: 4242 (code=exited, status=203/EXEC)
Jan 09 10:00:00 host-a systemd[1]: waagent.service: Scheduled restart job, restart counter is at 7.
"""


def test_systemctl_status_unit_facts() -> None:
    b = _load(SYSTEMCTL)
    f = _facts(b)
    assert f[("service:waagent", "loaded")] == "loaded" and f[("service:waagent", "enabled")] == "disabled"
    assert f[("service:waagent", "active")] == "activating" and f[("service:waagent", "sub")] == "auto-restart"
    assert f[("service:waagent", "exit_code")] == "203" and f[("service:waagent", "exit_status")] == "EXEC"
    assert f[("service:waagent", "restarts")] == "7"
    assert b.events.filter(b.events["line"] == 1)["level"].to_list() == ["ERROR"]
    assert b.events.height == 2  # the unit, and its journal line


def test_journalctl_unit_output_is_read_as_journal() -> None:
    text = "-- Logs begin at Mon 2023-01-09 09:00:00 UTC. --\nJan 09 10:00:00 host-a waagent[81]: 2023-01-09T10:00:00.5Z ERROR Daemon Daemon boom\n-- No entries --\n"
    b = _load(text)
    assert b.coverage["files"][0]["kind"] == "syslog"
    assert b.events["level"].to_list() == ["ERROR"]
    assert spec_for("sosreport-h-1/sos_commands/logs/journalctl_--no-pager").name == "syslog"


def test_sc_query_and_get_service() -> None:
    sc = (
        "SERVICE_NAME: WindowsAzureGuestAgent\n        TYPE               : 10  WIN32_OWN_PROCESS\n"
        "        STATE              : 1  STOPPED\n        WIN32_EXIT_CODE    : 1067  (0x42b)\n        SERVICE_EXIT_CODE  : 0  (0x0)\n"
    )
    f = _facts(_load(sc))
    assert f[("service:WindowsAzureGuestAgent", "active")] == "inactive" and f[("service:WindowsAzureGuestAgent", "exit_code")] == "1067"
    ps = "Status   Name               DisplayName\n------   ----               -----------\nRunning  RdAgent            RdAgent\nStopped  WindowsAzureGue... Windows Azure Guest Agent\n"
    f = _facts(_load(ps))
    assert f[("service:RdAgent", "active")] == "active" and f[("service:WindowsAzureGue...", "state")] == "Stopped"


def test_vssadmin_writers_state_and_last_error() -> None:
    text = (
        "Writer name: 'SqlServerWriter'\n   Writer Id: {a65faa63-5ea8-4ebc-9dbd-a0c4db26912a}\n"
        "   State: [11] Failed\n   Last error: Non-retryable error\n\n"
        "Writer name: 'WMI Writer'\n   Writer Id: {a6ad56c2-b509-4e6c-bb19-49d8f43532f0}\n   State: [1] Stable\n   Last error: No error\n"
    )
    b = _load(text)
    f = _facts(b)
    assert f[("vss_writer:SqlServerWriter", "state")] == "Failed" and f[("vss_writer:SqlServerWriter", "last_error")] == "Non-retryable error"
    assert f[("vss_writer:WMI Writer", "state_code")] == "1"
    assert b.events["level"].to_list() == ["ERROR", "INFO"]


def test_ps_and_tasklist() -> None:
    ps = (
        "UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 09:00 ?        00:00:01 /sbin/init\n"
        "root         812       1  0 09:00 ?        00:00:03 /usr/bin/python3 -u /usr/sbin/waagent -daemon\n"
    )
    b = _load(ps)
    f = _facts(b)
    assert f[("process:waagent", "running")] == "yes" and f[("process:waagent", "role")] == "daemon"
    assert f[("process:init", "pid")] == "1" and b.events.height == 1
    tl = "Image Name                     PID Session Name        Session#    Mem Usage\n========================= ======== ================ =========== ============\nWaAppAgent.exe                2212 Services                   0     40,112 K\n"
    assert _facts(_load(tl))[("process:WaAppAgent", "pid")] == "2212"


def test_ip_route_and_firewall_rules() -> None:
    f = _facts(_load("default via 10.1.0.1 dev eth0 proto dhcp metric 100\n10.1.0.0/24 dev eth0 proto kernel scope link\n168.63.129.16 via 10.1.0.1 dev eth0\n"))
    assert f[("route", "default_gateway")] == "10.1.0.1" and "168.63.129.16" in f[("route", "wireserver_route")]
    rules = "-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-A OUTPUT -d 168.63.129.16/32 -p tcp -m tcp --dport 80 -j DROP\n"
    b = _load(rules)
    f = _facts(b)
    assert f[("firewall", "wireserver_drop")] == "yes" and f[("firewall", "default_policy:OUTPUT")] == "ACCEPT"
    assert b.events["level"].to_list() == ["ERROR"]
    nft = "table ip filter {\n\tchain output {\n\t\ttype filter hook output priority 0; policy accept;\n\t\tip daddr 168.63.129.16 tcp dport 32526 drop\n\t}\n}\n"
    assert _facts(_load(nft))[("firewall", "wireserver_drop")] == "yes"


def test_mount_noexec_var() -> None:
    b = _load("/dev/sda1 on / type ext4 (rw,relatime)\n/dev/sdb1 on /var type xfs (rw,nosuid,nodev,noexec,relatime)\n")
    f = _facts(b)
    assert f[("mount:/var", "noexec")] == "yes" and f[("mount:/", "noexec")] == "no"
    assert "WARNING" in b.events["level"].to_list()


def test_waagent_version_imds_health_report_os_release_hostname() -> None:
    f = _facts(_load("WALinuxAgent - 2.2.45\nPython: 3.6.9\nGoal state agent: 2.9.1.1\n"))
    assert f[("agent", "version")] == "2.2.45" and f[("agent", "goal_state_agent_version")] == "2.9.1.1"
    imds = '{"compute": {"name": "vm-backup-01", "vmId": "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab", "location": "westeurope", "vmSize": "Standard_B2s", "osType": "Linux"}}'
    f = _facts(_load(imds))
    assert f[("vm", "vm_name")] == "vm-backup-01" and f[("vm", "vm_id")].startswith("0f1e2d3c")
    health = '{"title": "Microsoft Azure VM Health Report", "checks": {"guestAgent": {"status": "Unhealthy"}, "disk": {"status": "OK"}}}'
    b = _load(health)
    assert _facts(b)[("vm_health", "checks.guestAgent.status")] == "Unhealthy" and b.events.height == 1
    osr = 'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nPRETTY_NAME="Ubuntu 22.04.3 LTS"\n'
    f = _facts(_load(osr))
    assert f[("os", "name")] == "ubuntu" and f[("os", "version")] == "22.04"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("sos_commands/systemd/systemctl_status_waagent", "systemctl_status"),
        ("sos_commands/process/ps_-ef", "process_list"),
        ("sos_commands/networking/ip_route", "ip_route"),
        ("sos_commands/firewall_tables/iptables_-S", "firewall_rules"),
        ("sos_commands/filesys/mount", "mount"),
        ("sos_commands/logscan/connect_168.63.129.16_80", "connectivity"),
        ("sos_commands/azure/instance_metadata.json", "instance_metadata"),
        ("sosreport-vm1-123-2024-01-01-abc/etc/os-release", "os_release"),
        ("etc/hostname", "hostname"),
        ("vssadmin-list-writers.txt", "vssadmin_writers"),
    ],
)
def test_sosreport_and_collect_names(path: str, kind: str) -> None:
    spec = spec_for(path)
    assert spec is not None and spec.name == kind


def test_hostname_and_connectivity_by_name() -> None:
    from logscan.sources.commands.network import parse_connect
    from logscan.sources.os_release import parse_hostname

    h = parse_hostname(SourceFile("etc/hostname", "etc/hostname", b"vm-backup-01\n"))
    assert h.facts.row(0, named=True)["value"] == "vm-backup-01"
    c = parse_connect(SourceFile("sos_commands/logscan/connect_168.63.129.16_80", "x", b"connect to 168.63.129.16:80 timed out\n"))
    assert c.facts.row(0, named=True)["subject"] == "wireserver:80" and c.facts.row(0, named=True)["value"] == "no"
