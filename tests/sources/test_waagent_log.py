"""waagent.log, every era of linux-agent.md §1.1, multi-line records, Event: lines, and the
whole ingest path (rotation, gzip, encodings, broken files) through ``logscan.load``."""

from __future__ import annotations

import codecs
import gzip
import os
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.frames import EVENT_SCHEMA
from logscan.sources import spec_for
from logscan.sources.base import SourceFile
from logscan.sources.waagent_log import COMMAND_EXECUTION, SPEC

VMS = "Microsoft.Azure.RecoveryServices.VMSnapshotLinux"


def parse(text: str, path: str = "var/log/waagent.log") -> pl.DataFrame:
    return SPEC.parse(SourceFile(path, path, text.encode())).events


def one(line: str) -> dict:
    ev = parse(line + "\n")
    assert ev.height == 1
    return ev.row(0, named=True)


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


# --- eras -------------------------------------------------------------------------------


def test_era_2_0() -> None:
    r = one("2017/04/05 15:19:30 ERROR:timed out")
    assert (r["time"], r["time_basis"], r["level"], r["message"]) == (
        utc(2017, 4, 5, 15, 19, 30),
        "local-assumed-utc",
        "ERROR",
        "timed out",
    )
    r = one("2017/04/05 15:19:31 Starting waagent")
    assert r["level"] == "INFO" and r["process"] is None and r["message"] == "Starting waagent"


def test_era_2_1_to_2_2_30() -> None:
    r = one(
        "2018/07/19 18:13:14.496545 ERROR Event: name=Microsoft.Azure.Extensions.CustomScript, op=Install, "
        "message=[ExtensionError] Non-zero exit code: 1, bin/custom-script-shim install, duration=0"
    )
    assert r["time"] == utc(2018, 7, 19, 18, 13, 14, 496545)
    assert r["time_basis"] == "local-assumed-utc"
    assert r["level"] == "ERROR" and r["process"] is None
    assert r["extension"] == "Microsoft.Azure.Extensions.CustomScript"


def test_era_2_2_31_to_2_2_45() -> None:
    r = one("2021/03/30 19:35:35.971742 INFO Daemon Azure Linux Agent Version:2.2.45")
    assert (r["process"], r["thread"], r["message"], r["time_basis"]) == (
        "Daemon",
        None,
        "Azure Linux Agent Version:2.2.45",
        "local-assumed-utc",
    )
    r = one(f"2018/03/05 14:31:57.742721 INFO [{VMS}-1.0.9120.0] Target handler state: enabled")
    assert (r["process"], r["extension"], r["ext_version"], r["message"]) == (
        "ExtHandler",
        VMS,
        "1.0.9120.0",
        "Target handler state: enabled",
    )


def test_era_2_2_46() -> None:
    r = one("2021-05-28T01:17:40.683072Z INFO ExtHandler Wire server endpoint:168.63.129.16")
    assert (r["time_basis"], r["process"], r["thread"], r["message"]) == (
        "utc",
        "ExtHandler",
        None,
        "Wire server endpoint:168.63.129.16",
    )


def test_era_2_2_47_plus_with_prefix() -> None:
    r = one("2023-03-13T15:44:04.906673Z INFO ExtHandler ExtHandler Azure Linux Agent (Goal State Agent version 9.9.9.9)")
    assert (r["time"], r["process"], r["thread"]) == (utc(2023, 3, 13, 15, 44, 4, 906673), "ExtHandler", "ExtHandler")
    assert r["message"] == "Azure Linux Agent (Goal State Agent version 9.9.9.9)"
    r = one("2022-01-01T00:00:00.000000Z INFO CollectLogsHandler ExtHandler Successfully uploaded logs.")
    assert (r["process"], r["thread"]) == ("ExtHandler", "CollectLogsHandler")
    r = one(f"2024-05-29T05:45:42.987587Z INFO ExtHandler [{VMS}-1.0.9217.0] Executing command: handle.sh enable")
    assert (r["process"], r["thread"], r["extension"], r["ext_version"]) == ("ExtHandler", "ExtHandler", VMS, "1.0.9217.0")


def test_era_2_8_plus_without_prefix() -> None:
    r = one("2025-07-30T02:15:50.694099Z ERROR ExtHandler Error fetching the goal state certificates: Cannot convert PFX to PEM")
    assert (r["level"], r["process"], r["thread"]) == ("ERROR", "ExtHandler", None)
    assert r["message"].startswith("Error fetching the goal state certificates")


def test_timestamp_without_fraction() -> None:
    assert one("2024-05-29T05:45:42Z INFO Daemon Daemon hi")["time"] == utc(2024, 5, 29, 5, 45, 42)


def test_multi_config_prefix() -> None:
    r = one("2024-05-29T05:45:44.000000Z INFO ExtHandler [Microsoft.CPlat.Core.RunCommandHandlerLinux.myCmd-1.3.2] Enable")
    assert (r["extension"], r["ext_version"]) == ("Microsoft.CPlat.Core.RunCommandHandlerLinux.myCmd", "1.3.2")


def test_handlerutil_line_in_waagent_log() -> None:
    r = one(f"2017/08/02 10:00:00 [{VMS}-1.0]T:S snapshot result: errorcode: 409")
    assert (r["extension"], r["ext_version"], r["message"]) == (VMS, "1.0", "T:S snapshot result: errorcode: 409")
    r = one("2021/03/30 19:45:31 [Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.7.0] cwd is /var/lib/waagent/x")
    assert (r["extension"], r["message"]) == ("Microsoft.Azure.Monitor.AzureMonitorLinuxAgent", "cwd is /var/lib/waagent/x")


def test_mixed_eras_in_one_file() -> None:
    text = (
        "2021/04/08 21:29:32.961628 INFO ExtHandler Agent WALinuxAgent-2.2.45 discovered update WALinuxAgent-2.2.54.2 -- exiting\n"
        "2021/04/08 21:29:33.420610 INFO Daemon Agent WALinuxAgent-2.2.45 launched with command 'python3 -u /usr/sbin/waagent -run-exthandlers' is successfully running\n"
        "2021/04/08 21:29:33.434981 INFO Daemon Determined Agent WALinuxAgent-2.2.54.2 to be the latest agent\n"
        "2021-04-08T21:29:34.125335Z INFO ExtHandler ExtHandler The agent will now check\n"
    )
    ev = parse(text)
    assert ev.height == 4
    assert ev["time_basis"].to_list() == ["local-assumed-utc"] * 3 + ["utc"]
    assert ev["process"].to_list() == ["ExtHandler", "Daemon", "Daemon", "ExtHandler"]


# --- syslog copies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Mar 30 19:35:35 vm1 python3[812]: 2021-03-30T19:35:35.100000Z INFO Daemon Daemon synced",
        "Mar  3 19:35:35 vm1 waagent[812]: 2021-03-30T19:35:35.100000Z INFO Daemon Daemon synced",
        "2021-03-30T19:35:35.5+00:00 vm1 WALinuxAgent: 2021-03-30T19:35:35.100000Z INFO Daemon Daemon synced",
    ],
)
def test_syslog_copied_lines(line: str) -> None:
    r = one(line)
    assert (r["time"], r["time_basis"], r["process"], r["message"]) == (
        utc(2021, 3, 30, 19, 35, 35, 100000),
        "utc",
        "Daemon",
        "synced",
    )
    assert r["text"] == line  # evidence is the line as written


# --- multi-line records -----------------------------------------------------------------


def test_traceback_joins_header() -> None:
    text = (
        "2017/07/17 10:18:56.524184 WARNING Traceback (most recent call last):\n"
        '  File "build/bdist.linux-x86_64/egg/azurelinuxagent/ga/update.py", line 257, in run\n'
        "OSError: boom\n"
        "2017/07/17 10:18:57.000000 INFO next\n"
    )
    ev = parse(text)
    assert ev["line"].to_list() == [1, 4]
    assert ev["level"][0] == "WARNING"
    assert ev["message"][0].splitlines() == [
        "Traceback (most recent call last):",
        '  File "build/bdist.linux-x86_64/egg/azurelinuxagent/ga/update.py", line 257, in run',
        "OSError: boom",
    ]


def test_stdout_stderr_block_and_event_duration_on_last_line() -> None:
    text = (
        f"2024-05-29T05:45:43.000000Z ERROR ExtHandler ExtHandler Event: name={VMS}, op=Install, "
        "message=[ExtensionOperationError] Non-zero exit code: 3, /var/lib/waagent/x/main/handle.sh install\n"
        "[stdout]\n"
        "python version unknown\n"
        "\n"
        "[stderr]\n"
        ", duration=12\n"
        "2024-05-29T05:45:44.000000Z INFO ExtHandler ExtHandler next\n"
    )
    ev = parse(text)
    assert ev.height == 2
    r = ev.row(0, named=True)
    assert (r["event_name"], r["event_op"], r["event_duration"], r["extension"]) == (VMS, "Install", 12, VMS)
    assert "[stdout]\npython version unknown\n\n[stderr]" in r["message"]
    assert r["text"].count("\n") == 5


def test_inner_error() -> None:
    text = (
        "2024-05-29T05:45:45.000000Z WARNING ExtHandler ExtHandler [ProtocolError] Error fetching goal state\n"
        "Inner error: [ResourceGoneError] [HTTP Failed] [410: Gone]\n"
    )
    ev = parse(text)
    assert ev.height == 1
    assert ev["message"][0] == "[ProtocolError] Error fetching goal state\nInner error: [ResourceGoneError] [HTTP Failed] [410: Gone]"


def test_blank_line_after_record_is_dropped_from_text() -> None:
    ev = parse("2024-05-29T05:45:45.000000Z INFO ExtHandler ExtHandler ProcessExtensionsGoalState completed [x]\n\n")
    assert ev.height == 1 and ev["text"][0].endswith("[x]")


# --- Event: lines -----------------------------------------------------------------------


def test_event_with_duration() -> None:
    r = one("2024-05-29T05:45:42.000000Z INFO ExtHandler ExtHandler Event: name=WALinuxAgent, op=HeartBeat, message=ok, duration=0")
    assert (r["event_name"], r["event_op"], r["event_duration"]) == ("WALinuxAgent", "HeartBeat", 0)
    assert r["extension"] is None  # agent events are not about an extension


def test_event_without_duration() -> None:
    r = one("2017/06/01 10:00:00.000000 ERROR Event: name=WALA, op=HeartBeat, message=timeout, with comma")
    assert (r["event_name"], r["event_op"], r["event_duration"], r["extension"]) == ("WALA", "HeartBeat", None, None)


def test_event_message_with_commas_and_duration() -> None:
    r = one(
        f"2024-05-29T05:45:42.000000Z ERROR ExtHandler ExtHandler Event: name={VMS}, op=Enable, "
        "message=[ExtensionError] Non-zero exit code: 127, main/handle.sh enable, duration=3456"
    )
    assert (r["event_op"], r["event_duration"]) == ("Enable", 3456)


# --- paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "var/log/waagent.log",
        "var/log/waagent.log.1",
        "var/log/waagent.log-2024-05-01-1714521600",
        "truncated__var_log_waagent.log",
    ],
)
def test_paths(path: str) -> None:
    assert spec_for(path) is SPEC


def test_command_execution_path() -> None:
    assert spec_for(COMMAND_EXECUTION.example_path) is COMMAND_EXECUTION
    assert spec_for(f"var/log/azure/{VMS}/CommandExecution_myExt.log") is COMMAND_EXECUTION


# --- end to end through logscan.load ----------------------------------------------------


def _line(ts: str, msg: str) -> bytes:
    return f"{ts} INFO ExtHandler ExtHandler {msg}\n".encode()


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    log = tmp_path / "var" / "log"
    log.mkdir(parents=True)
    (log / "waagent.log").write_bytes(_line("2024-05-30T10:00:00.000000Z", "current"))
    (log / "waagent.log.1").write_bytes(
        _line("2024-05-29T10:00:00.000000Z", "rotated once").replace(b"\n", b"\r\n")
        + b"2024-05-29T10:00:01.000000Z ERROR ExtHandler ExtHandler [ProtocolError] crlf\r\nInner error: x\r\n"
    )
    (log / "waagent.log.2.gz").write_bytes(gzip.compress(_line("2024-05-28T10:00:00.000000Z", "rotated twice, gz")))
    full = gzip.compress(b"".join(_line(f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}.000000Z", f"dated {i}") for i in range(3000)))
    (log / "waagent.log-2024-05-01-1714521600.gz").write_bytes(full[: len(full) // 2])
    (log / "truncated__var_log_waagent.log").write_bytes(
        codecs.BOM_UTF16_LE + _line("2024-05-27T10:00:00.000000Z", "utf16 caf\u00e9").decode().encode("utf-16-le")
    )
    (log / "waagent.log.3").write_bytes(b"2024-05-26T10:00:00.000000Z INFO ExtHandler ExtHandler latin1 caf\xe9 and \\xe9 escaped\n")
    (log / "waagent.log.4").write_bytes(b"")
    (log / "waagent.log.5").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 4000 + bytes(range(256)) * 4)
    # rotated names deliberately in the wrong order of their contents' time
    for i, p in enumerate(sorted(log.iterdir())):
        os.utime(p, (1_700_000_000 + i, 1_700_000_000 + i))
    return tmp_path


def test_load_orders_rotated_files_by_their_times(bundle: Path) -> None:
    b = logscan.load(bundle)
    ev = b.events
    assert ev.schema == pl.Schema(EVENT_SCHEMA)
    assert ev["time"].is_sorted()
    expected_order = [
        "var/log/waagent.log-2024-05-01-1714521600.gz",
        "var/log/waagent.log.3",
        "var/log/truncated__var_log_waagent.log",
        "var/log/waagent.log.2.gz",
        "var/log/waagent.log.1",
        "var/log/waagent.log",
    ]
    assert ev["file"].unique(maintain_order=True).to_list() == expected_order
    assert set(ev["source"]) == {"waagent_log"}


def test_load_reads_crlf_utf16_latin1_and_escapes(bundle: Path) -> None:
    ev = logscan.load(bundle).events
    by_file = {f: g for (f,), g in ev.group_by("file")}
    crlf = by_file["var/log/waagent.log.1"]
    assert crlf.height == 2
    assert not crlf["text"].str.contains("\r").any()
    assert crlf["message"][1] == "[ProtocolError] crlf\nInner error: x"
    assert by_file["var/log/truncated__var_log_waagent.log"]["message"][0] == "utf16 café"
    latin = by_file["var/log/waagent.log.3"]["message"][0]
    assert latin == "latin1 café and \\xe9 escaped"  # Latin-1 byte decoded, \xNN escape kept literally


def test_load_truncated_gz_keeps_readable_part_and_reports(bundle: Path) -> None:
    b = logscan.load(bundle)
    name = "var/log/waagent.log-2024-05-01-1714521600.gz"
    errs = b.ingest_errors.filter(pl.col("file") == name)
    assert errs["kind"].to_list() == ["truncated"]
    got = b.events.filter(pl.col("file") == name)
    assert 0 < got.height < 3000
    assert got["message"][0] == "dated 0"


def test_load_reports_empty_binary_and_decoding(bundle: Path) -> None:
    errs = logscan.load(bundle).ingest_errors
    kinds = dict(zip(errs["file"], errs["kind"], strict=False))
    assert kinds["var/log/waagent.log.4"] == "empty"
    assert kinds["var/log/waagent.log.5"] == "binary"
    assert kinds["var/log/waagent.log.3"] == "decoded"


def test_load_coverage_counts_waagent(bundle: Path) -> None:
    cov = logscan.load(bundle).coverage
    assert cov["platform"] == "linux"
    assert cov["sources"]["waagent_log"]["files"] == 6
    assert "waagent_log" not in cov["missing"]


def test_load_reads_the_other_linux_sources_too(tmp_path: Path) -> None:
    ext = tmp_path / "var" / "log" / "azure" / VMS
    ext.mkdir(parents=True)
    (ext / "extension.log").write_text(f"2024-05-30 10:00:01.000000 [{VMS}-1.0]Enable,error,76,x,True\n")
    (ext / "shell.log").write_text("Thu May 30 10:00:00 UTC 2024- 1 returned from handle.py\n")
    (tmp_path / "var" / "log" / "syslog").write_text("May 30 10:00:02 vm9 dhclient[1]: DHCPACK from 168.63.129.16\n")
    os.utime(tmp_path / "var" / "log" / "syslog", (utc(2024, 6, 1).timestamp(),) * 2)
    b = logscan.load(tmp_path)
    assert b.events["source"].to_list() == ["shell_log", "vmsnapshot_log", "syslog"]
    assert b.events["level"].to_list()[:2] == ["ERROR", "ERROR"]
    assert b.identity.get("hostname") == "vm9"
