"""``logscan redact``: the clean copy holds no secret, scans to the same causes, leaves out
what cannot be masked; ``--redact-identities`` keeps real names only in the mapping file."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hostile.test_secrets import _leaks, linux_bundle, windows_bundle
from typer.testing import CliRunner

import logscan
from logscan.cli import app

runner = CliRunner()
SHARED_EVTX = Path(__file__).resolve().parents[2] / ".." / "shared" / "evtx-samples" / "pyevtx-tests-system.evtx"
HOST, USER, IP, EMAIL, SUB = "contoso-db-07", "jdoe", "10.20.30.40", "jane.doe@contoso.com", "7f1c2a9e-5b1d-4c3e-9a8f-0d1e2f3a4b5c"


def _causes(path: Path) -> list[str]:
    return [f.cause for f in logscan.scan(path).findings]


def _all_bytes(out: Path) -> str:
    if out.suffix == ".zip":
        with zipfile.ZipFile(out) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") + "\n" + n for n in z.namelist())
    return "\n".join(p.read_text("utf-8", "replace") + "\n" + str(p) for p in out.rglob("*") if p.is_file())


def _decorate(root: Path) -> Path:
    """Identities, a private key file and a binary file beside the secrets."""
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/hostname").write_text(HOST + "\n")
    log = root / "var/log/syslog"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"2024-05-30T13:15:46.000000+00:00 {HOST} sshd[1]: Accepted publickey for {USER} from {IP} port 22; mail {EMAIL}\n"
                   f"2024-05-30T13:15:47.000000+00:00 {HOST} app[2]: /subscriptions/{SUB}/resourceGroups/rg1 via 168.63.129.16\n")
    (root / "var/lib/waagent").mkdir(parents=True, exist_ok=True)
    (root / "var/lib/waagent/TransportPrivate.pem").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    (root / "var/lib/waagent/blob.bin").write_bytes(bytes(range(256)) * 8)
    return root


@pytest.fixture(scope="module", params=["linux", "windows"])
def bundle(request, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp(request.param) / f"{request.param}-vm"
    b = linux_bundle(root) if request.param == "linux" else windows_bundle(root)
    return _decorate(b)


@pytest.mark.parametrize("out_name", ["clean.zip", "clean-folder"])
def test_clean_copy_has_no_secret_and_same_causes(bundle: Path, tmp_path: Path, out_name: str) -> None:
    out = tmp_path / out_name
    res = runner.invoke(app, ["redact", str(bundle), "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert _leaks(_all_bytes(out)) == []
    assert "AAAA" not in _all_bytes(out)
    assert "TransportPrivate.pem" in res.output and "blob.bin" in res.output  # left out and listed
    assert "REDACTED.md" in _all_bytes(out)
    before = _causes(bundle)
    assert before  # the bundle has a cause to compare
    assert _causes(out) == before
    # the clean copy still reads: evidence keeps its keys and shape
    assert "sig=***" in _all_bytes(out)


def test_zip_input_works_the_same(bundle: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.zip"
    with zipfile.ZipFile(src, "w") as z:
        for p in bundle.rglob("*"):
            if p.is_file():
                z.write(p, p.relative_to(bundle).as_posix())
    out = tmp_path / "clean.zip"
    res = runner.invoke(app, ["redact", str(src), "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert _leaks(_all_bytes(out)) == []
    assert _causes(out) == _causes(src)


def test_identities_only_in_the_mapping_file(bundle: Path, tmp_path: Path) -> None:
    out, mapping = tmp_path / "clean.zip", tmp_path / "map.csv"
    res = runner.invoke(app, ["redact", str(bundle), "--out", str(out), "--redact-identities", "--identity-map", str(mapping)],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    clean = _all_bytes(out)
    real = [HOST, USER, IP, EMAIL, SUB]
    assert [r for r in real if r.lower() in clean.lower()] == []
    assert "168.63.129.16" in clean  # platform address is evidence
    text = mapping.read_text()
    assert all(r in text for r in real)
    assert _causes(out) == _causes(bundle)
    # scan and timeline with the flag: names pseudonymised in the report, mapping only on request
    rep = runner.invoke(app, ["scan", str(bundle), "-f", "json", "--redact-identities"], catch_exceptions=False)
    assert rep.exit_code == 0
    assert [r for r in real if r in rep.output] == []
    assert json.loads(rep.output)["vms"][0]["findings"][0]["cause"] == _causes(bundle)[0]
    tl = runner.invoke(app, ["timeline", str(bundle), "-f", "json", "--redact-identities", "--limit", "100000"], catch_exceptions=False)
    assert tl.exit_code == 0 and [r for r in real if r in tl.output] == []
    assert "host-1" in tl.output


def test_evtx_is_reexported_as_masked_xml(tmp_path: Path) -> None:
    if not SHARED_EVTX.exists():
        pytest.skip("shared EVTX samples not present")
    root = tmp_path / "win"
    (root / "Windows/System32/winevt/Logs").mkdir(parents=True)
    (root / "Windows/System32/winevt/Logs/System.evtx").write_bytes(SHARED_EVTX.read_bytes())
    out = tmp_path / "clean"
    res = runner.invoke(app, ["redact", str(root), "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    xml = out / "Windows/System32/winevt/Logs/System.evtx.xml"
    assert xml.exists() and not (out / "Windows/System32/winevt/Logs/System.evtx").exists()
    a, b = logscan.load(root).events, logscan.load(out).events
    assert b.height == a.height
    assert set(b["source"].unique()) == {"event_export"}
    assert b["message"].to_list() == a["message"].to_list()
    assert b["event_id"].to_list() == a["event_id"].to_list()
    assert b["level"].to_list() == a["level"].to_list()
    assert _causes(out) == _causes(root)
