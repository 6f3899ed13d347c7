"""Windows agent/plugin state files (vmsnapshot-extension.md §2.1, §1.4–1.5) and whole Windows
bundles through ``logscan.load`` in the three layouts: CollectGuestLogs-like zip, disk-inspect
tree (``device_0/...``) and a plain folder of exported logs."""

from __future__ import annotations

import codecs
import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.errors import IngestError
from logscan.frames import EVENT_SCHEMA, FACT_SCHEMA
from logscan.sources import spec_for
from logscan.sources.base import SourceFile
from logscan.sources.win_agent_config import AGENT_CONFIG
from logscan.sources.win_agent_state import (
    AGGREGATE_STATUS,
    EXT_STATUS,
    RUNTIME_SETTINGS,
    SPECS,
)

VMS = "Microsoft.Azure.RecoveryServices.VMSnapshot"
VMS_DIR = f"Plugins/{VMS}/1.0.75.0"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "agent-samples"

# Secrets that must never reach a loaded frame.
PROTECTED = "MIIBzQYJKoZIhvcNAQcDoIIBvjCCAboCAQAxggFuPROTECTEDBLOB"
SAS_SIG = "hfRh7gzUE7sUtYwke78IOlZOrTRCYvkec4hGZ9zZzXo"
PASSWORD = "Hunter2Hunter2!"
SECRETS = (PROTECTED, SAS_SIG, PASSWORD)
# .NET ticks of 2024-04-17T07:19:26Z (100 ns units since 0001-01-01).
TICKS = (datetime(2024, 4, 17, 7, 19, 26) - datetime(1, 1, 1)) // timedelta(microseconds=1) * 10


def sf(path: str, data: str | bytes) -> SourceFile:
    return SourceFile(path, path, data.encode() if isinstance(data, str) else data)


def facts_dict(facts: pl.DataFrame, subject: str) -> dict[str, str]:
    return dict(facts.filter(pl.col("subject") == subject).select("key", "value").iter_rows())


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


def vmsnapshot_status(code: str = "76", status: str = "success") -> list:
    """A VMSnapshot status in the §1.4 shape (status forced to success, code the outcome)."""
    inner = [
        {
            "status": {
                "status": "error",
                "code": code,
                "telemetryData": [{"Key": "extErrorCode", "Value": "FailedRetryableSnapshotFailedRestrictedNetwork"}],
                "vmHealthInfo": {"vmHealthState": 256, "vmHealthStatusCode": 761},
            },
            "timestampUTC": "\\/Date(1700000000000)\\/",
        }
    ]
    message = {"messageStr": " snapshotCreator=backupHostService, hostStatusCodePreSnapshot=200, hostStatusCodeDoSnapshot=500, ", "snapshotConsistency": 0}
    return [
        {
            "version": "1.0",
            "timestampUTC": "2023-11-14T22:13:20Z",
            "status": {
                "name": VMS,
                "operation": "Enable",
                "status": status,
                "substatus": [{"code": "0", "name": json.dumps(inner), "status": "success", "formattedMessage": None}],
                "code": code,
                "taskId": "6a0c3bd2-0000-0000-0000-000000000000",
                "formattedMessage": {"lang": "en-US", "message": json.dumps(message)},
            },
        }
    ]


AGGREGATE = {
    "version": "1.1",
    "timestampUTC": "2024-04-17T07:20:00Z",
    "aggregateStatus": {
        "guestAgentStatus": {"version": "2.7.41491.1102", "status": "Ready", "formattedMessage": {"lang": "en-US", "message": "GuestAgent is running and processing the extensions."}},
        "handlerAggregateStatus": [
            {
                "handlerVersion": "1.0.75.0",
                "handlerName": VMS,
                "status": "Ready",
                "code": 0,
                "formattedMessage": {"lang": "en-US", "message": "Plugin enabled"},
                "runtimeSettingsStatus": {
                    "settingsStatus": {
                        "status": {"name": VMS, "operation": "Enable", "status": "success", "code": "76", "formattedMessage": {"lang": "en-US", "message": "{\"messageStr\": \"snapshot failed\"}"}},
                        "version": "1.0",
                        "timestampUTC": "2024-04-17T07:19:50Z",
                    },
                    "sequenceNumber": 5,
                },
            },
            {
                "handlerVersion": "1.10.15",
                "handlerName": "Microsoft.Compute.CustomScriptExtension",
                "status": "NotReady",
                "code": 1009,
                "formattedMessage": {"lang": "en-US", "message": "Enable failed"},
            },
            {"handlerVersion": "2.1", "handlerName": "Microsoft.Compute.BGInfo", "status": "Ready", "code": 0},
        ],
    },
    "guestOSInfo": {"computerName": "winvm1", "osName": "Windows Server 2019 Datacenter", "osVersion": "10.0.17763"},
}

SETTINGS = {
    "runtimeSettings": [
        {
            "handlerSettings": {
                "protectedSettingsCertThumbprint": "F6ABAA61098A301EBB8A571C3C7CF77F355F7FA9",
                "protectedSettings": PROTECTED,
                "publicSettings": {
                    "locale": "en-us",
                    "taskId": "6a0c3bd2-0000-0000-0000-000000000000",
                    "commandToExecute": "snapshot",
                    "commandStartTimeUTCTicks": str(TICKS),
                    "vmType": "microsoft.compute/virtualmachines",
                    "logsBlobUri": f"https://acct.blob.core.windows.net/logs/x?sv=2020-08-04&se=2024-04-18&sp=rw&sig={SAS_SIG}",
                    "adminPassword": PASSWORD,
                },
            }
        }
    ]
}

EXT_CONFIG = f"""<?xml version="1.0" encoding="utf-8"?>
<Extensions version="1.0.0.0" goalStateIncarnation="12"><GuestAgentExtension xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <GAFamilies><GAFamily><Name>Prod</Name><Version>2.7.41491.1102</Version></GAFamily></GAFamilies>
  <Location>westeurope</Location>
</GuestAgentExtension>
<Plugins>
  <Plugin name="{VMS}" version="1.0.75.0" location="https://a/manifest.xml" state="enabled" autoUpgrade="true" isJson="true" />
  <Plugin name="Microsoft.Compute.BGInfo" version="2.1" location="https://b/manifest.xml" state="disabled" autoUpgrade="true" isJson="true" />
</Plugins>
<PluginSettings>
  <Plugin name="{VMS}" version="1.0.75.0">
    <RuntimeSettings seqNo="5">{{"runtimeSettings":[{{"handlerSettings":{{"protectedSettingsCertThumbprint":"F6AB","protectedSettings":"{PROTECTED}","publicSettings":{{"commandToExecute":"snapshot"}}}}}}]}}</RuntimeSettings>
  </Plugin>
</PluginSettings>
<StatusUploadBlob statusBlobType="BlockBlob">https://test.blob.core.windows.net/vhds/vm.status?sr=b&amp;sp=rw&amp;se=9999-01-01&amp;sv=2014-02-14&amp;sig={SAS_SIG}</StatusUploadBlob>
<InVMGoalStateMetaData inSvdSeqNo="10" createdOnTicks="637726657706205217" activityId="a33f6f53" correlationId="9a47a2a2" />
</Extensions>
"""


# --- .status / HeartBeat.Json / SeqNumber.txt ---------------------------------------------


def test_vmsnapshot_status_level_from_code_not_status():
    path = f"Packages/{VMS_DIR}/Status/5.status"
    p = EXT_STATUS.parse(sf(path, json.dumps(vmsnapshot_status("76"))))
    f = facts_dict(p.facts, f"extension:{VMS}")
    assert f["status_in_file"] == "success"  # what the file says...
    assert f["status"] == "error" and f["status_code"] == "76"  # ...and the real outcome
    assert f["version"] == "1.0.75.0" and f["sequence"] == "5" and f["operation"] == "Enable"
    assert f["status_message"].startswith("snapshotCreator=backupHostService")
    assert f["ext_error_code"] == "FailedRetryableSnapshotFailedRestrictedNetwork"
    assert f["vm_health_status_code"] == "761"
    assert p.facts.columns == list(FACT_SCHEMA)
    ev = p.events.row(0, named=True)
    assert ev["level"] == "ERROR"
    assert "FailedRetryableSnapshotFailedNoNetwork" in ev["message"] and "file says success" in ev["message"]
    assert ev["time"] == utc(2023, 11, 14, 22, 13, 20) and ev["time_basis"] == "utc"
    assert (ev["extension"], ev["ext_version"], ev["source"]) == (VMS, "1.0.75.0", "win_ext_status")


@pytest.mark.parametrize(
    ("code", "status", "effective", "level"),
    [
        ("1", "success", "success", "INFO"),
        ("0", "success", "success", "INFO"),
        ("3", "success", "success", "INFO"),
        ("4", "success", "transitioning", "WARNING"),
        ("2", "success", "error", "ERROR"),
        ("402", "success", "error", "ERROR"),
        ("1", "error", "error", "ERROR"),
        ("1", "bogus", "error", "ERROR"),
    ],
)
def test_vmsnapshot_levels(code, status, effective, level):
    p = EXT_STATUS.parse(sf(f"Packages/{VMS_DIR}/Status/7.status", json.dumps(vmsnapshot_status(code, status))))
    assert p.events["level"][0] == level
    f = facts_dict(p.facts, f"extension:{VMS}")
    assert f["status"] == effective
    assert f.get("status_in_file") == (None if status == effective else status)


def test_generic_status_level_from_status():
    doc = [{"version": 1.0, "timestampUTC": "2024-01-01T00:00:00Z", "status": {"name": "x", "operation": "Enable", "status": "error", "code": 1, "formattedMessage": {"lang": "en-US", "message": "script failed"}}}]
    p = EXT_STATUS.parse(sf("Packages/Plugins/Microsoft.Compute.CustomScriptExtension/1.10.15/Status/0.status", json.dumps(doc)))
    assert p.events["level"][0] == "ERROR"
    assert facts_dict(p.facts, "extension:Microsoft.Compute.CustomScriptExtension")["status_message"] == "script failed"


def test_real_linux_vmsnapshot_status_sample_read_as_windows_file():
    sample = SHARED / "ext__sample-status.json"
    if not sample.exists():
        pytest.skip("shared agent samples absent")
    p = EXT_STATUS.parse(sf(f"Packages/{VMS_DIR}/Status/0.status", sample.read_bytes()))
    f = facts_dict(p.facts, f"extension:{VMS}")
    assert f["status_code"] == "1" and f["ext_error_code"] == "success" and f["vm_health_status_code"] == "1"
    assert p.events["level"][0] == "INFO"


def test_real_invalid_status_sample_is_a_parse_error():
    sample = SHARED / "ext__sample-status-invalid-json-format.json"
    if not sample.exists():
        pytest.skip("shared agent samples absent")
    with pytest.raises(IngestError) as exc:
        EXT_STATUS.parse(sf(f"Packages/{VMS_DIR}/Status/0.status", sample.read_bytes()))
    assert exc.value.kind == "parse" and exc.value.line is not None


def test_whitespace_status_is_empty_error():
    with pytest.raises(IngestError) as exc:
        EXT_STATUS.parse(sf(f"Packages/{VMS_DIR}/Status/0.status", "  \r\n"))
    assert exc.value.kind == "empty"


def test_heartbeat_and_seqnumber():
    hb = [{"version": 1.0, "heartbeat": {"status": "notready", "code": 1, "Message": "VSS writers in a bad state"}}]
    p = EXT_STATUS.parse(sf(f"Packages/{VMS_DIR}/Status/HeartBeat.Json", json.dumps(hb)))
    f = facts_dict(p.facts, f"extension:{VMS}")
    assert f == {"heartbeat_status": "notready", "heartbeat_code": "1", "heartbeat_message": "VSS writers in a bad state"}
    assert p.events["level"][0] == "WARNING"
    p = EXT_STATUS.parse(sf(f"Packages/{VMS_DIR}/SeqNumber.txt", "5\r\n"))
    assert facts_dict(p.facts, f"extension:{VMS}") == {"last_sequence": "5"}
    with pytest.raises(IngestError):
        EXT_STATUS.parse(sf(f"Packages/{VMS_DIR}/SeqNumber.txt", "five"))


# --- aggregate status ---------------------------------------------------------------------


def test_aggregate_status_facts_and_events():
    text = json.dumps(AGGREGATE, indent=2)
    p = AGGREGATE_STATUS.parse(sf("WindowsAzure/Logs/AggregateStatus/aggregatestatus_20240417.json", text))
    agent = facts_dict(p.facts, "agent")
    assert agent == {"version": "2.7.41491.1102", "status": "Ready", "status_message": "GuestAgent is running and processing the extensions."}
    assert facts_dict(p.facts, "vm") == {"computer": "winvm1"}
    assert facts_dict(p.facts, "os")["version"] == "10.0.17763"
    vms = facts_dict(p.facts, f"extension:{VMS}")
    assert vms["handler_status"] == "Ready" and vms["sequence"] == "5" and vms["status_code"] == "76"
    assert vms["status"] == "error" and vms["status_in_file"] == "success"
    assert vms["status_message"] == "snapshot failed"
    cse = facts_dict(p.facts, "extension:Microsoft.Compute.CustomScriptExtension")
    assert cse == {"version": "1.10.15", "handler_status": "NotReady", "handler_code": "1009", "handler_message": "Enable failed"}
    ev = p.events
    assert ev.columns == list(EVENT_SCHEMA)
    handlers = ev.filter(pl.col("event_name") == "handler_status")
    assert handlers["extension"].to_list() == [VMS, "Microsoft.Compute.CustomScriptExtension", "Microsoft.Compute.BGInfo"]
    assert handlers["level"].to_list() == ["ERROR", "ERROR", "INFO"]
    # Each event points at the line where its handler is named.
    lines = text.splitlines()
    for name, line in handlers.select("extension", "line").iter_rows():
        assert name in lines[line - 1]
    assert handlers["time"][0] == utc(2024, 4, 17, 7, 19, 50)
    assert ev.filter(pl.col("event_name") == "agent_status")["level"].to_list() == ["INFO"]


def test_aggregate_without_wrapper_and_other_key_case():
    doc = {"GuestAgentStatus": {"Version": "2.7.1", "Status": "NotReady"}, "HandlerAggregateStatus": []}
    p = AGGREGATE_STATUS.parse(sf("AggregateStatus/aggregatestatus.json", json.dumps(doc)))
    assert facts_dict(p.facts, "agent") == {"version": "2.7.1", "status": "NotReady"}
    assert p.events["level"].to_list() == ["ERROR"]


def test_aggregate_not_a_status_document():
    with pytest.raises(IngestError) as exc:
        AGGREGATE_STATUS.parse(sf("AggregateStatus/aggregatestatus.json", '{"foo": 1}'))
    assert exc.value.kind == "parse"


# --- runtime settings ---------------------------------------------------------------------


def test_settings_public_only_and_no_secret():
    p = RUNTIME_SETTINGS.parse(sf(f"Packages/{VMS_DIR}/RuntimeSettings/5.settings", json.dumps(SETTINGS)))
    f = facts_dict(p.facts, f"extension:{VMS}")
    assert f["settings.commandToExecute"] == "snapshot"
    assert f["settings.vmType"] == "microsoft.compute/virtualmachines"
    assert f["sequence"] == "5" and f["version"] == "1.0.75.0"
    assert f["protected_settings_present"] == "true"
    assert f["command_start_time"] == "2024-04-17T07:19:26+00:00"
    assert f["settings.adminPassword"] == "***"
    assert f["settings.logsBlobUri"] == "***"  # one policy (io.redact.secret_setting): URLs withheld whole
    blob = p.facts.write_csv()
    for secret in SECRETS:
        assert secret not in blob
    assert not any("protected" in k.lower() for k in f if k.startswith("settings."))


# --- config XML ---------------------------------------------------------------------------


def test_extensions_config_xml():
    p = AGENT_CONFIG.parse(sf("WindowsAzure/config/WireServerRoleExtensionsConfig_1234._winvm1.xml", EXT_CONFIG))
    assert facts_dict(p.facts, "goal_state")["incarnation"] == "12"
    assert facts_dict(p.facts, "vm") == {"location": "westeurope"}
    vms = facts_dict(p.facts, f"extension:{VMS}")
    assert (vms["version"], vms["state"], vms["sequence"]) == ("1.0.75.0", "enabled", "5")
    assert facts_dict(p.facts, "extension:Microsoft.Compute.BGInfo")["state"] == "disabled"
    blob = p.facts.write_csv()
    for secret in SECRETS:
        assert secret not in blob


def test_goal_state_sample():
    sample = SHARED / "hibernate__goal_state_1__GoalState.xml"
    if not sample.exists():
        pytest.skip("shared agent samples absent")
    p = AGENT_CONFIG.parse(sf("WindowsAzure/config/GoalState.xml", sample.read_bytes()))
    gs = facts_dict(p.facts, "goal_state")
    assert gs["incarnation"] == "1" and gs["container_id"].startswith("06185f00")


@pytest.mark.parametrize(
    "xml",
    [
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Extensions>&b;</Extensions>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Extensions>&e;</Extensions>',
    ],
)
def test_unsafe_xml_refused(xml):
    with pytest.raises(IngestError) as exc:
        AGENT_CONFIG.parse(sf("WindowsAzure/config/x.xml", xml))
    assert exc.value.kind == "unsafe-xml"


def test_utf16_xml_with_declaration():
    data = codecs.BOM_UTF16_LE + EXT_CONFIG.replace("utf-8", "utf-16").encode("utf-16-le")
    p = AGENT_CONFIG.parse(sf("WindowsAzure/config/ext.xml", data))
    assert facts_dict(p.facts, "goal_state")["incarnation"] == "12"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("WindowsAzure/Logs/AggregateStatus/aggregatestatus.json", "win_aggregate_status"),
        ("device_0/WindowsAzure/Logs/AggregateStatus/AggregateStatus_1.json", "win_aggregate_status"),
        (f"device_0/Packages/{VMS_DIR}/Status/5.status", "win_ext_status"),
        (f"C/Packages/{VMS_DIR}/Status/HeartBeat.Json", "win_ext_status"),
        (f"Packages/{VMS_DIR}/SeqNumber.txt", "win_ext_status"),
        (f"packages/plugins/{VMS}/1.0.75.0/runtimesettings/5.settings", "win_runtime_settings"),
        ("device_0/WindowsAzure/config/00000000.0._winvm1.1.xml", "win_agent_config"),
        ("Config/WireServerRoleExtensionsConfig_1234._winvm1.xml", "win_agent_config"),
    ],
)
def test_paths(path, name):
    spec = spec_for(path)
    assert spec is not None and spec.name == name


def test_specs_windows_and_examples_claimed():
    for spec in [*SPECS, AGENT_CONFIG]:
        assert spec.platform == "windows"
        assert spec_for(spec.example_path) is spec


# --- whole bundles through logscan.load -----------------------------------------------------

WAAPP = (
    "[00000006] [11/14/2019 05:52:13.44] [INFO]  WindowsAzureGuestAgent starting. Version 2.7.41491.949\n"
    "[00000020] [11/14/2019 06:02:33.43] [HEART] WindowsAzureGuestAgent Heartbeat.\n"
    f"[00000007] 2024-04-17T07:19:27.000Z [WARN]  Processing plugin {VMS} version 1.0.75.0, state: enabled, autoupgrade: True, isJson: True\n"
    "[00000008] 2024-04-17T07:19:28.000Z [ERROR] InstallPlugins() failed with exception: System.AggregateException: boom\n"
    "   at Microsoft.WindowsAzure.GuestAgent.Plugin.PluginManager.Install()\n"
)
BCDR_LOG = "Snapshot started\nVSS operation error This drive is locked by BitLocker Drive Encryption.\n"


def _files(logs: str, packages: str, config: str) -> dict[str, bytes]:
    """The bundle's files; ``logs``/``packages``/``config`` are the layout's folder prefixes."""
    return {
        f"{logs}WaAppAgent.log": codecs.BOM_UTF16_LE + WAAPP.replace("\n", "\r\n").encode("utf-16-le"),
        f"{logs}TransparentInstaller.log": b"[ERROR] System.Configuration.ConfigurationErrorsException: broken\n",
        f"{logs}Plugins/{VMS}/1.0.75.0/IaaSBcdrExtension1.log": BCDR_LOG.encode(),
        f"{logs}AggregateStatus/aggregatestatus.json": json.dumps(AGGREGATE).encode(),
        f"{logs}AggregateStatus/aggregatestatus_old.json": b'{"aggregateStatus": {"guestAgentStatus": ',
        f"{packages}{VMS_DIR}/RuntimeSettings/5.settings": json.dumps(SETTINGS).encode(),
        f"{packages}{VMS_DIR}/Status/5.status": json.dumps(vmsnapshot_status("76")).encode(),
        f"{packages}{VMS_DIR}/Status/4.status": b"",
        f"{config}WireServerRoleExtensionsConfig_1234._winvm1.xml": EXT_CONFIG.encode(),
    }


LAYOUTS = {
    # CollectGuestLogs zip (layout unverified: Logs/, Plugins/, Config/ at the top).
    "zip": ("Logs/", "", "Config/"),
    # Disk-inspect tree keeps the drive layout.
    "disk": ("device_0/WindowsAzure/Logs/", "device_0/Packages/", "device_0/WindowsAzure/config/"),
    # A plain folder of exported logs, C:\ copied as C/.
    "plain": ("C/WindowsAzure/Logs/", "C/Packages/", "C/WindowsAzure/Config/"),
}


def _make(tmp_path: Path, layout: str) -> tuple[Path, dict[str, bytes]]:
    files = _files(*LAYOUTS[layout])
    if layout == "zip":
        bundle = tmp_path / "VMAgentLogs.zip"
        with zipfile.ZipFile(bundle, "w") as z:
            for name, data in files.items():
                z.writestr(name, data)
        return bundle, files
    bundle = tmp_path / f"bundle-{layout}"
    for name, data in files.items():
        p = bundle / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return bundle, files


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_load_windows_bundle(tmp_path, layout):
    bundle, files = _make(tmp_path, layout)
    logs, packages, config = LAYOUTS[layout]
    b = logscan.load(bundle)
    cov = b.coverage
    assert cov["platform"] == "windows"
    assert "waappagent_log" not in cov["missing"]
    for source in ("waappagent_log", "transparent_installer_log", "vmsnapshot_win_log", "win_aggregate_status", "win_ext_status", "win_runtime_settings", "win_agent_config"):
        assert source in cov["sources"], source

    ev = b.events
    # WaAppAgent.log (UTF-16 with BOM, CRLF): events at the right file and lines.
    wa = ev.filter(pl.col("file") == f"{logs}WaAppAgent.log").sort("line")
    assert wa["line"].to_list() == [1, 2, 3, 4]
    assert wa["source"].unique().to_list() == ["waappagent_log"]
    assert wa.filter(pl.col("line") == 3)["extension"].to_list() == [VMS]
    assert wa.filter(pl.col("line") == 4)["text"][0].endswith("PluginManager.Install()")
    # IaaSBcdrExtension log: every line, keyword level, extension from the path.
    bc = ev.filter(pl.col("file") == f"{logs}Plugins/{VMS}/1.0.75.0/IaaSBcdrExtension1.log").sort("line")
    assert bc["text"].to_list() == BCDR_LOG.splitlines()
    assert bc["level"].to_list() == [None, "ERROR"]
    assert set(bc["extension"]) == {VMS}
    # The VMSnapshot status event, with its code.
    st = ev.filter(pl.col("file") == f"{packages}{VMS_DIR}/Status/5.status")
    assert st["level"].to_list() == ["ERROR"] and "code 76" in st["message"][0]

    f = b.facts
    versions = f.filter((pl.col("subject") == "agent") & (pl.col("key") == "version"))
    assert dict(versions.select("value", "source").iter_rows()) == {"2.7.41491.949": "waappagent_log", "2.7.41491.1102": "win_aggregate_status"}
    vms = f.filter(pl.col("subject") == f"extension:{VMS}")
    assert set(vms.filter(pl.col("key") == "state")["value"]) == {"enabled"}
    assert set(vms.filter(pl.col("key") == "state")["file"]) == {f"{config}WireServerRoleExtensionsConfig_1234._winvm1.xml"}
    assert set(vms.filter(pl.col("key") == "status_code")["value"]) == {"76"}
    assert b.identity.get("computer") == "winvm1"

    err = b.ingest_errors
    by_file = {r["file"]: r["kind"] for r in err.iter_rows(named=True)}
    assert by_file[f"{logs}AggregateStatus/aggregatestatus_old.json"] == "parse"  # malformed JSON
    assert by_file[f"{packages}{VMS_DIR}/Status/4.status"] == "empty"
    assert by_file.get(f"{logs}WaAppAgent.log") in (None, "decoded")  # UTF-16 is read, not refused
    assert not err.filter(pl.col("kind") == "parser-bug").height

    # No secret from the settings or the extensions config reaches any frame.
    dump = "\n".join(df.cast({c: pl.String for c, t in df.schema.items() if t == pl.Datetime("us", "UTC")}).drop("data", strict=False).write_csv() for df in (b.events, b.facts, b.ingest_errors))
    for secret in SECRETS:
        assert secret not in dump, secret
    assert len(files) == 9


def test_windows_bundle_without_waappagent_reports_it_missing(tmp_path):
    bundle = tmp_path / "b"
    (bundle / "WindowsAzure/Logs/AggregateStatus").mkdir(parents=True)
    (bundle / "WindowsAzure/Logs/AggregateStatus/aggregatestatus.json").write_text(json.dumps(AGGREGATE))
    b = logscan.load(bundle)
    assert b.coverage["platform"] == "windows"
    assert "waappagent_log" in b.coverage["missing"]
