"""Extension/agent status files → facts and status events (VMSnapshotLinux quirks, secrets)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.errors import IngestError
from logscan.sources import ext_status, spec_for
from logscan.sources.base import SourceFile

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "agent-samples"
SNAP = "Microsoft.Azure.RecoveryServices.VMSnapshotLinux"
SNAP_DIR = f"var/lib/waagent/{SNAP}-1.0.9220.0"


def sample(name: str) -> bytes:
    p = SAMPLES / name
    if not p.exists():
        pytest.skip(f"agent sample {name} not available")
    return p.read_bytes()


def parse(path: str, data: bytes | str):
    raw = data.encode() if isinstance(data, str) else data
    return ext_status.parse(SourceFile(path, path, raw))


def fact(facts: pl.DataFrame, subject: str, key: str) -> list[str]:
    return facts.filter((pl.col("subject") == subject) & (pl.col("key") == key))["value"].to_list()


def snapshot_status(code: str, status: str, message_str: str, ext_error: str, health: int,
                    ts: str = "2023-11-14T22:13:20Z") -> str:
    """A VMSnapshotLinux status file shaped as §1.4 documents: message and substatus name hold JSON."""
    inner = [{"status": {"status": "error", "code": code, "name": SNAP, "operation": "Enable",
                         "formattedMessage": {"lang": "en-US", "message": message_str},
                         "telemetryData": [{"Key": "pythonVersion", "Value": "3.8.10"}, {"Key": "extErrorCode", "Value": ext_error}],
                         "vmHealthInfo": {"vmHealthState": 256, "vmHealthStatusCode": health}},
              "version": "1.0", "timestampUTC": "\\/Date(1700000000000)\\/"}]
    doc = [{"version": "1.0", "timestampUTC": ts,
            "status": {"name": SNAP, "operation": "Enable", "status": status,
                       "substatus": [{"code": "0", "name": json.dumps(inner), "status": "success", "formattedMessage": None}],
                       "code": code, "taskId": "6b1c-task",
                       "formattedMessage": {"lang": "en-US", "message": json.dumps(
                           {"messageStr": message_str, "snapshotConsistency": 0, "jobMessage": "", "isSizeComputationFailed": False})},
                       "commandStartTimeUTCTicks": "638355968000000000", "vmHealthInfo": None}}]
    return json.dumps(doc)


# ---------------------------------------------------------------------------------------
# Real samples
# ---------------------------------------------------------------------------------------


def test_real_status_sample_success():
    r = parse(f"{SNAP_DIR}/status/3.status", sample("ext__sample-status.json"))
    subj = f"extension:{SNAP}"
    assert fact(r.facts, subj, "version") == ["1.0.9220.0"]
    assert fact(r.facts, subj, "sequence") == ["3"]
    assert fact(r.facts, subj, "status") == ["success"] and fact(r.facts, subj, "status_code") == ["1"]
    assert fact(r.facts, subj, "ext_error_code") == ["success"]  # from the JSON inside substatus[0].name
    assert fact(r.facts, subj, "vm_health_status_code") == ["1"]
    assert fact(r.facts, subj, "operation") == ["Enable"]
    ev = r.events.row(0, named=True)
    assert r.events.height == 1
    assert ev["source"] == "ext_status" and ev["extension"] == SNAP and ev["ext_version"] == "1.0.9220.0"
    assert ev["level"] == "INFO" and ev["time_basis"] == "utc"
    assert ev["time"] == datetime(2019, 6, 6, 23, 52, 59, tzinfo=timezone.utc)
    assert ev["message"].startswith("VMSnapshotLinux status success code 1: Aenean semper")
    assert "snapshotUri" not in ev["text"]  # the excerpt, not the whole blob


def test_real_invalid_json_sample_is_a_parse_error():
    with pytest.raises(IngestError) as e:
        parse(f"{SNAP_DIR}/status/3.status", sample("ext__sample-status-invalid-json-format.json"))
    assert e.value.kind == "parse" and e.value.line == 37


def test_real_sample_without_status_status_is_reported_as_the_agent_would():
    r = parse(f"{SNAP_DIR}/status/3.status", sample("ext__sample-status-invalid-status-no-status-status-key.json"))
    assert [e["kind"] for e in r.errors] == ["parse"]
    subj = f"extension:{SNAP}"
    assert fact(r.facts, subj, "status") == ["error"]
    assert fact(r.facts, subj, "status_in_file") == ["missing"]
    assert r.events["level"].to_list() == ["ERROR"]


# ---------------------------------------------------------------------------------------
# VMSnapshotLinux codes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "file_status", "level", "effective", "ext_error", "health"),
    [
        ("76", "success", "ERROR", "error", "FailedRetryableSnapshotFailedRestrictedNetwork", 761),  # ARM: file lies
        ("121", "error", "ERROR", "error", "FailedRetryableFsFreezeFailed", 121),  # classic VM keeps "error"
        ("402", "success", "ERROR", "error", "FailedGuestAgentInvokedCommandTooLate", 402),
        ("4", "transitioning", "WARNING", "transitioning", "success", 1),
        ("1", "success", "INFO", "success", "success", 1),
    ],
)
def test_vmsnapshot_code_decides_the_outcome(code, file_status, level, effective, ext_error, health):
    msg = f"Enable failed for code {code}. snapshotCreator=backupHostService, hostStatusCodeDoSnapshot=500, "
    r = parse(f"{SNAP_DIR}/status/7.status", snapshot_status(code, file_status, msg, ext_error, health))
    subj = f"extension:{SNAP}"
    assert fact(r.facts, subj, "status") == [effective]
    assert fact(r.facts, subj, "status_in_file") == ([] if effective == file_status else [file_status])
    assert fact(r.facts, subj, "status_code") == [code]
    assert fact(r.facts, subj, "status_message") == [msg.strip()]  # messageStr, not the JSON around it
    assert fact(r.facts, subj, "ext_error_code") == [ext_error]
    assert fact(r.facts, subj, "vm_health_status_code") == [str(health)]
    ev = r.events.row(0, named=True)
    assert ev["level"] == level
    assert ev["message"].startswith(f"VMSnapshotLinux status {effective} code {code}")
    assert ev["message"].endswith(msg.strip())
    assert ev["time"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert json.loads(ev["text"])["status"]["code"] == code


def test_code_76_message_matches_the_documented_summary():
    r = parse(f"{SNAP_DIR}/status/7.status", snapshot_status("76", "error", "Snapshot failed: no network", "FailedRetryableSnapshotFailedNoNetwork", 76))
    assert r.events["message"][0] == "VMSnapshotLinux status error code 76: Snapshot failed: no network"


def test_private_codes_are_not_read_as_failures_for_other_extensions():
    doc = [{"timestampUTC": "2024-01-01T00:00:00Z", "status": {"status": "success", "code": 76, "operation": "Enable",
                                                               "formattedMessage": {"lang": "en-US", "message": "done"}}}]
    r = parse("var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/status/0.status", json.dumps(doc))
    assert r.events["level"].to_list() == ["INFO"]
    assert fact(r.facts, "extension:Microsoft.Azure.Extensions.CustomScript", "status") == ["success"]


@pytest.mark.parametrize(("status", "level"), [("error", "ERROR"), ("warning", "WARNING"), ("transitioning", "WARNING"), ("bogus", "ERROR")])
def test_generic_status_levels(status, level):
    doc = [{"timestampUTC": "2024-01-01T00:00:00Z", "status": {"status": status, "code": 1, "formattedMessage": {"message": "m"}}}]
    r = parse("var/lib/waagent/Microsoft.OSTCExtensions.VMAccessForLinux-1.5.18/status/2.status", json.dumps(doc))
    assert r.events["level"].to_list() == [level]


@pytest.mark.parametrize("content", ["[]", '[{"version": "1.0"}]', '"just a string"', "   \n"])
def test_unusable_status_documents_are_parse_errors(content):
    with pytest.raises(IngestError) as e:
        parse(f"{SNAP_DIR}/status/1.status", content)
    assert e.value.kind == "parse"


def test_name_and_version_split_at_the_last_dash_before_a_version():
    assert ext_status.split_name_version("Microsoft.CPlat.Core.RunCommand-Linux-1.0.5") == ("Microsoft.CPlat.Core.RunCommand-Linux", "1.0.5")
    doc = [{"timestampUTC": "2024-01-01T00:00:00Z", "status": {"status": "success", "code": 0}}]
    r = parse("var/lib/waagent/Microsoft.CPlat.Core.RunCommand-Linux-1.0.5/status/firstRun.4.status", json.dumps(doc))
    assert r.events["extension"].to_list() == ["Microsoft.CPlat.Core.RunCommand-Linux.firstRun"]
    assert fact(r.facts, "extension:Microsoft.CPlat.Core.RunCommand-Linux.firstRun", "sequence") == ["4"]


# ---------------------------------------------------------------------------------------
# config/, waagent_status.json, error.json
# ---------------------------------------------------------------------------------------


def test_handler_state_and_handler_status():
    r = parse(f"{SNAP_DIR}/config/HandlerState", "Enabled\n")
    assert fact(r.facts, f"extension:{SNAP}", "handler_state") == ["Enabled"]
    hs = {"name": SNAP, "version": "1.0.9220.0", "status": "NotReady", "code": 1009,
          "message": "[ExtensionOperationError] Non-zero exit code: 1, /var/lib/waagent/x/main/handle.sh enable",
          "supports_multi_config": False, "extension_status": None}
    r = parse(f"{SNAP_DIR}/config/HandlerStatus", json.dumps(hs))
    assert fact(r.facts, f"extension:{SNAP}", "handler_status") == ["NotReady"]
    assert fact(r.facts, f"extension:{SNAP}", "handler_code") == ["1009"]
    ev = r.events.row(0, named=True)
    assert ev["level"] == "ERROR" and "Non-zero exit code: 1" in ev["message"] and ev["extension"] == SNAP


SETTINGS = {"runtimeSettings": [{"handlerSettings": {
    "protectedSettingsCertThumbprint": "ABCDEF0123",
    "protectedSettings": "MIIBPROTECTEDSECRETBLOB==",
    "publicSettings": {"locale": "en-us", "taskId": "6b1c-task", "commandToExecute": "snapshot",
                       "commandStartTimeUTCTicks": "638355968000000000", "vmType": "microsoft.compute/virtualmachines",
                       "objectStr": "ZW5jb2RlZCBzbmFwc2hvdCBzYXMgdXJpcw==",
                       "logsBlobUri": "https://acct.blob.core.windows.net/c/l?sv=2020-08-04&sig=LOGSBLOBSIG123"}}}]}


def test_settings_keep_only_public_values_and_never_protected_ones():
    r = parse(f"{SNAP_DIR}/config/5.settings", json.dumps(SETTINGS, indent=2))
    subj = f"extension:{SNAP}"
    assert fact(r.facts, subj, "settings.commandToExecute") == ["snapshot"]
    assert fact(r.facts, subj, "settings.taskId") == ["6b1c-task"]
    assert fact(r.facts, subj, "settings.vmType") == ["microsoft.compute/virtualmachines"]
    assert fact(r.facts, subj, "settings.logsBlobUri") == [ext_status.OMITTED]
    assert fact(r.facts, subj, "settings.objectStr") == [ext_status.OMITTED]
    assert fact(r.facts, subj, "sequence") == ["5"]
    assert not r.facts["key"].str.contains("(?i)protected|thumbprint").any()
    joined = " ".join(r.facts["value"].to_list())
    for secret in ("MIIBPROTECTEDSECRETBLOB", "LOGSBLOBSIG123", "ZW5jb2RlZCBzbmFwc2hvdCBzYXMgdXJpcw", "ABCDEF0123"):
        assert secret not in joined
    # commandStartTimeUTCTicks dates the settings: 638355968000000000 ticks = 2023-11-14T22:13:20Z.
    assert set(r.facts["time"]) == {datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)}
    assert r.events.height == 0


WAAGENT_STATUS = {
    "version": "1.1", "timestampUTC": "2024-05-30T13:20:00Z",
    "aggregateStatus": {
        "guestAgentStatus": {"version": "2.11.1.4", "status": "Ready", "formattedMessage": {"lang": "en-US", "message": "Guest Agent is running"}},
        "handlerAggregateStatus": [
            {"handlerVersion": "1.0.9220.0", "handlerName": SNAP, "status": "Ready", "code": 0, "useExactVersion": True,
             "formattedMessage": {"lang": "en-US", "message": "Plugin enabled"},
             "runtimeSettingsStatus": {"settingsStatus": {"status": {"name": SNAP, "configurationAppliedTime": None, "operation": "Enable",
                                                                     "status": "success", "code": 76,
                                                                     "formattedMessage": {"lang": "en-US", "message": "{\"messageStr\": \"all snapshots failed\"}"}},
                                                          "version": 1.0, "timestampUTC": "2024-05-30T13:18:00Z"},
                                       "sequenceNumber": 5}},
            {"handlerVersion": "2.1.10", "handlerName": "Microsoft.Azure.Extensions.CustomScript", "status": "NotReady", "code": 1009,
             "formattedMessage": {"lang": "en-US", "message": "[ExtensionOperationError] Non-zero exit code: 1"}},
        ],
        "vmArtifactsAggregateStatus": {"goalStateAggregateStatus": {"status": "Success", "code": 0, "inSvdSeqNo": "1"}},
    },
    "guestOSInfo": {"computerName": "vm-one", "osName": "ubuntu", "osVersion": "22.04", "version": "2.11.1.4"},
}


def test_waagent_status_in_history_dir():
    path = "var/lib/waagent/history/2024-05-30T13-15-40__3/waagent_status.json"
    r = parse(path, json.dumps(WAAGENT_STATUS, indent=1))
    f = r.facts
    assert fact(f, "agent", "version") == ["2.11.1.4"] and fact(f, "agent", "status") == ["Ready"]
    assert fact(f, "vm", "computer") == ["vm-one"] and fact(f, "os", "name") == ["ubuntu"] and fact(f, "os", "version") == ["22.04"]
    assert fact(f, f"extension:{SNAP}", "sequence") == ["5"]
    assert fact(f, f"extension:{SNAP}", "status") == ["error"]  # code 76 under a "success" file status
    assert fact(f, f"extension:{SNAP}", "handler_status") == ["Ready"]
    assert fact(f, "extension:Microsoft.Azure.Extensions.CustomScript", "handler_code") == ["1009"]
    ev = r.events
    snap = ev.filter(pl.col("extension") == SNAP).row(0, named=True)
    assert snap["message"] == "VMSnapshotLinux status error code 76 (file says success): all snapshots failed"
    assert snap["time"] == datetime(2024, 5, 30, 13, 18, tzinfo=timezone.utc)
    cs = ev.filter(pl.col("extension") == "Microsoft.Azure.Extensions.CustomScript").row(0, named=True)
    assert cs["level"] == "ERROR" and "NotReady code 1009" in cs["message"]
    agent = ev.filter(pl.col("extension").is_null())
    assert agent["message"].to_list() == ["Guest agent 2.11.1.4 status Ready: Guest Agent is running"]
    # Handler-level events only for handlers that are not Ready.
    assert ev.height == 3


def test_agent_error_json():
    doc = {"last_failure": 1717075200.5, "failure_count": 3, "was_fatal": True, "reason": "Agent failed with exception: boom"}
    r = parse("var/lib/waagent/WALinuxAgent-2.2.53/error.json", json.dumps(doc))
    subj = "agent:WALinuxAgent-2.2.53"
    assert fact(r.facts, subj, "failure_count") == ["3"] and fact(r.facts, subj, "was_fatal") == ["true"]
    ev = r.events.row(0, named=True)
    assert ev["level"] == "ERROR" and ev["time"] == datetime(2024, 5, 30, 13, 20, 0, 500000, tzinfo=timezone.utc)
    assert "failure_count 3" in ev["message"] and "boom" in ev["message"]
    clean = parse("var/lib/waagent/WALinuxAgent-2.9.1.1/error.json", '{"last_failure": 0.0, "failure_count": 0, "was_fatal": false, "reason": ""}')
    assert clean.events.height == 0 and fact(clean.facts, "agent:WALinuxAgent-2.9.1.1", "failure_count") == ["0"]


def test_paths_are_claimed_by_this_parser():
    for p in (
        f"{SNAP_DIR}/status/12.status",
        f"{SNAP_DIR}/config/12.settings",
        f"{SNAP_DIR}/config/HandlerState",
        f"{SNAP_DIR}/config/HandlerStatus",
        "var/lib/waagent/waagent_status.json",
        "var/lib/waagent/waagent_status.6.json",
        "var/lib/waagent/WALinuxAgent-2.2.53/error.json",
    ):
        spec = spec_for(p)
        assert spec is not None and spec.name == "ext_status", p
    assert not ext_status.SPEC.matches("Packages/Plugins/Microsoft.Azure.RecoveryServices.VMSnapshot/1.0.0/Status/0.status")


# ---------------------------------------------------------------------------------------
# Secrets never survive logscan.load()
# ---------------------------------------------------------------------------------------


def test_no_secret_reaches_any_frame_through_load(tmp_path):
    lib = tmp_path / "vm2" / "var" / "lib" / "waagent"
    (lib / f"{SNAP}-1.0.9220.0" / "config").mkdir(parents=True)
    (lib / f"{SNAP}-1.0.9220.0" / "status").mkdir(parents=True)
    settings = json.loads(json.dumps(SETTINGS))
    pub = settings["runtimeSettings"][0]["handlerSettings"]["publicSettings"]
    pub["commandToExecute"] = "curl https://x.blob.core.windows.net/c/s.sh?sv=2020-08-04&sig=CMDSIG555"
    (lib / f"{SNAP}-1.0.9220.0" / "config" / "5.settings").write_text(json.dumps(settings))
    (lib / f"{SNAP}-1.0.9220.0" / "status" / "5.status").write_text(
        snapshot_status("76", "success", "failed https://d.blob.core.windows.net/v/d?sig=STATUSMSGSIG888", "x", 76)
    )
    ext_conf = f"""<Extensions goalStateIncarnation="5"><Plugins>
<Plugin name="{SNAP}" version="1.0.9220.0" state="enabled" /></Plugins>
<PluginSettings><Plugin name="{SNAP}" version="1.0.9220.0"><RuntimeSettings seqNo="5">{{"runtimeSettings":[{{"handlerSettings":{{"protectedSettings":"XMLPROTECTED666","publicSettings":{{"statusBlobUri":"https://s.blob.core.windows.net/c/b?sig=XMLSIG444"}}}}}}]}}</RuntimeSettings></Plugin></PluginSettings>
<StatusUploadBlob>https://s.blob.core.windows.net/c/st?sr=b&amp;sig=UPLOADSIG333</StatusUploadBlob></Extensions>"""
    (lib / "ExtensionsConfig.5.xml").write_text(ext_conf)

    b = logscan.load(tmp_path / "vm2")
    assert {"agent_state", "ext_status"} <= set(b.facts["source"])
    assert b.events.filter(pl.col("source") == "ext_status")["level"].to_list() == ["ERROR"]
    values = [
        *b.facts["value"].drop_nulls().to_list(),
        *b.events["message"].drop_nulls().to_list(),
        *b.events["text"].drop_nulls().to_list(),
        *b.ingest_errors["detail"].drop_nulls().to_list(),
    ]
    blob = "\n".join(values)
    for secret in ("MIIBPROTECTEDSECRETBLOB", "LOGSBLOBSIG123", "CMDSIG555", "STATUSMSGSIG888",
                   "XMLPROTECTED666", "XMLSIG444", "UPLOADSIG333", "ZW5jb2RlZCBzbmFwc2hvdCBzYXMgdXJpcw"):
        assert secret not in blob, secret


# --- one reading on both platforms (issue #10) ----------------------------------------------


@pytest.mark.parametrize(
    ("code", "effective"),
    [("01", "success"), ("1", "success"), ("004", "transitioning"), ("076", "error"), ("+1", "success"), ("abc", "success")],
)
def test_vmsnapshot_code_is_read_by_its_value_the_same_on_linux_and_windows(code, effective):
    """"01" is the number 1 (success); a code that is no whole number leaves the file's status."""
    from logscan.sources.win_agent_state import EXT_STATUS as WIN_EXT_STATUS

    doc = snapshot_status(code, "success", "m", "x", 1)
    linux = parse(f"{SNAP_DIR}/status/5.status", doc)
    win = WIN_EXT_STATUS.parse(SourceFile(
        "Packages/Plugins/Microsoft.Azure.RecoveryServices.VMSnapshot/1.0.75.0/Status/5.status", "w", doc.encode()))
    assert fact(linux.facts, f"extension:{SNAP}", "status") == [effective]
    win_status = win.facts.filter((pl.col("key") == "status") & pl.col("subject").str.contains("VMSnapshot"))["value"]
    assert win_status.to_list() == [effective]


def test_secret_settings_use_the_one_redaction_policy():
    from logscan.io import redact

    assert redact.secret_setting("logsBlobUri") and redact.secret_setting("objectStr")
    assert redact.secret_setting("adminPassword") and redact.secret_setting("commandToExecute", "Microsoft.Compute.CustomScript")
    assert not redact.secret_setting("commandToExecute", SNAP) and not redact.secret_setting("taskId")
    assert ext_status.OMITTED == redact.MASK
