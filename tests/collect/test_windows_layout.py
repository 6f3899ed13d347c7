"""The Windows script's zip layout: built here from a sample, scanned, and kept in step with the script."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.collect.windows import script_text, write_script
from logscan.content import path as content_path

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "win-vss-writer-failure"

#: (path in the zip, what the script writes it from): one row per row of windows-layout.md.
LAYOUT = [
    ("WindowsAzure/Logs", "Add-Tree (Join-Path $wa 'Logs') 'WindowsAzure/Logs'"),
    ("Packages/Plugins", "Add-Tree $pk 'Packages/Plugins'"),
    ("EventLogs/Application.evtx", '"EventLogs/$log.evtx"'),
    ("sos_commands/services/sc_query_WindowsAzureGuestAgent", '"sos_commands/services/sc_query_$svc"'),
    ("sos_commands/services/sc_qc_RdAgent", '"sos_commands/services/sc_qc_$svc"'),
    ("sos_commands/vss/vssadmin_list_writers", "'sos_commands/vss/vssadmin_list_writers'"),
    ("sos_commands/networking/netsh_winhttp_show_proxy", "'sos_commands/networking/netsh_winhttp_show_proxy'"),
    ("sos_commands/networking/ipconfig_all", "'sos_commands/networking/ipconfig_all'"),
    ("sos_commands/logscan/connect_168.63.129.16_80", '"sos_commands/logscan/connect_168.63.129.16_$port"'),
    ("sos_commands/registry/pending_reboot", "'sos_commands/registry/pending_reboot'"),
    ("sos_commands/dotnet/dotnet_versions", "'sos_commands/dotnet/dotnet_versions'"),
    ("sos_commands/logscan/manifest.json", "'sos_commands/logscan/manifest.json'"),
]


def test_script_and_layout_document_agree() -> None:
    script = script_text()
    doc = content_path("collect", "windows-layout.md").read_text(encoding="utf-8")
    for path, fragment in LAYOUT:
        assert fragment in script, fragment
        stem = path.rsplit("_", 1)[0] if path.endswith(("_80", "_RdAgent", "_WindowsAzureGuestAgent")) else path
        assert stem in doc, stem
    for needle in ("wevtutil epl", "vssadmin list writers", "netsh winhttp show proxy", "sc.exe query", "168.63.129.16", "32526",
                   "RebootPending", "NET Framework Setup\\NDP", "protectedSettings"):
        assert needle in script, needle


def test_written_script_is_crlf_with_bom(tmp_path: Path) -> None:
    p = write_script(tmp_path)
    data = p.read_bytes()
    assert p.name == "logscan-collect.ps1" and data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and b"\r\r" not in data


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="sample bundle absent")
def test_a_zip_in_the_documented_layout_scans(tmp_path: Path) -> None:
    out = tmp_path / "vm.zip"
    manifest = {
        "format": 1, "tool": "logscan windows.ps1 1", "platform": "windows", "root": "C:\\", "live": True, "host": "SQLVM01",
        "started": "2024-06-10T02:00:00.000000Z", "commands_run": True,
        "commands": [
            {"path": "sos_commands/vss/vssadmin_list_writers", "argv": ["vssadmin", "list", "writers"], "status": "ok", "exit_code": 0,
             "start": "2024-06-10T02:00:01.000000Z", "duration_s": 0.4, "detail": ""},
            {"path": "sos_commands/logscan/connect_168.63.129.16_80", "argv": ["connect", "168.63.129.16", "80"], "status": "ok",
             "exit_code": 0, "kind": "connect", "host": "168.63.129.16", "port": 80, "result": "ok 2 ms", "detail": ""},
        ],
        "files": [], "not_collected": [], "absent": [],
        "probes": {"agent": {"service:WindowsAzureGuestAgent": True, "WindowsAzure/GuestAgent*": True}, "reboot_pending": {"HKLM:\\x": False}},
    }
    outputs = {
        "sos_commands/vss/vssadmin_list_writers": "Writer name: 'SqlServerWriter'\r\n   State: [8] Failed\r\n   Last error: Non-retryable error\r\n",
        "sos_commands/services/sc_query_WindowsAzureGuestAgent": "SERVICE_NAME: WindowsAzureGuestAgent\r\n        STATE              : 4  RUNNING\r\n",
        "sos_commands/logscan/connect_168.63.129.16_80": "connect 168.63.129.16:80 ok 2 ms\n",
        "sos_commands/logscan/manifest.json": json.dumps(manifest),
    }
    with zipfile.ZipFile(out, "w") as z:
        for f in sorted(SAMPLE.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(SAMPLE).as_posix())
        for name, text in outputs.items():
            z.writestr(name, text)
    b = logscan.load(out)
    facts = dict(b.facts.filter(pl.col("subject") == "collect").select("key", "value").rows())
    assert facts["platform"] == "windows" and facts["agent_installed"] == "yes" and facts["connect:168.63.129.16:80"] == "ok"
    assert b.coverage["platform"] == "windows"
    report = logscan.scan(out)
    assert report.findings[0].cause == "vss-writer-failure"
