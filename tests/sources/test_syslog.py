"""syslog / messages: filter, stamps without a year, RFC 3339, hostname fact."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest

from logscan.frames import EVENT_SCHEMA, FACT_SCHEMA
from logscan.sources import spec_for
from logscan.sources.base import SourceFile
from logscan.sources.syslog import SPEC


def parse(text: str, mtime: float | None = None, path: str = "var/log/syslog"):
    return SPEC.parse(SourceFile(path, path, text.encode(), mtime))


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


def ts(*a: int) -> float:
    return utc(*a).timestamp()


MIXED = (
    "Dec 31 23:59:58 vm1 systemd[1]: Started Session 1 of user azureuser.\n"
    "Dec 31 23:59:59 vm1 python3[812]: 2023-12-31T23:59:59.100000Z INFO Daemon Azure Linux Agent Version:2.2.45\n"
    "Jan  1 00:00:01 vm1 dhclient[700]: DHCPACK of 10.0.0.4 from 168.63.129.16\n"
    "Jan  1 00:00:02 vm1 kernel: [  1.0] EXT4-fs (sda1): mounted filesystem\n"
    "Jan  1 00:00:03 vm1 sshd[99]: Accepted publickey for azureuser\n"
    "Jan  1 00:00:04 vm1 systemd[1]: Started Azure Linux Agent (walinuxagent.service).\n"
    "Jan  1 00:00:05 vm1 kernel: iptables DROP IN=eth0 DST=168.63.129.16\n"
    "Jan  1 00:00:06 vm2 waagent[33]: 2024-01-01T00:00:06.000000Z ERROR ExtHandler [Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0.9217.0] Enable failed\n"
    "Jan  1 00:00:07 vm1 bash[5]: running fsfreeze -f /data\n"
)


def test_filter_keeps_only_agent_related_lines() -> None:
    ev = parse(MIXED, mtime=ts(2024, 1, 2)).events
    assert ev.schema == pl.Schema(EVENT_SCHEMA)
    assert ev["line"].to_list() == [2, 3, 6, 7, 8, 9]
    assert ev["process"].to_list() == ["python3", "dhclient", "systemd", "kernel", "waagent", "bash"]
    assert ev["message"][1] == "DHCPACK of 10.0.0.4 from 168.63.129.16"
    assert ev["text"][1].startswith("Jan  1 00:00:01 vm1 dhclient[700]: ")


def test_year_rollover_from_mtime() -> None:
    ev = parse(MIXED, mtime=ts(2024, 1, 2)).events
    assert ev["time"][0] == utc(2023, 12, 31, 23, 59, 59)
    assert ev["time"][1] == utc(2024, 1, 1, 0, 0, 1)
    assert set(ev["time_basis"]) == {"local-assumed-utc"}
    assert ev["time_raw"][1] == "Jan  1 00:00:01"


def test_mtime_in_next_january_puts_december_file_in_the_year_before() -> None:
    ev = parse("Dec 30 10:00:00 vm1 waagent[1]: hello\n", mtime=ts(2025, 1, 3)).events
    assert ev["time"][0] == utc(2024, 12, 30, 10)


def test_year_from_iso_stamps_when_no_mtime() -> None:
    ev = parse(MIXED).events
    # the newest ISO year (2024, on line 8) anchors the lines after the Dec -> Jan turn
    assert ev["time"][0] == utc(2023, 12, 31, 23, 59, 59)
    assert ev["time"][-1] == utc(2024, 1, 1, 0, 0, 7)


def test_no_year_anchor_gives_null_time() -> None:
    ev = parse("May 30 13:15:40 vm1 waagent[1]: no iso stamp here\n").events
    assert ev["time"][0] is None
    assert ev["time_basis"][0] == "none"


def test_rfc3339_stamps_are_utc() -> None:
    text = (
        "2024-05-30T13:15:40.123456+02:00 vm1 dhclient[700]: DHCPREQUEST on eth0\n"
        "2024-05-30T13:15:41Z vm1 python3[812]: 2024-05-30T13:15:41.000000Z WARNING ExtHandler ExtHandler slow\n"
        "2024-05-30T13:15:42 vm1 iptables[1]: zone-less stamp\n"
    )
    ev = parse(text).events
    assert ev["time"].to_list() == [
        utc(2024, 5, 30, 11, 15, 40, 123456),
        utc(2024, 5, 30, 13, 15, 41),
        utc(2024, 5, 30, 13, 15, 42),
    ]
    assert ev["time_basis"].to_list() == ["utc", "utc", "local-assumed-utc"]
    assert ev["process"][0] == "dhclient"


def test_agent_lines_keep_their_level_and_extension() -> None:
    ev = parse(MIXED, mtime=ts(2024, 1, 2)).events
    assert ev["level"][0] == "INFO"
    waagent = ev.filter(pl.col("process") == "waagent").row(0, named=True)
    assert waagent["level"] == "ERROR"
    assert waagent["extension"] == "Microsoft.Azure.RecoveryServices.VMSnapshotLinux"
    assert ev.filter(pl.col("process") == "dhclient")["level"][0] is None


def test_hostname_fact_is_most_common() -> None:
    facts = parse(MIXED).facts
    assert facts.schema == pl.Schema(FACT_SCHEMA)
    assert facts.height == 1
    assert facts["line"][0] == 1  # where the hostname is first seen
    assert (facts["subject"][0], facts["key"][0], facts["value"][0]) == ("vm", "hostname", "vm1")


def test_nothing_relevant_gives_no_events_but_hostname() -> None:
    parsed = parse("May 30 13:15:40 db7 sshd[1]: Accepted\n")
    assert parsed.events.height == 0
    assert parsed.facts["value"].to_list() == ["db7"]


@pytest.mark.parametrize(
    "path",
    ["var/log/syslog", "var/log/syslog.1", "var/log/messages", "var/log/messages-20240501", "truncated__var_log_syslog"],
)
def test_paths(path: str) -> None:
    assert spec_for(path) is SPEC


def test_example_path() -> None:
    assert spec_for(SPEC.example_path) is SPEC
