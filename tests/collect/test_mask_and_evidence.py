from __future__ import annotations

import gzip
import io
import json
import zipfile

import polars as pl
import pytest

from logscan.collect.mask import MaskError, mask_file
from logscan.errors import IngestError
from logscan.rules.checks import report_notes, run_checks
from logscan.sources import spec_for
from logscan.sources.base import SourceFile
from logscan.sources.collect_manifest import SPEC, parse

SAS = b"https://a.blob.core.windows.net/c?sv=2020&sig=TOPSECRETSIG&se=2024"


def test_text_masked_and_foreign_bytes_kept() -> None:
    data = b"caf\xe9 latin-1 " + SAS + b"\n"
    out = mask_file("var/log/waagent.log", data, 1024)
    assert b"TOPSECRETSIG" not in out and out.startswith(b"caf\xe9 latin-1 ")


def test_gzip_and_zip_rebuilt_masked() -> None:
    gz = mask_file("var/log/waagent.log.2.gz", gzip.compress(SAS), 1024)
    assert b"TOPSECRETSIG" not in gzip.decompress(gz)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a/GoalState.xml", SAS)
    out = zipfile.ZipFile(io.BytesIO(mask_file("h.zip", buf.getvalue(), 1024)))
    assert out.namelist() == ["a/GoalState.xml"] and b"TOPSECRETSIG" not in out.read("a/GoalState.xml")


def test_archives_that_cannot_be_checked_are_refused() -> None:
    with pytest.raises(MaskError):
        mask_file("x.zip", b"PK\x03\x04 broken", 1024)
    with pytest.raises(MaskError):
        mask_file("x.gz", gzip.compress(b"a" * 5000), 1000)  # inflates past the limit


def test_ovf_password_and_psk_masked() -> None:
    out = mask_file("ovf-env.xml", b"<ns1:UserPassword>p4ss</ns1:UserPassword>\n", 1024)
    assert b"p4ss" not in out
    assert b"wifipass" not in mask_file("eth0.nmconnection", b"[wifi-security]\npsk=wifipass\n", 1024)


def _manifest(**over) -> bytes:
    m = {
        "format": 1, "platform": "linux", "root": "/", "live": True, "euid": 1000, "started": "2024-05-30T13:20:00.000000Z",
        "commands_run": True,
        "probes": {"agent": {"usr/sbin/waagent": True}, "agent_disabled": {"var/lib/waagent/disable_agent": True}},
        "commands": [
            {"path": "sos_commands/process/ps_-ef", "argv": ["ps", "-ef"], "status": "ok", "exit_code": 0},
            {"path": "sos_commands/logscan/connect_168.63.129.16_80", "argv": ["connect"], "status": "ok", "kind": "connect",
             "host": "168.63.129.16", "port": 80, "result": "ok 3 ms", "detail": ""},
            {"path": "sos_commands/logscan/connect_168.63.129.16_32526", "argv": ["connect"], "status": "failed", "kind": "connect",
             "host": "168.63.129.16", "port": 32526, "result": "refused", "detail": "refused"},
        ],
        "files": [], "not_collected": [{"path": "var/log/syslog", "kind": "unreadable", "reason": "Permission denied"}], "absent": [],
    }
    m.update(over)
    return json.dumps(m).encode()


def test_manifest_is_claimed_and_parsed_into_collect_facts() -> None:
    path = "sos_commands/logscan/manifest.json"
    assert spec_for(path) is SPEC and spec_for("x/" + path) is SPEC
    p = parse(SourceFile(path, path, _manifest()))
    facts = dict(p.facts.select("key", "value").rows())
    assert facts["agent_installed"] == "yes" and facts["agent_disabled"] == "yes" and facts["as_root"] == "no"
    assert facts["connect:168.63.129.16:80"] == "ok" and facts["connect:168.63.129.16:32526"] == "refused"
    assert facts["not_collected:var/log/syslog"] == "unreadable: Permission denied"
    assert p.facts["time"].dt.year().to_list()[0] == 2024
    assert [e["kind"] for e in p.errors] == ["not-collected"]

    hits = run_checks(_Bundle(p.facts))
    assert hits.filter(pl.col("signature") == "wireserver-connect-test").height == 0  # as a non-root user: says nothing
    as_root = parse(SourceFile(path, path, _manifest(euid=0))).facts
    connect = run_checks(_Bundle(as_root)).filter(pl.col("signature") == "wireserver-connect-test")
    assert connect["note"].to_list() == ["a TCP connection from the VM to 168.63.129.16:32526 did not connect (refused)"]
    assert hits.filter(pl.col("signature") == "collect-agent-disabled")["cause"].to_list() == ["agent-not-running"]
    notes = report_notes(p.facts)
    assert any("1 file(s) were not collected (e.g. var/log/syslog)" in n for n in notes)
    assert any("Collected without root" in n for n in notes)


class _Bundle:
    """What run_checks reads of a loaded bundle."""

    def __init__(self, facts: pl.DataFrame):
        from logscan.frames import events_from_records

        self.facts, self.events, self.name, self.coverage = facts, events_from_records([]), "vm", {"platform": "linux"}


@pytest.mark.parametrize("bad", [b"not json", b"[1, 2]", b'{"commands": "x", "probes": [], "not_collected": 3}'])
def test_bad_manifests_fail_as_ingest_errors_or_parse_to_little(bad: bytes) -> None:
    path = "sos_commands/logscan/manifest.json"
    try:
        p = parse(SourceFile(path, path, bad))
    except IngestError:
        return
    assert p.facts.height <= 2
