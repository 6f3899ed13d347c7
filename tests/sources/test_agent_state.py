"""Agent goal-state cache → facts/events, safe XML, history layout, and waagent.log agent facts."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.errors import IngestError
from logscan.sources import agent_state, spec_for, waagent_log
from logscan.sources.base import SourceFile

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "agent-samples"
HIST = "var/lib/waagent/history/2024-05-30T13-15-40__3"


def sample(name: str) -> bytes:
    p = SAMPLES / name
    if not p.exists():
        pytest.skip(f"agent sample {name} not available")
    return p.read_bytes()


def parse(path: str, data: bytes | str):
    raw = data.encode() if isinstance(data, str) else data
    return agent_state.parse(SourceFile(path, path, raw))


def fact(facts: pl.DataFrame, subject: str, key: str) -> list[str]:
    return facts.filter((pl.col("subject") == subject) & (pl.col("key") == key))["value"].to_list()


def ticks(t: int) -> datetime:
    # Independent of the parser: .NET ticks are 100 ns since 0001-01-01; 621355968000000000 is the Unix epoch.
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=(t - 621355968000000000) // 10)


# ---------------------------------------------------------------------------------------
# Real samples
# ---------------------------------------------------------------------------------------


def test_goal_state_sample_gives_incarnation_container_and_role_with_history_time():
    r = parse(f"{HIST}/GoalState.xml", sample("hibernate__goal_state_1__GoalState.xml"))
    assert fact(r.facts, "goal_state", "incarnation") == ["1"]
    assert fact(r.facts, "goal_state", "container_id") == ["06185f00-1f00-4545-abaa-4b7baa121869"]
    assert fact(r.facts, "goal_state", "role_instance") == ["8cd0ae53-1baa-4f00-9356-a4e1a34f004c._test-vm"]
    assert r.facts["time"].unique().to_list() == [datetime(2024, 5, 30, 13, 15, 40, tzinfo=timezone.utc)]
    # The line points at the element in the file.
    text = sample("hibernate__goal_state_1__GoalState.xml").decode()
    line = r.facts.filter(pl.col("key") == "container_id")["line"][0]
    assert "<ContainerId>" in text.splitlines()[line - 1]


def test_extensions_config_sample_gives_extension_facts_and_one_event_per_plugin():
    data = sample("hibernate__goal_state_1__ExtensionsConfig.xml")
    r = parse(f"{HIST}/ExtensionsConfig.xml", data)
    cs = "extension:Microsoft.Azure.Extensions.CustomScript"
    assert fact(r.facts, cs, "version") == ["2.1.13"]
    assert fact(r.facts, cs, "state") == ["enabled"]
    assert fact(r.facts, cs, "sequence") == ["4"]
    assert fact(r.facts, "extension:Microsoft.CPlat.Core.LinuxHibernateExtension", "sequence") == []  # no PluginSettings
    assert fact(r.facts, "agent", "ga_family") == ["Prod"]
    assert fact(r.facts, "goal_state", "incarnation") == ["1"]
    # createdOnTicks wins over the history dir name as the goal state's time.
    created = ticks(638852747570627097)
    assert set(r.facts["time"].to_list()) == {created}
    assert fact(r.facts, "goal_state", "created") == [created.isoformat()]

    ev = r.events
    assert ev.height == 3
    assert set(ev["source"]) == {"agent_state"} and set(ev["level"]) == {"INFO"}
    row = ev.filter(pl.col("extension") == "Microsoft.Azure.Extensions.CustomScript").row(0, named=True)
    assert row["message"] == "Goal state incarnation 1: Microsoft.Azure.Extensions.CustomScript 2.1.13 enabled, seqNo 4"
    assert row["ext_version"] == "2.1.13" and row["time"] == created and row["time_basis"] == "utc"
    assert 'name="Microsoft.Azure.Extensions.CustomScript"' in data.decode().splitlines()[row["line"] - 1]


def test_wire_ext_conf_keeps_secrets_out_and_reads_every_family():
    data = sample("wire__ext_conf.xml")
    r = parse("var/lib/waagent/ExtensionsConfig.9.xml", data)
    assert sorted(fact(r.facts, "agent", "ga_family")) == ["Prod", "Test"]
    assert fact(r.facts, "extension:OSTCExtensions.ExampleHandlerLinux", "sequence") == ["0"]
    everything = " ".join(
        [*r.facts["value"].to_list(), *r.events["message"].to_list(), *r.events["text"].to_list()]
    )
    for secret in ("hfRh7gzUE7sUtYwke78IOlZOrTRCYvkec4hGZ9zZzXo", "MIICWgYJK", "MIInEAYJ", '"foo"'):
        assert secret not in everything


def test_multiple_extensions_sample_lists_all_five():
    r = parse("var/lib/waagent/ExtensionsConfig.10.xml", sample("wire__ext_conf_multiple_extensions.xml"))
    subjects = r.facts.filter(pl.col("key") == "version")["subject"].to_list()
    assert len(subjects) == 5 and len(set(subjects)) == 5
    assert r.events.height == 5


def test_hosting_env_and_shared_config_give_vm_name_without_fabric_underscore():
    r = parse("var/lib/waagent/HostingEnvironmentConfig.xml", sample("hibernate__goal_state_1__HostingEnvironmentConfig.xml"))
    assert fact(r.facts, "vm", "vm_name") == ["test-vm"]
    r = parse("var/lib/waagent/SharedConfig.xml", sample("hibernate__goal_state_1__SharedConfig.xml"))
    assert fact(r.facts, "vm", "vm_name") == ["test-vm"]
    assert fact(r.facts, "vm", "private_ip") == ["10.1.52.28"]


def test_vm_settings_sample_gives_extensions_and_history_incarnation():
    r = parse(f"{HIST}-etag123/VmSettings.json", sample("hibernate__goal_state_1__VmSettings.json"))
    assert fact(r.facts, "extension:Microsoft.Azure.Extensions.CustomScript", "sequence") == ["5"]
    assert fact(r.facts, "goal_state", "incarnation") == ["3"]
    assert r.events.height == 3
    assert r.events["message"].str.starts_with("Goal state incarnation 3 (FastTrack): ").all()
    assert "***REDACTED***" not in " ".join(r.facts["value"].to_list())


def test_hosting_env_role_name_is_the_fallback():
    xml = '<HostingEnvironmentConfig><Role guid="{1}" name="vmrole1" /></HostingEnvironmentConfig>'
    assert fact(parse("var/lib/waagent/HostingEnvironmentConfig.xml", xml).facts, "vm", "vm_name") == ["vmrole1"]


# ---------------------------------------------------------------------------------------
# Literal documents
# ---------------------------------------------------------------------------------------

VMSNAPSHOT_EXT_CONF = """<?xml version="1.0" encoding="utf-8"?>
<Extensions version="1.0.0.0" goalStateIncarnation="12">
<Plugins>
  <Plugin name="Microsoft.Azure.RecoveryServices.VMSnapshotLinux" version="1.0.9217.0" location="https://x/m.xml" state="enabled" autoUpgrade="true" />
  <Plugin name="Microsoft.Azure.Extensions.CustomScript" version="2.1.10" state="disabled" />
</Plugins>
<PluginSettings>
  <Plugin name="Microsoft.Azure.RecoveryServices.VMSnapshotLinux" version="1.0.9217.0">
    <RuntimeSettings seqNo="5">{"runtimeSettings":[{"handlerSettings":{"protectedSettings":"PROTECTEDBLOB123","publicSettings":{"statusBlobUri":"https://a.blob.core.windows.net/c/s?sv=2020&amp;sig=SASSIGNATURE999"}}}]}</RuntimeSettings>
  </Plugin>
</PluginSettings>
<StatusUploadBlob statusBlobType="BlockBlob">https://b.blob.core.windows.net/s?sr=b&amp;sig=STATUSSIG777</StatusUploadBlob>
</Extensions>"""


def test_goal_state_event_names_extension_version_state_and_seqno():
    r = parse("var/lib/waagent/ExtensionsConfig.12.xml", VMSNAPSHOT_EXT_CONF)
    msgs = r.events["message"].to_list()
    assert "Goal state incarnation 12: Microsoft.Azure.RecoveryServices.VMSnapshotLinux 1.0.9217.0 enabled, seqNo 5" in msgs
    assert "Goal state incarnation 12: Microsoft.Azure.Extensions.CustomScript 2.1.10 disabled, no settings" in msgs
    assert r.events["time"].null_count() == 2 and set(r.events["time_basis"]) == {"none"}
    blob = " ".join([*r.facts["value"], *r.events["text"], *r.events["message"]])
    for secret in ("PROTECTEDBLOB123", "SASSIGNATURE999", "STATUSSIG777", "statusBlobUri"):
        assert secret not in blob


def test_multi_config_runtime_settings_become_per_extension_sequence():
    xml = """<Extensions goalStateIncarnation="2"><Plugins>
<Plugin name="Microsoft.CPlat.Core.RunCommandHandlerLinux" version="1.3.2" state="enabled" isMultiConfig="true" />
</Plugins><PluginSettings><Plugin name="Microsoft.CPlat.Core.RunCommandHandlerLinux" version="1.3.2">
<ExtensionRuntimeSettings seqNo="3" name="firstRun" state="enabled">{}</ExtensionRuntimeSettings>
<ExtensionRuntimeSettings seqNo="7" name="secondRun" state="disabled">{}</ExtensionRuntimeSettings>
</Plugin></PluginSettings></Extensions>"""
    r = parse("var/lib/waagent/ExtensionsConfig.2.xml", xml)
    assert fact(r.facts, "extension:Microsoft.CPlat.Core.RunCommandHandlerLinux.secondRun", "sequence") == ["7"]
    assert fact(r.facts, "extension:Microsoft.CPlat.Core.RunCommandHandlerLinux.secondRun", "state") == ["disabled"]
    assert "firstRun enabled seqNo 3" in r.events["message"][0]


def test_placeholder_goal_state_gives_nothing_and_no_error():
    r = parse("var/lib/waagent/GoalState.1.xml", "<xml>empty placeholder file</xml>")
    assert r.facts.height == 0 and r.events.height == 0 and r.errors == []


def test_vm_settings_in_vm_metadata_gives_vm_identity():
    js = """{"inSvdSeqNo": 4, "extensionGoalStatesSource": "FastTrack",
  "inVMMetadata": {"subscriptionId": "sub-1", "resourceGroupName": "rg-1", "vmName": "vm-one", "location": "westeurope",
                   "vmId": "1111-2222", "vmSize": "Standard_D2s_v3", "osType": "Linux"},
  "extensionGoalStates": []}"""
    r = parse("var/lib/waagent/VmSettings.4.json", js)
    want = {"vm_name": "vm-one", "vm_id": "1111-2222", "subscription_id": "sub-1", "resource_group": "rg-1",
            "location": "westeurope", "vm_size": "Standard_D2s_v3"}
    assert {k: fact(r.facts, "vm", k) for k in want} == {k: [v] for k, v in want.items()}
    assert r.events["message"].to_list() == ["Goal state incarnation 4 (FastTrack): no extensions"]


def test_ovf_env_reads_only_hostname_and_provision_guest_agent():
    xml = """<?xml version="1.0" encoding="utf-8"?>
<ns0:Environment xmlns:ns0="http://schemas.dmtf.org/ovf/environment/1" xmlns:ns1="http://schemas.microsoft.com/windowsazure">
 <ns1:ProvisioningSection><ns1:LinuxProvisioningConfigurationSet>
  <ns1:HostName>myvm01</ns1:HostName><ns1:UserName>azureuser</ns1:UserName>
  <ns1:UserPassword>Sup3rS3cretPassw0rd</ns1:UserPassword><ns1:CustomData>Q1VTVE9NREFUQQ==</ns1:CustomData>
 </ns1:LinuxProvisioningConfigurationSet></ns1:ProvisioningSection>
 <ns1:PlatformSettingsSection><ns1:PlatformSettings><ns1:ProvisionGuestAgent>False</ns1:ProvisionGuestAgent>
 </ns1:PlatformSettings></ns1:PlatformSettingsSection></ns0:Environment>"""
    r = parse("var/lib/waagent/ovf-env.xml", xml)
    assert sorted(zip(r.facts["key"], r.facts["value"], strict=True)) == [("hostname", "myvm01"), ("provision_guest_agent", "false")]
    assert r.events.height == 0


def test_incarnation_and_wireserver_endpoint_files():
    assert fact(parse("var/lib/waagent/Incarnation", "12\n").facts, "goal_state", "incarnation") == ["12"]
    assert fact(parse("var/lib/waagent/WireServerEndpoint", "10.0.0.4").facts, "agent", "wireserver_endpoint") == ["10.0.0.4"]
    with pytest.raises(IngestError) as e:
        parse("var/lib/waagent/Incarnation", "not a number")
    assert e.value.kind == "parse"


def test_malformed_xml_is_a_parse_error():
    with pytest.raises(IngestError) as e:
        parse("var/lib/waagent/GoalState.3.xml", "<GoalState><Incarnation>3</Incarnation>")
    assert e.value.kind == "parse"


def test_billion_laughs_is_refused():
    bomb = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<GoalState><Incarnation>&lol4;</Incarnation></GoalState>"""
    with pytest.raises(IngestError) as e:
        parse("var/lib/waagent/GoalState.1.xml", bomb)
    assert e.value.kind == "unsafe-xml"


def test_external_entity_is_refused_without_reading_the_file(tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("HOST-FILE-CONTENT-42")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]>
<HostingEnvironmentConfig><Incarnation instance="&xxe;" /></HostingEnvironmentConfig>"""
    with pytest.raises(IngestError) as e:
        parse("var/lib/waagent/HostingEnvironmentConfig.xml", xxe)
    assert e.value.kind == "unsafe-xml"
    assert "HOST-FILE-CONTENT-42" not in str(e.value)


def test_history_dir_names_of_both_eras():
    new = agent_state.history_info("var/lib/waagent/history/2024-05-30T13-15-40__3-0a1b2c/GoalState.xml")
    assert new and new.incarnation == "3" and new.time == datetime(2024, 5, 30, 13, 15, 40, tzinfo=timezone.utc)
    old = agent_state.history_info("var/lib/waagent/history/2019-05-01T12:34:56.123456_incarnation_7/GoalState.7.xml")
    assert old and old.incarnation == "7" and old.time == datetime(2019, 5, 1, 12, 34, 56, 123456, tzinfo=timezone.utc)
    assert agent_state.history_info("var/lib/waagent/GoalState.7.xml") is None


def test_paths_are_claimed_by_this_parser():
    for p in (
        "var/lib/waagent/GoalState.3.xml",
        "var/lib/waagent/ExtensionsConfig.3.xml",
        f"{HIST}/GoalState.xml",
        f"{HIST}/VmSettings.json",
        "var/lib/waagent/history/2019-05-01T12:34:56.123456_incarnation_7/ExtensionsConfig.7.xml",
        "var/lib/waagent/ovf-env.xml",
        "var/lib/waagent/Incarnation",
    ):
        spec = spec_for(p)
        assert spec is not None and spec.name == "agent_state", p
    assert not agent_state.SPEC.matches("var/lib/waagent/Microsoft.A.B-1.0/config/ExtensionsConfig.xml.bak")


# ---------------------------------------------------------------------------------------
# Through logscan.load(): zipped history dirs inside a bundle
# ---------------------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_history_zips_are_read_through_load_and_newest_goal_state_can_be_chosen(tmp_path):
    hist = tmp_path / "vm1" / "var" / "lib" / "waagent" / "history"
    hist.mkdir(parents=True)
    (hist / "2024-05-30T13-15-40__3.zip").write_bytes(
        _zip({"GoalState.xml": sample("hibernate__goal_state_1__GoalState.xml"),
              "HostingEnvironmentConfig.xml": sample("hibernate__goal_state_1__HostingEnvironmentConfig.xml")})
    )
    # A 2.2.x-2.7 history archive: a colon-bearing name, *.N.xml members.
    old = VMSNAPSHOT_EXT_CONF.replace('goalStateIncarnation="12"', 'goalStateIncarnation="2"')
    (hist / "2019-05-01T12:34:56.123456_incarnation_2.zip").write_bytes(_zip({"ExtensionsConfig.2.xml": old.encode()}))
    (hist.parent / "GoalState.1.xml").write_text("<xml>empty placeholder file</xml>")

    b = logscan.load(tmp_path / "vm1")
    assert b.ingest_errors.filter(pl.col("source") == "agent_state").height == 0
    gs = b.facts.filter((pl.col("subject") == "goal_state") & (pl.col("key") == "incarnation"))
    assert set(gs["file"]) == {
        "var/lib/waagent/history/2024-05-30T13-15-40__3.zip!GoalState.xml",
        "var/lib/waagent/history/2019-05-01T12:34:56.123456_incarnation_2.zip!ExtensionsConfig.2.xml",
    }
    newest = gs.sort("time").tail(1).row(0, named=True)
    assert newest["value"] == "1" and newest["time"] == datetime(2024, 5, 30, 13, 15, 40, tzinfo=timezone.utc)
    assert b.vm == "test-vm"
    ev = b.events.filter(pl.col("source") == "agent_state")
    assert ev["message"].str.contains("Goal state incarnation 2: Microsoft.Azure.RecoveryServices.VMSnapshotLinux").sum() == 1
    assert ev.filter(pl.col("extension").is_not_null())["time"].to_list()[0] == datetime(
        2019, 5, 1, 12, 34, 56, 123456, tzinfo=timezone.utc
    )


# ---------------------------------------------------------------------------------------
# Agent/OS facts derived from waagent.log (waagent_log.py)
# ---------------------------------------------------------------------------------------

AGENT_LOG = """2021/03/30 19:35:35.971742 INFO Daemon Azure Linux Agent Version:2.2.45
2021/03/30 19:35:35.971800 INFO Daemon OS: ubuntu 18.04
2021/03/30 19:35:35.971900 INFO Daemon Python: 3.6.9
2021/03/30 19:35:40.000000 INFO ExtHandler Agent WALinuxAgent-2.2.53 is running as the goal state agent
2023-03-13T15:44:04.906673Z INFO Daemon Daemon Azure Linux Agent Version: 2.9.1.1
2023-03-13T15:44:05.000000Z INFO ExtHandler ExtHandler Azure Linux Agent (Goal State Agent version 2.15.0.1)
2023-03-13T16:14:04.000000Z INFO ExtHandler ExtHandler [HEARTBEAT] Agent WALinuxAgent-2.15.0.1 is running as the goal state agent [DEBUG HeartbeatCounter: 1;]
2023-03-13T16:44:04.000000Z INFO ExtHandler ExtHandler [HEARTBEAT] Agent WALinuxAgent-2.15.0.1 is running as the goal state agent [DEBUG HeartbeatCounter: 2;]
2023-03-13T17:14:04.000000Z INFO ExtHandler ExtHandler [HEARTBEAT] Agent WALinuxAgent-2.15.0.1 is running as the goal state agent [DEBUG HeartbeatCounter: 3;]
2023-03-13T17:14:05.000000Z INFO ExtHandler ExtHandler OS: ubuntu 22.04
2023-03-13T17:14:06.000000Z INFO ExtHandler ExtHandler Python: 3.10.12
2023-03-13T17:14:07.000000Z INFO ExtHandler ExtHandler Agent WALinuxAgent-2.15.0.1 discovered update WALinuxAgent-2.16.0.0 -- exiting
"""


def test_waagent_log_derives_agent_os_and_python_facts_with_where_and_when():
    r = waagent_log.parse(SourceFile("var/log/waagent.log", "var/log/waagent.log", AGENT_LOG.encode()))
    f = r.facts
    assert fact(f, "agent", "daemon_version") == ["2.2.45", "2.9.1.1"]
    assert sorted(set(fact(f, "agent", "goal_state_agent_version"))) == ["2.15.0.1", "2.2.53"]
    assert sorted(set(fact(f, "os", "version"))) == ["18.04", "22.04"] and set(fact(f, "os", "name")) == {"ubuntu"}
    assert fact(f, "agent", "python") == ["3.6.9", "3.10.12"]
    # 2.15.0.1 seen on lines 6-9: only its first and last sighting are kept, with their times.
    gsa = f.filter((pl.col("key") == "goal_state_agent_version") & (pl.col("value") == "2.15.0.1"))
    assert gsa["line"].to_list() == [6, 9]
    assert gsa["time"].to_list()[-1] == datetime(2023, 3, 13, 17, 14, 4, tzinfo=timezone.utc)
    assert set(f["source"]) == {"waagent_log"} and set(f["file"]) == {"var/log/waagent.log"}
    # "discovered update WALinuxAgent-2.16.0.0" is not a running agent.
    assert "2.16.0.0" not in f["value"].to_list()
