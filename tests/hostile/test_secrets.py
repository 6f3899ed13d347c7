"""No customer secret in any output byte.

A Linux and a Windows bundle are seeded with every kind of secret a VM's logs carry: SAS
tokens (``sig=``, ``se=``, ``sv=`` in blob URLs, in logs and in goal-state/status files),
``protectedSettings`` (in ``.settings`` files and in ExtensionsConfig XML), passwords and
storage account keys in public settings and log lines, PEM private keys and certificates, and
``AccountKey=`` connection strings. Every output format is produced (scan: table, JSON,
Markdown, HTML when it exists; timeline: table, JSON, CSV, Parquet) and every byte read back:
none of the secret strings may appear. Parquet is checked both as raw bytes and decoded.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pytest
from typer.testing import CliRunner

import logscan
from logscan.cli import app

from .conftest import CONF

runner = CliRunner()

# --- the secrets (distinct, searchable strings) ------------------------------------------
SAS_SIG = "SASsigL1nuxAbCdEf0123456789%2Bxyz%3D"
SAS_SIG_XML = "XmlSasSig9876ZyXwVu%2Fqq%3D"
SAS_SIG_STATUS = "StatusSasSigQwErTy5555%3D"
SAS_SIG_WIN = "WinSasSig1234AbCdQqQq%2F%3D"
SAS_SE = "2031-07-13T04%3A05%3A06Z"
SAS_SV = "2019-07-07"
PROTECTED = "MIIB9wYJKoZIhvcNAQcDoIIB6DCCAeQCAQAxggFwMIIBbAIBADBUMD0xOzA5BgoJkiaJk_PROTECTED_LINUX"
PROTECTED_XML = "MIIEPROTECTEDXMLBLOBabcdefghijklmnop0123456789"
PROTECTED_WIN = "MIIWINPROTECTEDBLOBzyxwvutsrqponmlk9876543210"
PASSWORD = "Linux-Pa55w0rd-Q9!"
PASSWORD_WIN = "Win-Pa55w0rd-Z7#"
PASSWORD_LOG = "LogLinePassw0rd77"
CLIENT_SECRET = "cl1ent-s3cret-value-8899"


def _key(seed: str, first: str = "") -> str:
    """A storage account key: 64 random bytes in base64, 88 characters ending '=='."""
    raw = hashlib.sha512(seed.encode()).digest()
    k = base64.b64encode(raw).decode()
    assert len(k) == 88 and k.endswith("==")
    return (first + k[1:]) if first else k


ACCOUNT_KEY = _key("public-settings")  # in publicSettings JSON
ACCOUNT_KEY_PLUS = _key("plus-start", "+")  # begins with '+': no word boundary before it
ACCOUNT_KEY_CONN = _key("connection-string")  # AccountKey=... in a connection string
ACCOUNT_KEY_LOG = _key("bare-in-log", "/")  # a bare key in a log line
PEM_KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7PRIVATEKEYBODY"
PEM_CERT_BODY = "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQCERTBODY"

# Issue #16: the forms secrets take beyond the plain ones above.
SIG_PCT = "PctEncSig0000AbCdEf%252Bq"  # inside a percent-encoded URL (%26sig%3D...)
SIG_ENTITY = "EntitySig1111XyZ"  # &#38;sig&#61;...
SIG_UNICODE = "JsonU0026Sig2222QwE"  # \u0026sig=... as .NET writes JSON
JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.JwtSigNatureZZ9"
BEARER = "opaqueBearerTok3nValue998877"
BASIC = "dXNlcjpCYXNpY1Bhc3M5OQ=="
ARM_PASSWORD = "ArmAdm1nPassw0rd!!"
YAML_SECRET = "yaml client secret 4455"
PS_PASSWORD = "PsPlainPa55word"
PS_SECURE = "SecureStr1ngPlain"
URL_PASSWORD = "UrlPa55wordX"
PROC_PASSWORD = "ProcArgPa55w0rd"
PROC_TOKEN = "ProcArgT0kenValue"
ENV_SECRET = "EnvVarSecretVal"
B64_INNER = "Base64InnerPa55"
B64_JSON = base64.b64encode(json.dumps({"storageAccountName": "diagstore", "storageAccountKey": B64_INNER}).encode()).decode()
UPPER_KEY = "UpperCaseAcctKey77"
SIG_PCT_ENCODED = quote(SIG_PCT, safe="")  # how it appears in the outer URL
NEW_SECRETS = [
    SIG_PCT_ENCODED, SIG_ENTITY, SIG_UNICODE, JWT, JWT.split(".")[1], BEARER, BASIC, ARM_PASSWORD, YAML_SECRET, PS_PASSWORD,
    PS_SECURE, URL_PASSWORD, PROC_PASSWORD, PROC_TOKEN, ENV_SECRET, B64_JSON, UPPER_KEY,
]


def new_form_lines() -> list[str]:
    """One line per secret form of issue #16 (each readable as a log message)."""
    inner = f"https://x.blob.core.windows.net/c/b?sv=2019-07-07&sig={SIG_PCT}&se=2031"
    return [
        f"redirect https://login.example/cb?next={quote(inner, safe='')}",
        f"manifest <a href=\"https://m.blob.core.windows.net/x?sv=1&#38;sig&#61;{SIG_ENTITY}&#38;se=2\">",
        f'status {{"uri":"https://s.blob.core.windows.net/x?sv=1\\u0026sig={SIG_UNICODE}\\u0026se=2"}}',
        f"Authorization: Bearer {JWT}",
        f"request header authorization=Bearer {BEARER} sent; token {JWT}",
        f"proxy Authorization: Basic {BASIC}",
        f'template {{"adminPassword": {{"value": "{ARM_PASSWORD}"}}, "clientSecret": "{ARM_PASSWORD}"}}',
        f"yaml   client_secret: {YAML_SECRET}",
        f'ps> New-LocalUser -Name svc -Password "{PS_PASSWORD}"; $s = ConvertTo-SecureString "{PS_SECURE}" -AsPlainText -Force',
        f"fetch https://backupuser:{URL_PASSWORD}@files.example.com/x failed",
        f"ps: root 4242 1 0 13:00 ? 00:00:01 /opt/app/bin/app --db-password={PROC_PASSWORD} --token {PROC_TOKEN} -v",
        f"env: AZURE_CLIENT_SECRET={ENV_SECRET} HOME=/root",
        f"settings blob {B64_JSON}",
        f"conn DefaultEndpointsProtocol=https;ACCOUNTNAME=diagstore;ACCOUNTKEY={UPPER_KEY};",
    ]


SECRETS = [
    *NEW_SECRETS,
    SAS_SIG, SAS_SIG_XML, SAS_SIG_STATUS, SAS_SIG_WIN, SAS_SE, PROTECTED, PROTECTED_XML, PROTECTED_WIN, PASSWORD,
    PASSWORD_WIN, PASSWORD_LOG, CLIENT_SECRET, ACCOUNT_KEY, ACCOUNT_KEY_PLUS, ACCOUNT_KEY_CONN, ACCOUNT_KEY_LOG,
    PEM_KEY_BODY, PEM_CERT_BODY,
]
#: sv= is masked too, but a date can legitimately appear elsewhere; check it inside URLs only.
SV_IN_URL = re.compile(r"[?&](?:amp;)?sv=" + re.escape(SAS_SV))


def sas(host: str, sig: str, amp: str = "&") -> str:
    return f"https://{host}.blob.core.windows.net/$system/vm1.status?sv={SAS_SV}{amp}sr=b{amp}sk=system-1{amp}sig={sig}{amp}se={SAS_SE}{amp}sp=rw"


def pem(kind: str, body: str, newline: str = "\n") -> str:
    return f"-----BEGIN {kind}-----{newline}{body}{newline}{body[::-1]}{newline}-----END {kind}-----"


CONN = f"DefaultEndpointsProtocol=https;AccountName=diagstore;AccountKey={ACCOUNT_KEY_CONN};EndpointSuffix=core.windows.net"
CSE = "Microsoft.Azure.Extensions.CustomScript"
SNAP = "Microsoft.Azure.RecoveryServices.VMSnapshotLinux"


def _public_settings(password: str) -> dict:
    return {
        "fileUris": [sas("scripts", SAS_SIG)],
        "commandToExecute": f"./install.sh --password {password}",
        "password": password,
        "storageAccountName": "diagstore",
        "storageAccountKey": ACCOUNT_KEY,
        "storageKey2": ACCOUNT_KEY_PLUS,
        "connectionString": CONN,
        "client_secret": CLIENT_SECRET,
        "certificate": pem("CERTIFICATE", PEM_CERT_BODY),
    }


def linux_bundle(root: Path) -> Path:
    t = "2024-05-30T13:1{}:00.000000Z"
    log = "\n".join(
        [
            f"{t.format(0)} INFO ExtHandler ExtHandler Azure Linux Agent (Goal State Agent version 2.9.1.1)",
            f"{t.format(1)} INFO ExtHandler ExtHandler Uploading status blob to {sas('md-abc', SAS_SIG)}",
            f"{t.format(2)} ERROR ExtHandler ExtHandler Failed to download: {sas('md-abc', SAS_SIG, '&amp;')}",
            f"{t.format(3)} INFO ExtHandler ExtHandler connection string: {CONN}",
            f"{t.format(4)} INFO ExtHandler ExtHandler [{CSE}-2.1.10] cmd: mount -o username=u,password={PASSWORD_LOG} //s/x",
            f"{t.format(5)} ERROR ExtHandler ExtHandler Key material dumped:",
            pem("RSA PRIVATE KEY", PEM_KEY_BODY),
            pem("CERTIFICATE", PEM_CERT_BODY),
            f"{t.format(6)} WARNING ExtHandler ExtHandler bare key {ACCOUNT_KEY_LOG} and {ACCOUNT_KEY_PLUS} seen",
            f"{t.format(7)} INFO ExtHandler ExtHandler settings {json.dumps({'protectedSettings': PROTECTED, 'publicSettings': _public_settings(PASSWORD)})}",
            *(f"{t.format(7)} INFO ExtHandler ExtHandler {line}" for line in new_form_lines()),
            f"{t.format(8)} ERROR ExtHandler ExtHandler Event: name={CSE}, op=ExtensionProcessing, message=Extension '{CSE}' will not be processed"
            " since extension processing is disabled. To enable extension processing, set Extensions.Enabled=y in '/etc/waagent.conf', duration=0",
            "",
        ]
    )
    files = {
        "etc/waagent.conf": CONF.decode(),
        "var/log/waagent.log": log,
        f"var/lib/waagent/{CSE}-2.1.10/config/0.settings": json.dumps(
            {"runtimeSettings": [{"handlerSettings": {"protectedSettingsCertThumbprint": "ABCDEF", "protectedSettings": PROTECTED,
                                                      "publicSettings": _public_settings(PASSWORD)}}]}
        ),
        f"var/lib/waagent/{CSE}-2.1.10/status/0.status": json.dumps(
            [{"version": "1.0", "timestampUTC": "2024-05-30T13:15:00Z", "status": {"name": CSE, "operation": "Enable", "status": "error", "code": 1,
              "formattedMessage": {"lang": "en-US", "message": f"Failed to download {sas('scripts', SAS_SIG_STATUS)} with {CONN}; "
                                                               f"password={PASSWORD_LOG}\n{pem('PRIVATE KEY', PEM_KEY_BODY)}"}}}]
        ),
        f"var/lib/waagent/{SNAP}-1.0.9220.0/status/5.status": json.dumps(
            [{"version": "1.0", "timestampUTC": "2024-05-30T13:15:00Z", "status": {"name": SNAP, "operation": "Enable", "status": "error", "code": 51,
              "formattedMessage": {"lang": "en-US", "message": f"upload to {sas('snap', SAS_SIG_STATUS)} failed; AccountKey={ACCOUNT_KEY_CONN}"}}}]
        ),
        "var/lib/waagent/ExtensionsConfig.3.xml": (
            '<?xml version="1.0" encoding="utf-8"?>\n<Extensions version="1.0.0.0" goalStateIncarnation="3">\n'
            f'<Plugins><Plugin name="{CSE}" version="2.1.10" location="{sas("manifest", SAS_SIG_XML, "&amp;")}" state="enabled" autoUpgrade="true" /></Plugins>\n'
            f'<PluginSettings><Plugin name="{CSE}" version="2.1.10"><RuntimeSettings seqNo="0">'
            + json.dumps({"runtimeSettings": [{"handlerSettings": {"protectedSettingsCertThumbprint": "ABCDEF", "protectedSettings": PROTECTED_XML,
                                                                    "publicSettings": _public_settings(PASSWORD)}}]}).replace("&", "&amp;")
            + "</RuntimeSettings></Plugin></PluginSettings>\n"
            f'<StatusUploadBlob statusBlobType="PageBlob">{sas("md-abc", SAS_SIG_XML, "&amp;")}</StatusUploadBlob>\n</Extensions>\n'
        ),
        "var/lib/waagent/history/2024-05-30T13-15-40__3/ExtensionsConfig.xml": None,  # same as above, in history
        "var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/extension.log": (
            f"2024/05/30 13:15:00 [{SNAP}-1.0.9220.0] blob uri {sas('snap', SAS_SIG)} password={PASSWORD_LOG}\n"
        ),
    }
    files["var/lib/waagent/history/2024-05-30T13-15-40__3/ExtensionsConfig.xml"] = files["var/lib/waagent/ExtensionsConfig.3.xml"]
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def windows_bundle(root: Path) -> Path:
    vms = "Microsoft.Azure.RecoveryServices.VMSnapshot"
    cse = "Microsoft.Compute.CustomScriptExtension"
    settings = json.dumps(
        {"runtimeSettings": [{"handlerSettings": {"protectedSettingsCertThumbprint": "ABCDEF", "protectedSettings": PROTECTED_WIN,
                                                  "publicSettings": _public_settings(PASSWORD_WIN)}}]}
    )
    status = json.dumps(
        [{"version": "1.0", "timestampUTC": "2024-05-30T13:15:00Z", "status": {"name": vms, "operation": "Enable", "status": "error", "code": 1,
          "formattedMessage": {"lang": "en-US", "message": f"Upload to {sas('win', SAS_SIG_WIN)} failed, {CONN}, pwd={PASSWORD_WIN}"}}}]
    )
    files = {
        "WindowsAzure/Logs/WaAppAgent.log": (
            f"[00000006] 2024-05-30T13:10:00Z [INFO]  Status blob {sas('win', SAS_SIG_WIN)}\n"
            f"[00000007] 2024-05-30T13:11:00Z [ERROR] Settings {settings}\n"
            f"[00000008] 2024-05-30T13:12:00Z [WARN]  conn {CONN} password={PASSWORD_WIN} key {ACCOUNT_KEY_LOG}\n"
            f"[00000009] 2024-05-30T13:13:00Z [ERROR] cert dump\n{pem('ENCRYPTED PRIVATE KEY', PEM_KEY_BODY)}\n{pem('CERTIFICATE', PEM_CERT_BODY)}\n"
        ),
        "WindowsAzure/config/WireServerRoleExtensionsConfig_0._vm1.xml": (
            '<?xml version="1.0" encoding="utf-8"?>\n<Extensions version="1.0.0.0" goalStateIncarnation="3">\n'
            f'<Plugins><Plugin name="{vms}" version="1.0.75.0" location="{sas("manifest", SAS_SIG_WIN, "&amp;")}" state="enabled" autoUpgrade="true" /></Plugins>\n'
            f'<PluginSettings><Plugin name="{vms}" version="1.0.75.0"><RuntimeSettings seqNo="5">{settings.replace("&", "&amp;")}</RuntimeSettings></Plugin></PluginSettings>\n'
            f'<StatusUploadBlob statusBlobType="PageBlob">{sas("md-win", SAS_SIG_WIN, "&amp;")}</StatusUploadBlob>\n</Extensions>\n'
        ),
        f"Packages/Plugins/{cse}/1.10.15/RuntimeSettings/0.settings": settings,
        f"Packages/Plugins/{vms}/1.0.75.0/RuntimeSettings/5.settings": settings,
        f"Packages/Plugins/{vms}/1.0.75.0/Status/5.status": status,
        "WindowsAzure/Logs/AggregateStatus/aggregatestatus.json": json.dumps(
            {"aggregateStatus": {"guestAgentStatus": {"version": "2.7.41491.1010", "status": "Ready",
                                                      "formattedMessage": {"lang": "en-US", "message": f"GuestAgent {sas('agg', SAS_SIG_WIN)}"}},
                                 "handlerAggregateStatus": [{"handlerName": vms, "handlerVersion": "1.0.75.0", "status": "NotReady",
                                                             "formattedMessage": {"lang": "en-US", "message": f"{CONN} password={PASSWORD_WIN}"},
                                                             "runtimeSettingsStatus": {"sequenceNumber": "5", "settingsStatus": {"status": {
                                                                 "name": vms, "operation": "Enable", "status": "error", "code": 1,
                                                                 "formattedMessage": {"lang": "en-US", "message": f"{sas('x', SAS_SIG_WIN)} {pem('PRIVATE KEY', PEM_KEY_BODY)}"}}}}}]}}
        ),
        f"WindowsAzure/Logs/Plugins/{cse}/1.10.15/CommandExecution.log": (
            f"2024-05-30 13:14:00.123 Info Executing {sas('scripts', SAS_SIG_WIN)} with AccountKey={ACCOUNT_KEY_CONN}\n"
            f"2024-05-30 13:14:01.123 Error client_secret={CLIENT_SECRET} password={PASSWORD_WIN} {ACCOUNT_KEY_PLUS}\n"
            + "".join(f"2024-05-30 13:14:02.123 Info {line}\n" for line in new_form_lines())
        ),
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def _leaks(blob: str) -> list[str]:
    flat = re.sub(r"[\s│┃║|]+", "", blob)  # a table may wrap a long value across lines
    found = [s for s in SECRETS if s in blob or s in flat]
    if SV_IN_URL.search(blob):
        found.append("sv=" + SAS_SV)
    return found


@pytest.fixture(scope="module", params=["linux", "windows"])
def bundle(request, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp(request.param) / f"{request.param}-vm"
    return linux_bundle(root) if request.param == "linux" else windows_bundle(root)


def test_the_bundle_really_holds_the_secrets(bundle: Path) -> None:
    """Guard against a test that passes because the secrets never made it into the bundle."""
    raw = "\n".join(p.read_text() for p in bundle.rglob("*") if p.is_file())
    only_other = {SAS_SIG_WIN, PROTECTED_WIN, PASSWORD_WIN} if bundle.name.startswith("linux") else {
        SAS_SIG_XML, SAS_SIG_STATUS, PROTECTED, PROTECTED_XML, PASSWORD, PASSWORD_LOG}
    missing = [s for s in SECRETS if s not in raw and s not in only_other]
    assert missing == []
    # and logscan reads the files that hold them
    b = logscan.load(bundle)
    assert b.events.height >= 4
    assert b.facts.height >= 1


def test_no_secret_in_loaded_frames(bundle: Path) -> None:
    b = logscan.load(bundle)
    for name, df in (("events", b.events), ("facts", b.facts), ("ingest_errors", b.ingest_errors)):
        text = df.select(pl.col(pl.String)).write_csv()
        assert _leaks(text) == [], (name, _leaks(text))


SCAN_FORMATS = ["table", "json", "markdown"] + (["html"] if importlib.util.find_spec("logscan.reports.html") else [])


@pytest.mark.parametrize("fmt", SCAN_FORMATS)
def test_no_secret_in_scan_reports(bundle: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    res = runner.invoke(app, ["scan", str(bundle), "--format", fmt, "--output", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    data = out.read_bytes()
    assert len(data) > 100
    text = data.decode("utf-8", "replace")
    assert _leaks(text) == []
    assert _leaks(res.output) == []
    # to the terminal too (what gets copy-pasted)
    res = runner.invoke(app, ["scan", str(bundle), "--format", fmt], catch_exceptions=False)
    assert _leaks(res.output) == []


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "parquet"])
def test_no_secret_in_timeline(bundle: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"timeline.{fmt}"
    res = runner.invoke(app, ["timeline", str(bundle), "--format", fmt, "--output", str(out), "--limit", "100000"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    data = out.read_bytes()
    assert _leaks(data.decode("latin-1")) == []  # raw bytes, whatever the encoding
    if fmt == "parquet":
        df = pl.read_parquet(out)
        assert df.height >= 4
        assert _leaks(df.select(pl.col(pl.String)).write_csv()) == []
        # also uncompressed, so the raw-byte check above is meaningful
        unc = tmp_path / "plain.parquet"
        df.write_parquet(unc, compression="uncompressed")
        assert _leaks(unc.read_bytes().decode("latin-1")) == []
    else:
        assert len(data) > 50


def test_masking_keeps_the_useful_part(bundle: Path) -> None:
    """Masking hides the secret, not the evidence: the blob host and the error text stay."""
    b = logscan.load(bundle)
    text = "\n".join(t for t in b.events["text"].to_list() if t)
    assert ".blob.core.windows.net" in text
    assert "***" in text
