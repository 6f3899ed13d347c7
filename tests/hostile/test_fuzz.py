"""Property-based fuzzing: random and mutated input into every parser and the signature grammar.

The only exception a parser may raise is :class:`~logscan.errors.IngestError`; the only one
the signature loader may raise is :class:`~logscan.errors.SignatureError`. Anything else
(including a Rust panic from an engine, which Python sees as a ``BaseException``) fails.

Bounded for CI by the ``ci`` hypothesis profile (see ``conftest.py``); a long run is
``LOGSCAN_FUZZ_EXAMPLES=5000 pytest tests/hostile/test_fuzz.py`` or
``pytest tests/hostile/test_fuzz.py --hypothesis-profile=long``.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from logscan.errors import IngestError, SignatureError
from logscan.frames import EVENT_SCHEMA, FACT_SCHEMA, concat
from logscan.io.textio import cut_long_lines, decode, gunzip, is_probably_binary
from logscan.rules.language import parse_condition
from logscan.rules.signatures import evaluate, parse_signatures
from logscan.sources import registry
from logscan.sources.base import Parsed, SourceFile
from logscan.sources.evtx import CHUNK_SIZE, HEADER_SIZE, MAGIC

from .conftest import AGENT_LOG, CONF

AGENT_SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "agent-samples"
EVTX_SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "evtx-samples"

# ---------------------------------------------------------------------------------------
# Seed corpus: small valid inputs per source (literals; real samples when ../shared exists)
# ---------------------------------------------------------------------------------------
SNAP = "Microsoft.Azure.RecoveryServices.VMSnapshotLinux"
STATUS = json.dumps(
    [{"version": "1.0", "timestampUTC": "2024-05-30T13:15:00Z", "status": {"name": SNAP, "operation": "Enable", "status": "error", "code": 51,
      "formattedMessage": {"lang": "en-US", "message": "Snapshot failed: FsFreezeFailed"},
      "substatus": [{"name": "{\"a\": 1}", "status": "success", "code": "0", "formattedMessage": None}]}}]
).encode()
SETTINGS = json.dumps(
    {"runtimeSettings": [{"handlerSettings": {"protectedSettingsCertThumbprint": "AB12", "protectedSettings": "MIIBsecret==",
                                              "publicSettings": {"locale": "en-us", "taskId": "t1", "commandStartTimeUTCTicks": "638000000000000000"}}}]}
).encode()
GOAL_STATE = (
    b'<?xml version="1.0" encoding="utf-8"?><GoalState xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Version>2015-04-05</Version>'
    b"<Incarnation>3</Incarnation><Machine><ExpectedState>Started</ExpectedState></Machine><Container><ContainerId>c1</ContainerId>"
    b"<RoleInstanceList><RoleInstance><InstanceId>r1._vm1</InstanceId><State>Started</State></RoleInstance></RoleInstanceList></Container></GoalState>"
)
EXT_CONFIG = (
    b'<?xml version="1.0" encoding="utf-8"?><Extensions version="1.0.0.0" goalStateIncarnation="3"><GuestAgentExtension>'
    b'<GAFamilies><GAFamily><Name>Prod</Name><Version>2.9.1.1</Version></GAFamily></GAFamilies></GuestAgentExtension>'
    b'<Plugins><Plugin name="' + SNAP.encode() + b'" version="1.0.9220.0" location="https://x/y" state="enabled" autoUpgrade="false" /></Plugins>'
    b'<PluginSettings><Plugin name="' + SNAP.encode() + b'" version="1.0.9220.0"><RuntimeSettings seqNo="5">'
    b'{"runtimeSettings":[{"handlerSettings":{"protectedSettings":"XMLPROTECTED","publicSettings":{"a":1}}}]}</RuntimeSettings></Plugin></PluginSettings>'
    b'<StatusUploadBlob statusBlobType="PageBlob">https://s.blob.core.windows.net/c/b?sv=2018-03-28&amp;sig=abc</StatusUploadBlob></Extensions>'
)
AGGREGATE = json.dumps(
    {"aggregateStatus": {"guestAgentStatus": {"version": "2.7.41491.1010", "status": "Ready", "formattedMessage": {"lang": "en-US", "message": "GuestAgent is running"}},
                         "handlerAggregateStatus": [{"handlerName": "Microsoft.Azure.RecoveryServices.VMSnapshot", "handlerVersion": "1.0.75.0", "status": "Ready",
                                                     "runtimeSettingsStatus": {"sequenceNumber": "5", "settingsStatus": {"status": {"name": "x", "operation": "Enable", "status": "success", "code": 0}}}}]}}
).encode()
WIN_EVENTS_XML = (
    b'<Events><Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="VSS"/><EventID>12289</EventID>'
    b'<Level>2</Level><TimeCreated SystemTime="2024-05-30T13:15:00.000Z"/><EventRecordID>7</EventRecordID><Channel>Application</Channel>'
    b"<Computer>vm1</Computer></System><EventData><Data>Volume Shadow Copy Service error</Data></EventData></Event></Events>"
)
WIN_CSV = (
    b"Level,Date and Time,Source,Event ID,Task Category\r\n"
    b'Error,5/30/2024 1:15:00 PM,VSS,12289,None,"Volume Shadow Copy Service error: Unexpected error DeviceIoControl"\r\n'
)

SEEDS: dict[str, list[bytes]] = {
    "waagent_log": [AGENT_LOG, b"2021/03/30 19:35:35.971742 INFO Daemon Azure Linux Agent Version:2.2.45\n2017/04/05 15:19:30 ERROR:timed out\n"],
    "command_execution_log": [AGENT_LOG],
    "waagent_conf": [CONF, b"Extensions.Enable=y\nProvisioning.Agent=auto\n# c\nOS.EnableFirewall=y\n"],
    "syslog": [b"2024-05-30T13:15:41Z vm1 python3[812]: 2024-05-30T13:15:41.000000Z WARNING ExtHandler ExtHandler slow\n"
               b"May 30 13:15:00 vm1 kernel: [ 1.0] eth0 up\n"],
    "shell_log": [b"Thu May 21 05:04:31 PM UTC 2026- 1 returned from handle.py\nWed Jan  1 10:00:00 UTC 2025- 0 returned from handle.py\n"],
    "vmsnapshot_log": [b"2024/01/14 22:16:48.950001  Info  ****** 4. Freeze Completed (Signal=1 received) \n"
                       b"2017/11/14 03:06:52  StatusCode.FailedRetryableSnapshotFailedRestrictedNetwork,\n"],
    "extension_log": [b"2024/01/14 22:16:49.500000  Error  freeze timed-out \n"],
    "waappagent_log": [b"[00000006] [11/14/2019 05:52:13.44] [INFO]  WindowsAzureGuestAgent starting. Version 2.7.41491.949\n"
                       b"[00000008] 2024-04-17T07:19:28.000Z [ERROR] InstallPlugins() failed with exception: System.AggregateException: \n   at X.Y()\n"],
    "win_agent_log": [b"[00000020] [11/14/2019 06:02:33.43] [HEART] WindowsAzureGuestAgent Heartbeat.\n"],
    "transparent_installer_log": [b"[00000004] 2024-04-17T07:19:26.812Z [INFO]  Installing guest agent\n"],
    "win_plugin_log": [b"2024-05-29 05:45:42.123 Info Starting snapshot\n2024-05-29T05:45:43Z ERROR Snapshot failed\n"],
    "vmsnapshot_win_log": [b"Snapshot started\nVSS operation error This drive is locked by BitLocker Drive Encryption.\n"],
    "agent_state": [GOAL_STATE, EXT_CONFIG, b"3", b"168.63.129.16"],
    "ext_status": [STATUS, SETTINGS, b"Enabled\n", b'{"handlerStatus": "Ready", "message": "ok"}'],
    "win_agent_config": [EXT_CONFIG, GOAL_STATE],
    "win_aggregate_status": [AGGREGATE],
    "win_ext_status": [STATUS, b"5"],
    "win_runtime_settings": [SETTINGS],
    "event_export": [WIN_EVENTS_XML, WIN_CSV, b"Event[0]:\r\n  Log Name: Application\r\n  Source: VSS\r\n  Date: 2024-05-30T13:15:00.000\r\n  Event ID: 8193\r\n  Level: Error\r\n  Description:\r\nboom\r\n"],
    "evtx": [MAGIC + bytes(HEADER_SIZE - 8) + b"ElfChnk\0" + bytes(CHUNK_SIZE - 8)],
}
# Real samples, when ../shared is there (read only, never copied into the project).
_REAL = {
    "agent_state": ["hibernate__goal_state_1__GoalState.xml", "hibernate__goal_state_1__ExtensionsConfig.xml",
                    "hibernate__goal_state_1__HostingEnvironmentConfig.xml", "hibernate__goal_state_1__VmSettings.json", "wire__ext_conf.xml"],
    "win_agent_config": ["wire__ext_conf_multiple_extensions.xml"],
    "ext_status": ["ext__sample-status.json", "ext__sample-status-invalid-json-format.json"],
    "waagent_conf": ["config__waagent.conf"],
}
for _name, _files in _REAL.items():
    for _f in _files:
        if (AGENT_SAMPLES / _f).exists():
            SEEDS[_name].append((AGENT_SAMPLES / _f).read_bytes()[:20_000])
if (EVTX_SAMPLES / "evtxrs-Application_no_crc32.evtx").exists():
    SEEDS["evtx"].append((EVTX_SAMPLES / "evtxrs-Application_no_crc32.evtx").read_bytes())

SPECS = {s.name: s for s in registry()}
#: Paths to feed a spec's parser: its example path plus sibling paths it also claims.
EXTRA_PATHS = {
    "agent_state": ["var/lib/waagent/GoalState.3.xml", "var/lib/waagent/history/x/ExtensionsConfig.xml", "var/lib/waagent/Incarnation",
                    "var/lib/waagent/WireServerEndpoint", "var/lib/waagent/VmSettings.json", "var/lib/waagent/ovf-env.xml"],
    "ext_status": [f"var/lib/waagent/{SNAP}-1.0.9220.0/config/HandlerState", f"var/lib/waagent/{SNAP}-1.0.9220.0/config/5.settings",
                   f"var/lib/waagent/{SNAP}-1.0.9220.0/config/HandlerStatus", "var/lib/waagent/waagent_status.json", "var/lib/waagent/WALinuxAgent-2.9.1.1/error.json"],
    "win_ext_status": ["Packages/Plugins/X.Y/1.0/Status/HeartBeat.Json", "Packages/Plugins/X.Y/1.0/SeqNumber.txt"],
}

#: Tokens that break parsers: markup, JSON, encodings, huge numbers, secrets, line endings.
TOKENS = [b"<", b">", b"</", b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"&a;", b"<![CDATA[", b"]]>", b'"', b"{", b"}", b"[", b"]", b":", b",",
          b"\x00", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\r\n", b"\r", b"\n", b"\n\n\n", b"\t", b"\\", b"\\u0000", b"\\ud800",
          b"99999999999999999999999", b"-1", b"NaN", b"1e999", b"9999-99-99T99:99:99Z", b"0000/00/00 00:00:00.000000", b"2024-02-30T25:61:61Z",
          b"ERROR", b"Event: name=", b", op=", b", duration=", b"-----BEGIN RSA PRIVATE KEY-----", b"?sig=", b"%", b"%s", b"\xc3", b"\xed\xa0\x80",
          b"[00000001]", b"ElfChnk\x00", b"=" * 3, b"null", b"true", b"[]", b"{}", b'""']


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with a few byte-level mutations: flips, inserts, deletes, splices, truncation."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "insert", "token", "delete", "dup", "truncate"]))
        pos = draw(st.integers(0, len(data))) if data else 0
        if op == "flip" and data:
            i = min(pos, len(data) - 1)
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(max_size=16))
        elif op == "token":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "dup" and data:
            end = min(len(data), pos + draw(st.integers(1, 200)))
            data[pos:pos] = data[pos:end] * draw(st.integers(1, 5))
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


def inputs(name: str) -> st.SearchStrategy[bytes]:
    seeds = SEEDS.get(name) or [AGENT_LOG]
    return st.one_of(
        st.binary(max_size=3000),
        mutated(seeds),
        st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.lists(st.sampled_from(TOKENS + seeds[:1]), max_size=30).map(b"".join),
    )


def parse_only_ingest_errors(spec_name: str, path: str, data: bytes) -> None:
    spec = SPECS[spec_name]
    try:
        out = spec.parse(SourceFile(path, path, data))
    except IngestError as exc:
        assert exc.kind and isinstance(exc.detail, str)
        return
    except BaseException as exc:
        pytest.fail(f"{spec_name} on {data[:200]!r}... raised {type(exc).__name__}: {exc}")
    assert isinstance(out, Parsed)
    # Whatever comes back fits the shared schemas and error-row shape.
    concat([out.events] if out.events is not None else [], EVENT_SCHEMA)
    concat([out.facts] if out.facts is not None else [], FACT_SCHEMA)
    for e in out.errors:
        assert set(e) >= {"kind", "detail"}, e


def _paths(name: str) -> list[str]:
    spec = SPECS[name]
    return [spec.example_path or "x", *EXTRA_PATHS.get(name, [])]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_parser_only_raises_ingest_error(name: str) -> None:
    paths = _paths(name)

    @given(data=inputs(name), path=st.sampled_from(paths))
    def run(data: bytes, path: str) -> None:
        parse_only_ingest_errors(name, path, data)

    run()


def test_every_registered_parser_has_seeds() -> None:
    """A parser added later gets fuzzed with generic seeds; say so rather than miss it silently."""
    missing = sorted(set(SPECS) - set(SEEDS))
    assert len(missing) <= len(SPECS) // 2, f"no seed corpus for {missing}: add literals to SEEDS"


# ---------------------------------------------------------------------------------------
# textio: decode, gunzip, binary check, line cutting
# ---------------------------------------------------------------------------------------
@given(st.one_of(st.binary(max_size=5000), mutated([AGENT_LOG, "caf\u00e9\n".encode("utf-16"), b"\x1f\x8b\x08\x00" + bytes(20)])))
def test_textio_never_raises(data: bytes) -> None:
    d = decode(data)
    d.text.encode("utf-8")  # valid for polars: no lone surrogates
    assert "\0" not in d.text
    is_probably_binary(data)
    out, err = gunzip(data, limit=10_000)
    assert len(out) <= 10_000
    assert err is None or isinstance(err, IngestError)


@given(st.text(alphabet="ab\n", max_size=400), st.integers(1, 50))
def test_cut_long_lines_property(text: str, limit: int) -> None:
    out, n = cut_long_lines(text, limit)
    assert n == sum(1 for ln in text.split("\n") if len(ln) > limit)
    kept = [ln.split(" …[line cut")[0] for ln in out.split("\n")]
    assert all(len(ln) <= limit for ln in kept)
    assert [k for k, ln in zip(kept, text.split("\n"), strict=True) if len(ln) <= limit] == [ln for ln in text.split("\n") if len(ln) <= limit]


# ---------------------------------------------------------------------------------------
# The signature grammar and signature files
# ---------------------------------------------------------------------------------------
VALID_CONDITIONS = [
    'message contains "Snapshot failed" and not message icontains ["retry", "will retry"]',
    'level == "ERROR" and (message ~ /fsfreeze.*timed out/i or "FsFreezeFailed")',
    "event_id in [1000, 1026] and data.AppName ~ /^vss/i",
    'count(message contains "WireServer") >= 5 within 10m by file',
    '"freeze started" not followed_by "freeze ended" within 10m',
    "provider exists and event_id >= 12289",
]
SIG = """\
title: fuzz
id: fuzz
level: low
causes: [some-cause]
condition: '{condition}'
tests:
  match: [{{events: [{{message: x}}]}}]
  nomatch: [{{events: [{{message: y}}]}}]
"""
EVENTS = pl.DataFrame(
    {"message": ["a x", "Snapshot failed", "b"], "level": ["ERROR", "INFO", None], "file": ["f", "f", "g"]}
)


def _events() -> pl.DataFrame:
    from datetime import datetime, timezone

    from logscan.frames import conform

    return conform(
        EVENTS.with_columns(time=pl.Series([datetime(2024, 5, 30, 13, i, tzinfo=timezone.utc) for i in range(3)]), text=pl.col("message")),
        EVENT_SCHEMA,
    )


@st.composite
def mutated_text(draw: st.DrawFn, seeds: list[str]) -> str:
    s = list(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(s)))
        op = draw(st.sampled_from(["del", "ins", "dup"]))
        if op == "del":
            del s[pos : pos + draw(st.integers(1, 8))]
        elif op == "ins":
            s[pos:pos] = list(draw(st.sampled_from(['"', "/", "(", ")", "[", "]", "\\", "(?", "*", "+{9999}", "\x00", "\u202e", " and ", " or ", " not ", "99999999999999999999d", "data.", "~", ",", "'"])))
        else:
            s[pos:pos] = s[pos : pos + 10] * draw(st.integers(1, 4))
    return "".join(s)


@given(st.one_of(mutated_text(VALID_CONDITIONS), st.text(max_size=200), st.integers(1, 3000).map(lambda n: "(" * n + '"a"' + ")" * n),
                 st.integers(1, 3000).map(lambda n: "not " * n + '"a"'), st.integers(1, 100).map(lambda n: " and ".join(['"a"'] * n))))
def test_condition_grammar_only_raises_signature_error(text: str) -> None:
    try:
        parse_condition(text)
    except SignatureError:
        return
    except BaseException as exc:
        pytest.fail(f"{text[:200]!r}: {type(exc).__name__}: {exc}")
    try:
        sigs = parse_signatures(SIG.format(condition=text.replace("'", "''")), "fuzz.yaml")
    except SignatureError:
        return
    evaluate(sigs, _events())


YAML_SEEDS = [
    SIG.format(condition='"x"'),
    "- " + SIG.format(condition='"x"').replace("\n", "\n  "),
    # YAML alias bomb: nine levels of nine-fold aliases.
    "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)) + SIG.format(condition='"x"'),
    # Tags that would construct Python objects with an unsafe loader.
    "title: !!python/object/apply:os.system ['touch /tmp/logscan-pwned']\n" + SIG.format(condition='"x"').split("\n", 1)[1],
    "!!python/name:os.system\n",
    SIG.format(condition='"x"') + "---\n" + SIG.format(condition='"y"').replace("id: fuzz", "id: fuzz2"),
]


@given(st.one_of(st.sampled_from(YAML_SEEDS), mutated_text(YAML_SEEDS), st.text(max_size=300)))
def test_signature_files_only_raise_signature_error(text: str) -> None:
    try:
        sigs = parse_signatures(text, "fuzz.yaml")
    except SignatureError:
        return
    except BaseException as exc:
        pytest.fail(f"{text[:300]!r}: {type(exc).__name__}: {exc}")
    evaluate(sigs, _events())
    assert not Path("/tmp/logscan-pwned").exists()


@pytest.mark.parametrize(
    ("name", "path", "doc"),
    [
        ("win_aggregate_status", "WindowsAzure/Logs/AggregateStatus/aggregatestatus.json",
         '{"aggregateStatus":{"guestAgentStatus":{"version":"\\ud800","status":"Ready\\udfff"}}}'),
        ("ext_status", f"var/lib/waagent/{SNAP}-1.0.9220.0/status/5.status",
         '[{"status":{"name":"\\ud800","operation":"Enable","status":"error","code":1,"formattedMessage":{"message":"\\udc00x"}}}]'),
        ("win_ext_status", "Packages/Plugins/X.Y/1.0/Status/5.status",
         '[{"status":{"name":"\\ud800","operation":"Enable","status":"error","code":1,"formattedMessage":{"message":"\\udc00x"}}}]'),
        ("agent_state", "var/lib/waagent/VmSettings.json", '{"extensionGoalStates":[{"name":"\\ud800","version":"1"}],"hostGAPluginVersion":"\\udbff"}'),
    ],
)
def test_lone_surrogate_escapes_in_json(name: str, path: str, doc: str) -> None:
    """Found by fuzzing: ``"\\ud800"`` decodes to a string polars cannot store."""
    parse_only_ingest_errors(name, path, doc.encode())
