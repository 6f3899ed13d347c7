"""Builders for hostile and broken bundles, made on the fly in ``tmp_path``.

No hostile file is committed: every zip-slip, bomb, link, truncated stream and garbage file
is generated here, byte by byte, so the repository never carries something an antivirus or a
careless ``unzip`` would trip over.

Every builder puts the *evidence of a known cause* beside the broken part (``etc/waagent.conf``
with ``Extensions.Enabled=n`` and the agent's "extension processing is disabled" line), so a
test can check that one broken file does not cost the diagnosis of the rest.

Hypothesis profiles: ``ci`` (default, small) and ``long``; ``LOGSCAN_FUZZ_EXAMPLES=5000`` or
``--hypothesis-profile=long`` for a long fuzzing run.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import struct
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

# ---------------------------------------------------------------------------------------
# Hypothesis: bounded by default so CI stays fast, one env var or flag away from a long run.
# ---------------------------------------------------------------------------------------
_FUZZ = int(os.environ.get("LOGSCAN_FUZZ_EXAMPLES", "0") or 0)
settings.register_profile(
    "ci",
    max_examples=_FUZZ or 40,
    deadline=None,
    derandomize=not _FUZZ,  # CI runs are reproducible; long runs explore
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
)
settings.register_profile(
    "long",
    max_examples=_FUZZ or 5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
)
if not os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile("ci")

# ---------------------------------------------------------------------------------------
# The known cause that must survive beside broken files
# ---------------------------------------------------------------------------------------
CAUSE = "linux-agent-config"
CONF = b"# waagent.conf\nExtensions.Enabled=n\nProvisioning.Agent=auto\n"
AGENT_LINE = (
    b"2024-05-30T13:15:00.000000Z ERROR ExtHandler ExtHandler Event: name=Microsoft.Azure.Extensions.CustomScript, "
    b"op=ExtensionProcessing, message=Extension 'Microsoft.Azure.Extensions.CustomScript' will not be processed since "
    b"extension processing is disabled. To enable extension processing, set Extensions.Enabled=y in "
    b"'/etc/waagent.conf', duration=0\n"
)
AGENT_LOG = b"2024-05-30T13:14:00.000000Z INFO ExtHandler ExtHandler Azure Linux Agent (Goal State Agent version 2.9.1.1)\n" + AGENT_LINE
#: The evidence files, as (relative path, bytes), for folder and archive builders alike.
EVIDENCE: list[tuple[str, bytes]] = [("etc/waagent.conf", CONF), ("var/log/waagent.log", AGENT_LOG)]


def write_evidence(root: Path, prefix: str = "") -> Path:
    """Write the known-cause files under ``root`` (optionally below ``prefix``)."""
    for rel, data in EVIDENCE:
        p = root / prefix / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Path:
    """A folder bundle already holding the known-cause evidence."""
    return write_evidence(tmp_path / "bundle")


# ---------------------------------------------------------------------------------------
# Archives
# ---------------------------------------------------------------------------------------
def zip_bytes(members: list[tuple[str | zipfile.ZipInfo, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip in memory. Names are written exactly as given (``../x``, ``/etc/x`` included)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name, (2024, 5, 30, 13, 0, 0))
            info.compress_type = compression
            zf.writestr(info, data)
    return buf.getvalue()


def evidence_members(prefix: str = "") -> list[tuple[str, bytes]]:
    return [(prefix + rel, data) for rel, data in EVIDENCE]


def zip_symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    """A zip member that is a symbolic link (Unix mode in the external attributes)."""
    info = zipfile.ZipInfo(name, (2024, 5, 30, 13, 0, 0))
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def patch_zip(data: bytes, name: bytes, *, flag_or: int = 0, file_size: int | None = None) -> bytes:
    """Rewrite the local and central headers of member ``name`` (flags, declared size).

    zipfile cannot write encrypted members or lie about sizes; a bundle from the wild can.
    """
    out = bytearray(data)
    pos = 0
    while (pos := out.find(b"PK\x03\x04", pos)) >= 0:
        n = struct.unpack_from("<H", out, pos + 26)[0]
        if bytes(out[pos + 30 : pos + 30 + n]) == name:
            flags = struct.unpack_from("<H", out, pos + 6)[0] | flag_or
            struct.pack_into("<H", out, pos + 6, flags)
            if file_size is not None:
                struct.pack_into("<I", out, pos + 22, file_size)
        pos += 4
    pos = 0
    while (pos := out.find(b"PK\x01\x02", pos)) >= 0:
        n = struct.unpack_from("<H", out, pos + 28)[0]
        if bytes(out[pos + 46 : pos + 46 + n]) == name:
            flags = struct.unpack_from("<H", out, pos + 8)[0] | flag_or
            struct.pack_into("<H", out, pos + 8, flags)
            if file_size is not None:
                struct.pack_into("<I", out, pos + 24, file_size)
        pos += 4
    return bytes(out)


def rename_zip_member(data: bytes, old: bytes, new: bytes, *, utf8_flag: bool | None = None) -> bytes:
    """Replace a member name with raw bytes of the same length (non-UTF-8 names)."""
    assert len(old) == len(new)
    out = data.replace(old, new)
    if utf8_flag is not None:
        out = bytearray(out)
        for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            pos = 0
            while (pos := out.find(sig, pos)) >= 0:
                flags = struct.unpack_from("<H", out, pos + off)[0]
                flags = flags | 0x800 if utf8_flag else flags & ~0x800
                struct.pack_into("<H", out, pos + off, flags)
                pos += 4
        out = bytes(out)
    return out


def tar_bytes(members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT) as tf:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tf.addfile(m)
            else:
                name, data = m
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                ti.mtime = 1717074000
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def tar_link(name: str, target: str, *, hard: bool) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    ti.linkname = target
    return ti


def gzip_zeros(n: int) -> bytes:
    """``n`` NUL bytes gzipped, streamed so a big ``n`` never sits in memory."""
    buf = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as g:
        left = n
        while left > 0:
            g.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# Running logscan and checking it behaved
# ---------------------------------------------------------------------------------------
runner = CliRunner()


def scan_json(path: Path, *extra: str) -> dict:
    """``logscan scan PATH --format json``, parsed; fails the test on a non-zero exit."""
    from logscan.cli import app

    res = runner.invoke(app, ["scan", str(path), "--format", "json", *extra], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def findings(doc: dict) -> list[str]:
    return [f["cause"] for vm in doc["vms"] for f in vm["findings"]]


def errors_of(doc_or_bundle) -> list[dict]:
    """Ingest errors from a scan JSON document or a LoadedBundle."""
    if isinstance(doc_or_bundle, dict):
        return [e for vm in doc_or_bundle["vms"] for e in vm["ingest_errors"]]
    return doc_or_bundle.ingest_errors.to_dicts()


def has_error(errs: list[dict], file_part: str, kinds: str | tuple[str, ...]) -> bool:
    kinds = (kinds,) if isinstance(kinds, str) else kinds
    return any(file_part in (e.get("file") or "") and e.get("kind") in kinds for e in errs)


def evidence_loaded(b) -> bool:
    """The known-cause files were parsed: the conf fact and the agent's line are in the frames."""
    import polars as pl

    conf = b.facts.filter((pl.col("subject") == "conf") & (pl.col("key") == "Extensions.Enabled"))
    line = b.events.filter(pl.col("message").str.contains("extension processing is disabled", literal=True))
    return conf.height >= 1 and conf["value"][0] == "n" and line.height >= 1


def assert_cause_found(path: Path, *extra: str) -> dict:
    doc = scan_json(path, *extra)
    assert CAUSE in findings(doc), findings(doc)
    return doc


def tree_snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every path under ``root`` with its mode and content hash (links by their target)."""
    snap: dict[str, tuple[int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                digest = "->" + os.readlink(p)
            else:
                digest = ""
            snap[str(p.relative_to(root))] = (st.st_mode, digest)
    return snap


def make_readonly(root: Path) -> None:
    """chmod -w the bundle (files and folders); root ignores it, the snapshot still checks."""
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False, followlinks=False):
        for n in filenames:
            p = Path(dirpath) / n
            if not p.is_symlink() and p.is_file():
                p.chmod(0o444)
        Path(dirpath).chmod(0o555)
    if root.is_file():
        root.chmod(0o444)


def make_writable(root: Path) -> None:
    if root.is_file():
        root.chmod(0o644)
        return
    for dirpath, _dirnames, filenames in os.walk(root, followlinks=False):
        Path(dirpath).chmod(0o755)
        for n in filenames:
            p = Path(dirpath) / n
            if not p.is_symlink() and p.is_file():
                p.chmod(0o644)


@pytest.fixture
def untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Guard a bundle: read-only, cwd moved to an empty folder, both checked unchanged after.

    Also records every ``open`` logscan makes under the bundle and fails on a write mode.
    """
    import builtins

    guarded: list[Path] = []
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    before: dict[Path, dict] = {}
    opened: list[tuple[str, str]] = []
    real_open = builtins.open
    real_os_open = os.open

    def spy_open(file, mode="r", *a, **kw):
        if guarded and isinstance(file, (str, os.PathLike)):
            opened.append((os.fspath(file), mode))
        return real_open(file, mode, *a, **kw)

    def spy_os_open(path, flags, *a, **kw):
        if guarded and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
            opened.append((os.fspath(path), "w"))
        return real_os_open(path, flags, *a, **kw)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)

    def content(root: Path) -> dict[str, str]:
        if root.is_dir():
            return {k: v[1] for k, v in tree_snapshot(root).items()}
        return {"": hashlib.sha256(root.read_bytes()).hexdigest()}

    def guard(root: Path) -> None:
        guarded.append(root)
        before[root] = content(root)
        make_readonly(root)

    yield guard
    monkeypatch.undo()
    for root in guarded:
        make_writable(root)
        assert content(root) == before[root], f"bundle {root} changed"
        for path, mode in opened:
            p = Path(path).absolute()
            if p == root or root in p.parents:
                assert not any(c in mode for c in "wax+"), f"{path} opened with mode {mode!r}"
    assert list(work.iterdir()) == [], f"logscan wrote into the working folder: {list(work.iterdir())}"
