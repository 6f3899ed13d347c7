"""Commands run without a shell, with a timeout; connect tests against a loopback listener."""

from __future__ import annotations

import socket
import sys

from logscan.collect.commands import connect_test, run_command
from logscan.collect.plan import Command, Target, load_plan

PY = sys.executable


def test_missing_failing_and_hanging_commands_are_recorded() -> None:
    missing = run_command(Command("x", ("logscan-no-such-program-xyz", "--version")))
    assert (missing.status, missing.exit_code) == ("missing", None) and "not found" in missing.detail
    failed = run_command(Command("x", (PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)")))
    assert (failed.status, failed.exit_code) == ("failed", 3)
    assert b"out" in failed.output and b"err" in failed.output  # stderr kept with stdout
    hung = run_command(Command("x", (PY, "-c", "import time; time.sleep(30)"), timeout_s=0.5))
    assert hung.status == "failed" and "timed out after 0.5 s" in hung.detail and hung.duration_s < 10


def test_no_shell_and_c_locale() -> None:
    o = run_command(Command("x", (PY, "-c", "import os, sys; print(os.environ['LC_ALL'], sys.argv[1])", "$(touch /tmp/x); `id`")))
    assert o.status == "ok" and o.output.decode().strip() == "C $(touch /tmp/x); `id`"


def test_since_is_substituted() -> None:
    o = run_command(Command("x", (PY, "-c", "import sys; print(sys.argv[1])", "{since}")), since="2 days ago")
    assert o.output.decode().strip() == "2 days ago" and o.argv[-1] == "2 days ago"


def test_connect_ok_and_refused_on_loopback() -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        ok = connect_test(Target("127.0.0.1", port), 2.0)
    assert ok.status == "ok" and ok.output.decode().startswith(f"connect 127.0.0.1:{port} ok ") and ok.output.endswith(b" ms\n")
    refused = connect_test(Target("127.0.0.1", port), 2.0)  # listener closed now
    assert refused.status == "failed" and refused.output == f"connect 127.0.0.1:{port} refused\n".encode()


def test_connect_timeout_line() -> None:
    def hang(host: str, port: int, timeout_s: float) -> None:
        raise TimeoutError("timed out")

    o = connect_test(Target("168.63.129.16", 32526), 3, hang)
    assert o.output == b"connect 168.63.129.16:32526 failed: timed out after 3 s\n"
    assert o.path == "sos_commands/logscan/connect_168.63.129.16_32526" and o.exit_code == 1


def test_shipped_plan_has_the_agreed_layout() -> None:
    plan = load_plan()
    paths = {c.path for c in plan.commands} | {t.path for t in plan.targets}
    agreed = {
        "sos_commands/systemd/systemctl_status_waagent",
        "sos_commands/systemd/systemctl_is-enabled_waagent",
        "sos_commands/logs/journalctl_--no-pager_-u_waagent",
        "sos_commands/process/ps_-ef",
        "sos_commands/networking/ip_addr",
        "sos_commands/networking/ip_route",
        "sos_commands/firewall_tables/iptables_-S",
        "sos_commands/nftables/nft_list_ruleset",
        "sos_commands/filesys/mount",
        "sos_commands/filesys/df_-h",
        "sos_commands/python/python3_--version",
        "sos_commands/azure/waagent_--version",
        "sos_commands/date/timedatectl",
        "sos_commands/logscan/connect_168.63.129.16_80",
        "sos_commands/logscan/connect_168.63.129.16_32526",
    }
    assert agreed <= paths
    assert plan.connect_timeout_s <= 5
    assert "etc/waagent.conf" in plan.files and "var/log/azure/**" in plan.files
