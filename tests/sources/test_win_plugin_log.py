"""Windows per-plugin logs and the VMSnapshot plugin's IaaSBcdrExtension*.log (format unknown,
vmsnapshot-extension.md §2.4): every line kept, levels from keywords, extension from the path."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from logscan.frames import EVENT_SCHEMA, TimeBasis
from logscan.sources import spec_for
from logscan.sources.base import SourceFile
from logscan.sources.win_plugin_log import SPEC, VMSNAPSHOT_LOG, plugin_from_path

VMS = "Microsoft.Azure.RecoveryServices.VMSnapshot"
BCDR = f"WindowsAzure/Logs/Plugins/{VMS}/1.0.75.0/IaaSBcdrExtension3.log"


def parse(text: str, path: str, spec=SPEC):
    return spec.parse(SourceFile(path, path, text.encode())).events


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


def test_unknown_format_every_line_own_event_with_keyword_levels():
    # Messages from §2.6 (the doc's wording), in no known line format.
    text = (
        "Snapshot operation started\n"
        "VSS operation error This drive is locked by BitLocker Drive Encryption. You must unlock this drive from the Control Panel.\n"
        "Warning: COM+ was unable to talk to the Microsoft Distributed Transaction Coordinator\n"
        "Faulting application name: IaaSBcdrExtension.exe\n"
        "\n"
        "Exception in snapshot: System.Runtime.InteropServices.COMException\n"
        "all done\n"
    )
    ev = parse(text, BCDR, VMSNAPSHOT_LOG)
    assert ev.columns == list(EVENT_SCHEMA)
    assert ev["text"].to_list() == text.splitlines()
    assert ev["line"].to_list() == list(range(1, 8))
    assert ev["level"].to_list() == [None, "ERROR", "WARNING", "ERROR", None, "ERROR", None]
    assert ev["time"].null_count() == 7
    assert set(ev["time_basis"]) == {TimeBasis.NONE}
    assert set(ev["extension"]) == {VMS}
    assert set(ev["ext_version"]) == {"1.0.75.0"}
    assert set(ev["source"]) == {"vmsnapshot_win_log"}
    assert set(ev["process"]) == {"IaaSBcdrExtension"}


def test_timestamped_lines_open_records_and_continuations_fold():
    text = (
        "orphan before any timestamp\n"
        "2024-05-29 05:45:42.123 Info Starting snapshot\n"
        "2024-05-29T05:45:43Z ERROR Snapshot failed\n"
        "   at IaaSBcdr.Snapshot()\n"
        "05/29/2024 05:45:44 PM warn slow\n"
        "[00000004] 2024-05-29T05:45:45.5Z [INFO]  WaAppAgent-style line\n"
    )
    ev = parse(text, BCDR, VMSNAPSHOT_LOG)
    assert ev["line"].to_list() == [1, 2, 3, 5, 6]
    assert ev["time"].to_list() == [
        None,
        utc(2024, 5, 29, 5, 45, 42, 123000),
        utc(2024, 5, 29, 5, 45, 43),
        utc(2024, 5, 29, 17, 45, 44),
        utc(2024, 5, 29, 5, 45, 45, 500000),
    ]
    assert ev["time_basis"].to_list() == [
        TimeBasis.NONE,
        TimeBasis.LOCAL_ASSUMED_UTC,
        TimeBasis.UTC,
        TimeBasis.LOCAL_ASSUMED_UTC,
        TimeBasis.UTC,
    ]
    assert ev["level"].to_list() == [None, "INFO", "ERROR", "WARNING", "INFO"]
    assert ev["text"][2] == "2024-05-29T05:45:43Z ERROR Snapshot failed\n   at IaaSBcdr.Snapshot()"
    assert ev["message"][1] == "Starting snapshot"
    assert ev["thread"][4] == "00000004"
    # Every input line is somewhere in the records.
    assert "\n".join(ev["text"]) == text.rstrip("\n")


def test_numeric_offset_converted_to_utc():
    ev = parse("2024-05-29T07:45:43+02:00 done\n", BCDR, VMSNAPSHOT_LOG)
    assert ev["time"][0] == utc(2024, 5, 29, 5, 45, 43)
    assert ev["time_basis"][0] == TimeBasis.UTC


def test_agent_written_plugin_log():
    path = "device_0/WindowsAzure/Logs/Plugins/Microsoft.Compute.CustomScriptExtension/1.10.15/CommandExecution.log"
    text = "[00000005] 2024-04-17T07:19:26.812Z [INFO]  Command: enable exited with 1\nsecond line\n"
    ev = parse(text, path)
    assert ev.height == 1
    row = ev.row(0, named=True)
    assert (row["source"], row["extension"], row["ext_version"]) == ("win_plugin_log", "Microsoft.Compute.CustomScriptExtension", "1.10.15")
    assert row["text"].endswith("second line")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (BCDR, "vmsnapshot_win_log"),
        (f"device_0/windowsazure/logs/plugins/{VMS}/1.0.75.0/iaasbcdrextension.log", "vmsnapshot_win_log"),
        ("IaaSBcdrExtension1.log", "vmsnapshot_win_log"),
        (f"Logs/Plugins/{VMS}/1.0.75.0/CommandExecution_20240101.log", "win_plugin_log"),
        (f"C/WindowsAzure/Logs/Plugins/{VMS}/1.0.75.0/Install.log", "win_plugin_log"),
        (f"Plugins/{VMS}/1.0.75.0/Heartbeat.log", "win_plugin_log"),
        ("var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/CommandExecution.log", "command_execution_log"),
    ],
)
def test_paths(path, name):
    spec = spec_for(path)
    assert spec is not None and spec.name == name


def test_extension_from_path():
    assert plugin_from_path(BCDR) == (VMS, "1.0.75.0")
    assert plugin_from_path("IaaSBcdrExtension1.log") == (None, None)
    ev = parse("x\n", "IaaSBcdrExtension1.log", VMSNAPSHOT_LOG)
    assert ev["extension"][0] == VMS and ev["ext_version"][0] is None
    assert SPEC.platform == VMSNAPSHOT_LOG.platform == "windows"
    assert spec_for(SPEC.example_path) is SPEC and spec_for(VMSNAPSHOT_LOG.example_path) is VMSNAPSHOT_LOG
