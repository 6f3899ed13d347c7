"""Any path or stdin: single files (plain, .gz), archives without telling names, ``-``."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import logscan
from logscan.cli import app
from logscan.errors import BundleError
from logscan.io.bundle import Bundle
from logscan.sources.ingest import load_bundle

AGENT = (
    "2024-05-30T13:15:40.100000Z INFO Daemon Daemon Azure Linux Agent Version: 2.9.1.1\n"
    "2024-05-30T13:15:41.200000Z ERROR ExtHandler ExtHandler Something broke in the handler\n"
    "2024-05-30T13:15:42.300000Z WARNING ExtHandler ExtHandler Retrying the request\n"
)


def _kinds(b) -> list[tuple[str | None, str, str | None]]:
    return [(f["kind"], f["by"], f.get("as")) for f in b.coverage["files"]]


def test_single_file_with_any_name_is_read_by_content(tmp_path: Path) -> None:
    f = tmp_path / "case.txt"
    f.write_text(AGENT)
    b = logscan.load(f)
    assert b.events.height == 3
    assert _kinds(b) == [("waagent_log", "content", "var/log/waagent.log")]
    assert set(b.events["source"]) == {"waagent_log"} and b.events["file"][0] == "case.txt"


def test_single_gzipped_file_and_file_named_for_its_kind(tmp_path: Path) -> None:
    gz = tmp_path / "agent.log.gz"
    gz.write_bytes(gzip.compress(AGENT.encode()))
    assert logscan.load(gz).events.height == 3
    named = tmp_path / "waagent.log"
    named.write_text(AGENT)
    assert _kinds(logscan.load(named)) == [("waagent_log", "name", "waagent.log")]


@pytest.mark.parametrize("mode", ["w:xz", "w:bz2", "w:gz", "w"])
def test_archives_told_by_content_not_name(tmp_path: Path, mode: str) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        data = AGENT.encode()
        ti = tarfile.TarInfo("sosreport-vm1-2024/var/log/waagent.log")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    p = tmp_path / "upload.bin"
    p.write_bytes(buf.getvalue())
    b = logscan.load(p)
    assert b.events.height == 3 and _kinds(b)[0][:2] == ("waagent_log", "name")
    # the same bytes on stdin are an archive too
    with Bundle.from_bytes(buf.getvalue()) as bundle:
        assert not bundle.single and load_bundle(bundle).events.height == 3


def test_stdin_is_a_one_file_bundle_named_by_content() -> None:
    with Bundle.from_stream(io.BytesIO(AGENT.encode())) as bundle:
        b = load_bundle(bundle, path="-")
    assert b.name == "stdin" and b.events.height == 3
    assert _kinds(b) == [("waagent_log", "content", "var/log/waagent.log")]


def test_empty_stdin_is_an_error() -> None:
    with pytest.raises(BundleError, match="empty"):
        Bundle.from_stream(io.BytesIO(b""))
    res = CliRunner().invoke(app, ["scan", "-"], input=b"")
    assert res.exit_code == 2


def test_unrecognisable_single_file_says_what_it_looks_like(tmp_path: Path) -> None:
    p = tmp_path / "photo.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(BundleError, match="PNG image"):
        logscan.load(p)


def test_unrecognised_file_in_a_bundle_is_listed_not_dropped(tmp_path: Path) -> None:
    (tmp_path / "var/log").mkdir(parents=True)
    (tmp_path / "var/log/waagent.log").write_text(AGENT)
    (tmp_path / "notes.txt").write_text("call the customer back on Monday\n")
    b = logscan.load(tmp_path)
    entry = next(f for f in b.coverage["files"] if f["file"] == "notes.txt")
    assert entry["kind"] is None and "call the customer" in entry["what"]
    assert b.coverage["unrecognised_files"] == 1


def test_cli_scan_and_timeline_read_stdin_and_single_files(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["scan", "-", "--format", "json"], input=AGENT.encode())
    assert res.exit_code == 0, res.output
    vm = json.loads(res.stdout)["vms"][0]
    assert vm["bundle"] == "stdin" and vm["coverage"]["files"][0]["kind"] == "waagent_log"
    f = tmp_path / "case.txt"
    f.write_text(AGENT)
    res = runner.invoke(app, ["timeline", str(f), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "Something broke in the handler" in res.stdout


def test_stdin_size_limit_applies() -> None:
    from logscan.io.bundle import Limits

    with Bundle.from_stream(io.BytesIO(AGENT.encode() * 100), Limits(max_member_bytes=1000)) as bundle, pytest.raises(
        BundleError, match="1,000-byte limit"
    ):
        load_bundle(bundle)
