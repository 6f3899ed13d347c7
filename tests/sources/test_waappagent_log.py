"""WaAppAgent.log (vmsnapshot-extension.md §2.2 verbatim lines), the other agent logs, and
TransparentInstaller.log (§2.3: unknown prefix, every line kept)."""

from __future__ import annotations

import codecs
from datetime import datetime, timezone

import polars as pl
import pytest

from logscan.frames import EVENT_SCHEMA, TimeBasis
from logscan.sources import spec_for
from logscan.sources.base import SourceFile
from logscan.sources.transparent_installer_log import SPEC as TI
from logscan.sources.waappagent_log import SPEC, WIN_AGENT_LOG

# Verbatim from the format doc, §2.2.
DOC_LINES = """\
[00000006] [11/14/2019 05:52:13.44] [INFO]  WindowsAzureGuestAgent starting. Version 2.7.41491.949
[00000020] [11/14/2019 06:02:33.43] [HEART] WindowsAzureGuestAgent Heartbeat.
[00000018] 2021-01-12T16:35:45Z [INFO]  Test extract the plugin zip file to the temp folder C:\\TEMP\\...
[00000004] 2024-04-17T07:19:26.812Z [TRACE] Microsoft.CPlat.Core.RunCommandWindows: A job object was already existing ...
"""
PATH = "WindowsAzure/Logs/WaAppAgent.log"
VMS = "Microsoft.Azure.RecoveryServices.VMSnapshot"


def parse(text: str, path: str = PATH, spec=SPEC):
    return spec.parse(SourceFile(path, path, text.encode()))


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


def test_both_timestamp_forms_thread_and_levels():
    ev = parse(DOC_LINES).events
    assert ev.columns == list(EVENT_SCHEMA)
    assert ev["line"].to_list() == [1, 2, 3, 4]
    assert ev["time"].to_list() == [
        utc(2019, 11, 14, 5, 52, 13, 440000),
        utc(2019, 11, 14, 6, 2, 33, 430000),
        utc(2021, 1, 12, 16, 35, 45),
        utc(2024, 4, 17, 7, 19, 26, 812000),
    ]
    assert ev["time_basis"].to_list() == [TimeBasis.LOCAL_ASSUMED_UTC] * 2 + [TimeBasis.UTC] * 2
    assert ev["time_raw"].to_list()[:2] == ["11/14/2019 05:52:13.44", "11/14/2019 06:02:33.43"]
    assert ev["thread"].to_list() == ["00000006", "00000020", "00000018", "00000004"]
    # HEART → INFO, TRACE → DEBUG (frames.normalise_level).
    assert ev["level"].to_list() == ["INFO", "INFO", "INFO", "DEBUG"]
    assert ev["message"][0] == "WindowsAzureGuestAgent starting. Version 2.7.41491.949"
    assert ev["text"].to_list() == DOC_LINES.splitlines()
    assert set(ev["source"]) == {"waappagent_log"}
    assert set(ev["process"]) == {"WaAppAgent"}


def test_agent_version_fact_once_per_version():
    text = DOC_LINES + "[00000006] 2021-01-12T16:40:00Z [INFO]  WindowsAzureGuestAgent starting. Version 2.7.41491.1010\n" + DOC_LINES
    facts = parse(text).facts
    assert facts.filter((pl.col("subject") == "agent") & (pl.col("key") == "version"))["value"].to_list() == [
        "2.7.41491.949",
        "2.7.41491.1010",
    ]
    assert facts["line"].to_list() == [1, 5]
    assert facts["time"][0] == utc(2019, 11, 14, 5, 52, 13, 440000)


def test_exception_lines_fold_into_record():
    text = (
        "[00000008] 2024-04-17T07:19:28.000Z [ERROR] InstallPlugins() failed with exception: System.AggregateException: "
        "One or more errors occurred. ---> System.BadImageFormatException: bad\n"
        "   at Microsoft.WindowsAzure.GuestAgent.Plugin.PluginManager.Install()\n"
        "   at Microsoft.WindowsAzure.GuestAgent.Plugin.PluginManager.Run()\n"
        "[00000009] 2024-04-17T07:19:29.000Z [WARN]  next\n"
    )
    ev = parse(text).events
    assert ev.height == 2
    first = ev.row(0, named=True)
    assert first["level"] == "ERROR" and first["line"] == 1
    assert first["text"].count("\n") == 2 and first["text"].endswith("PluginManager.Run()")
    assert "   at Microsoft.WindowsAzure.GuestAgent.Plugin.PluginManager.Install()" in first["message"]
    # Agent namespaces in the exception are not an extension.
    assert first["extension"] is None
    assert ev["level"][1] == "WARNING" and ev["line"][1] == 4


@pytest.mark.parametrize(
    ("msg", "ext", "ver"),
    [
        (f"Processing plugin {VMS} version 1.0.75.0, state: enabled, autoupgrade: True, isJson: True", VMS, "1.0.75.0"),
        (f"Beginning enable of plugin {VMS}.", VMS, None),
        ("Getting plugin locations for plugin 'Microsoft.Compute.BGInfo'. Current Version: '1.8', Requested Version: '1.9'", "Microsoft.Compute.BGInfo", "1.8"),
        ("Microsoft.CPlat.Core.RunCommandWindows: A job object was already existing ...", "Microsoft.CPlat.Core.RunCommandWindows", None),
        (f"Command C:\\Packages\\Plugins\\{VMS}\\1.0.75.0\\IaaSBcdrExtension.exe exited", VMS, None),
        ("Starting installation/update of plugins. Incarnation: 4, extension count: 3", None, None),
        ("System.Net.WebException: Unable to connect to the remote server 168.63.129.16:32526", None, None),
    ],
)
def test_extension_named_in_message(msg, ext, ver):
    row = parse(f"[00000007] 2024-04-17T07:19:27.000Z [INFO]  {msg}\n").events.row(0, named=True)
    assert row["extension"] == ext
    assert row["ext_version"] == ver


def test_utf16_bom_and_crlf():
    data = codecs.BOM_UTF16_LE + DOC_LINES.replace("\n", "\r\n").encode("utf-16-le")
    ev = SPEC.parse(SourceFile(PATH, PATH, data)).events
    assert ev.height == 4
    assert ev["text"][0] == DOC_LINES.splitlines()[0]
    assert ev["time"][3] == utc(2024, 4, 17, 7, 19, 26, 812000)


def test_lines_before_first_header_are_kept_one_each():
    ev = parse("tail of a rotated record\nanother\n" + DOC_LINES).events
    assert ev["text"].to_list()[:2] == ["tail of a rotated record", "another"]
    assert ev["time_basis"].to_list()[:2] == [TimeBasis.NONE] * 2
    assert ev.height == 6


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("WindowsAzure/Logs/WaAppAgent.log", "waappagent_log"),
        ("C/WindowsAzure/Logs/WaAppAgent.log", "waappagent_log"),
        ("device_0/windowsazure/logs/waappagent.log", "waappagent_log"),
        ("Logs/WaAppAgent.log", "waappagent_log"),
        ("WaAppAgent.log", "waappagent_log"),
        ("device_0/WindowsAzure/Logs/AppAgentRuntime.log", "win_agent_log"),
        ("Logs/Telemetry.log", "win_agent_log"),
        ("device_0/WindowsAzure/Logs/MonitoringAgent.log", "win_agent_log"),
        ("WindowsAzure/Logs/TransparentInstaller.log", "transparent_installer_log"),
        ("var/log/waagent.log", "waagent_log"),
    ],
)
def test_paths(path, name):
    spec = spec_for(path)
    assert spec is not None and spec.name == name


def test_specs_are_windows():
    assert SPEC.platform == WIN_AGENT_LOG.platform == TI.platform == "windows"
    assert SPEC.expected and spec_for(SPEC.example_path) is SPEC
    assert spec_for(WIN_AGENT_LOG.example_path) is WIN_AGENT_LOG


def test_other_agent_logs_keep_unknown_lines():
    text = DOC_LINES + "a line in no known format\n"
    ev = parse("a line in no known format\n" + text, "WindowsAzure/Logs/AppAgentRuntime.log", WIN_AGENT_LOG).events
    assert set(ev["source"]) == {"win_agent_log"}
    assert ev["process"][0] == "AppAgentRuntime"
    assert ev.height == 5  # first orphan alone, last folded into the TRACE record
    assert ev["text"][-1].endswith("a line in no known format")


# --- TransparentInstaller.log -------------------------------------------------------------


def test_transparent_installer_unknown_prefix_keeps_every_line():
    text = (
        "Installer starting\n"
        "[ERROR] System.Configuration.ConfigurationErrorsException: The type 'Microsoft.VisualStudio.Diagnostics."
        "ServiceModelSink.Behavior ...' could not be loaded.\n"
        '{"reportTime":"2020-05-01T10:11:12.5Z","services":[{"name":"RdAgent","status":"Running"}]}\n'
        "Copy of the agent failed\n"
        "done\n"
    )
    ev = parse(text, "WindowsAzure/Logs/TransparentInstaller.log", TI).events
    assert ev["text"].to_list() == text.splitlines()
    assert ev["line"].to_list() == [1, 2, 3, 4, 5]
    assert ev["level"].to_list() == [None, "ERROR", None, "ERROR", None]
    assert ev["time"].to_list() == [None, None, utc(2020, 5, 1, 10, 11, 12, 500000), None, None]
    assert ev["extension"].to_list() == [None] * 5  # a .NET type is not an extension


def test_transparent_installer_accepts_waappagent_form():
    text = DOC_LINES + "   at Something.Else()\n"
    ev = parse(text, "WindowsAzure/Logs/TransparentInstaller.log", TI).events
    assert ev.height == 4
    assert ev["time"][0] == utc(2019, 11, 14, 5, 52, 13, 440000)
    assert ev["text"][3].endswith("   at Something.Else()")
