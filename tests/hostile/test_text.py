"""Broken text beside good evidence: each broken file is an ingest-error row, the rest is diagnosed.

Truncated gzip, binary garbage named ``.log``, a 100 MB single line, NUL bytes, UTF-16 without
a BOM, mixed encodings, CRLF, and files that vanish, change or cannot be read mid-scan.
"""

from __future__ import annotations

import gzip
import os
import random
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.errors import IngestError
from logscan.io.bundle import Bundle
from logscan.io.textio import decode, is_probably_binary

from .conftest import AGENT_LINE, AGENT_LOG, assert_cause_found, errors_of, evidence_loaded, has_error

LINE = b"2024-05-30T13:10:00.000000Z INFO ExtHandler ExtHandler "


def _events_of(b, file_part: str) -> pl.DataFrame:
    return b.events.filter(pl.col("file").str.contains(file_part, literal=True))


def test_truncated_gzip_keeps_what_it_can(bundle_dir: Path, untouched) -> None:
    body = b"".join(LINE + f"heartbeat {i}\n".encode() for i in range(5000))
    gz = gzip.compress(body, mtime=0)
    (bundle_dir / "var/log/waagent.log.1.gz").write_bytes(gz[: len(gz) * 2 // 3])
    untouched(bundle_dir)
    b = logscan.load(bundle_dir)
    assert has_error(errors_of(b), "var/log/waagent.log.1.gz", "truncated")
    recovered = _events_of(b, "waagent.log.1.gz")
    assert 0 < recovered.height < 5000  # the readable part is still analysed
    assert evidence_loaded(b)
    assert_cause_found(bundle_dir)


def test_corrupt_gzip_and_garbage_after_stream(bundle_dir: Path) -> None:
    gz = bytearray(gzip.compress(LINE + b"one\n" * 2000, mtime=0))
    gz[40:60] = b"\xff" * 20
    (bundle_dir / "var/log/waagent.log.1.gz").write_bytes(bytes(gz))
    (bundle_dir / "var/log/waagent.log.2.gz").write_bytes(gzip.compress(LINE + b"two\n", mtime=0) + b"NOT GZIP")
    (bundle_dir / "var/log/waagent.log.3.gz").write_bytes(b"\x1f\x8b")  # header only
    b = logscan.load(bundle_dir)
    errs = errors_of(b)
    for n in (1, 2, 3):
        assert has_error(errs, f"waagent.log.{n}.gz", ("corrupt", "truncated")), (n, errs)
    assert evidence_loaded(b)


def test_binary_garbage_named_log(bundle_dir: Path, untouched) -> None:
    rnd = random.Random(7)
    (bundle_dir / "var/log/waagent.log.1").write_bytes(rnd.randbytes(256 * 1024))
    (bundle_dir / "var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux").mkdir(parents=True)
    (bundle_dir / "var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/extension.log").write_bytes(
        Path("/bin/sh").read_bytes()[:200_000] if Path("/bin/sh").exists() else rnd.randbytes(200_000)
    )
    (bundle_dir / "var/log/syslog").write_bytes(gzip.compress(AGENT_LOG * 1000))  # gzip data under a text name
    untouched(bundle_dir)
    b = logscan.load(bundle_dir)
    errs = errors_of(b)
    for f in ("var/log/waagent.log.1", "VMSnapshotLinux/extension.log", "var/log/syslog"):
        assert has_error(errs, f, "binary"), (f, errs)
    assert _events_of(b, "waagent.log.1").height == 0
    assert evidence_loaded(b)
    assert_cause_found(bundle_dir)


@pytest.mark.parametrize(
    "text",
    [
        "Zürich café naïve façade élève à côté\n" * 300,
        "Привет мир, это журнал агента\n" * 300,
    ],
)
def test_binary_check_never_flags_text(text: str) -> None:
    for enc in ("utf-8", "latin-1" if "ü" in text else "cp1251", "utf-16-le", "utf-16-be", "utf-16"):
        data = text.encode(enc)
        assert not is_probably_binary(data), enc
        assert not is_probably_binary(b"\0" * 20_000 + data), enc  # NUL run from a copy mid-write
    assert is_probably_binary(os.urandom(50_000))


def test_hundred_megabyte_single_line(bundle_dir: Path) -> None:
    """One 100 MB line (no newline): read, bounded, and the evidence beside it still found."""
    big = bundle_dir / "var/log/waagent.log.1"
    with open(big, "wb") as fh:
        fh.write(LINE)
        block = b"A" * (1 << 20)
        for _ in range(100):
            fh.write(block)
    t0 = time.monotonic()
    doc = assert_cause_found(bundle_dir)
    elapsed = time.monotonic() - t0
    assert elapsed < 60, elapsed
    # The giant record must not be pasted whole into the report.
    for vm in doc["vms"]:
        for f in vm["findings"]:
            for e in f["evidence"]:
                assert len(e["text"] or "") < 100_000


def test_nul_bytes_and_nul_runs(bundle_dir: Path) -> None:
    (bundle_dir / "var/log/waagent.log.1").write_bytes(b"\0" * 16384 + LINE + b"after\0 the \0NULs\n" + b"\0" * 4096)
    b = logscan.load(bundle_dir)
    assert has_error(errors_of(b), "var/log/waagent.log.1", "decoded")
    msgs = _events_of(b, "waagent.log.1")["message"].to_list()
    assert any(m == "after the NULs" for m in msgs), msgs
    assert evidence_loaded(b)
    assert_cause_found(bundle_dir)


def test_utf16_without_bom_mixed_encodings_and_crlf(bundle_dir: Path) -> None:
    log = bundle_dir / "var/log"
    # UTF-16 without BOM (the whole agent log, CRLF inside).
    (log / "waagent.log.1").write_bytes((LINE.decode() + "utf16 no bom\r\n").encode("utf-16-le") * 3)
    # UTF-8, Latin-1 and cp1252 lines in one file.
    (log / "waagent.log.2").write_bytes(
        LINE + "utf8 café\n".encode() + LINE + "latin1 café\n".encode("latin-1") + LINE + b"cp1252 \x93quoted\x94\n"
    )
    # CRLF throughout, ending without a newline.
    (log / "waagent.log.3").write_bytes(LINE + b"crlf one\r\n" + LINE + b"crlf two")
    b = logscan.load(bundle_dir)
    errs = errors_of(b)
    assert has_error(errs, "waagent.log.1", "decoded")  # says how it was read
    assert has_error(errs, "waagent.log.2", "decoded")
    assert not has_error(errs, "waagent.log.3", ("decoded", "parse", "binary"))  # CRLF is normal
    m1 = _events_of(b, "waagent.log.1")["message"].to_list()
    assert m1 == ["utf16 no bom"] * 3
    m2 = _events_of(b, "waagent.log.2")["message"].to_list()
    assert m2[:2] == ["utf8 café", "latin1 café"] and m2[2].startswith("cp1252 ")
    m3 = _events_of(b, "waagent.log.3")["message"].to_list()
    assert m3 == ["crlf one", "crlf two"]
    assert evidence_loaded(b)
    assert_cause_found(bundle_dir)


def test_decode_never_fails_and_is_bounded() -> None:
    rnd = random.Random(3)
    for _ in range(50):
        data = rnd.randbytes(rnd.randint(0, 5000))
        d = decode(data)
        assert isinstance(d.text, str) and "\0" not in d.text
        d.text.encode("utf-8")  # no lone surrogates: polars can hold it
    # Many invalid bytes: one pass, no per-line Python loop (1 M lines of Latin-1 in well under 10 s).
    data = "café ".encode("latin-1") * 10 + b"\n"
    t0 = time.monotonic()
    d = decode(data * 1_000_000)
    assert time.monotonic() - t0 < 10
    assert d.text.startswith("café café")


# -- files that vanish, change or cannot be read mid-scan -----------------------------------
def _wrap_members(monkeypatch: pytest.MonkeyPatch, act) -> None:
    real = Bundle.members

    def members(self):
        for m in real(self):
            act(m)
            yield m

    monkeypatch.setattr(Bundle, "members", members)


def test_file_deleted_between_listing_and_reading(bundle_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = bundle_dir / "var/log/waagent.log.1"
    victim.write_bytes(AGENT_LOG)

    def act(m):
        if m.path == "var/log/waagent.log.1" and victim.exists():
            victim.unlink()

    _wrap_members(monkeypatch, act)
    b = logscan.load(bundle_dir)
    assert has_error(errors_of(b), "var/log/waagent.log.1", "unreadable")
    assert evidence_loaded(b)
    assert_cause_found(bundle_dir)


def test_file_swapped_for_fifo_mid_scan_does_not_hang(bundle_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = bundle_dir / "var/log/waagent.log.1"
    victim.write_bytes(AGENT_LOG)

    def act(m):
        if m.path == "var/log/waagent.log.1" and victim.is_file():
            victim.unlink()
            os.mkfifo(victim)

    _wrap_members(monkeypatch, act)
    result: dict = {}
    t = threading.Thread(target=lambda: result.setdefault("b", logscan.load(bundle_dir)), daemon=True)
    t.start()
    t.join(30)
    if t.is_alive():  # unblock the reader so the test process can end, then fail
        fd = os.open(victim, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail("reading a FIFO swapped in mid-scan hung")
    assert has_error(errors_of(result["b"]), "var/log/waagent.log.1", "unreadable")
    assert evidence_loaded(result["b"])


def test_unreadable_file(bundle_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = bundle_dir / "var/log/waagent.log.1"
    victim.write_bytes(AGENT_LOG)
    victim.chmod(0)
    if os.geteuid() == 0:  # root reads anyway: make the read itself fail instead
        real = Bundle._read_file

        def denied(self, p, rel, *a):
            if rel == "var/log/waagent.log.1":
                raise IngestError("unreadable", "Permission denied", file=rel)
            return real(self, p, rel, *a)

        monkeypatch.setattr(Bundle, "_read_file", denied)
    b = logscan.load(bundle_dir)
    assert has_error(errors_of(b), "var/log/waagent.log.1", "unreadable")
    assert evidence_loaded(b)
    assert_cause_found(bundle_dir)


def test_reader_raising_oserror_is_an_ingest_error(bundle_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the OS throws while a member is read (EIO on a failing share) is caught."""
    (bundle_dir / "var/log/waagent.log.1").write_bytes(AGENT_LOG)
    real = os.fdopen

    def flaky(fd, *a, **k):
        fh = real(fd, *a, **k)
        if os.readlink(f"/proc/self/fd/{fd}").endswith("waagent.log.1"):
            fh.close()
            raise OSError(5, "Input/output error")
        return fh

    if not Path("/proc/self/fd").exists():
        pytest.skip("needs /proc")
    monkeypatch.setattr(os, "fdopen", flaky)
    b = logscan.load(bundle_dir)
    assert has_error(errors_of(b), "var/log/waagent.log.1", "unreadable")
    assert evidence_loaded(b)


def test_agent_line_sanity() -> None:
    """The evidence line the other tests rely on is the agent's own wording."""
    assert b"extension processing is disabled" in AGENT_LINE
