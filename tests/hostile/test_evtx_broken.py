"""Broken EVTX through the whole ingest path, with both engines.

Synthetic cases always run (not EVTX at all, empty, magic only, a header with a zeroed chunk);
damaged copies of a real log (truncated, chunk zeroed, chunk magic destroyed, bytes flipped)
are made in ``tmp_path`` from ``../shared/evtx-samples`` when it is present.
"""

from __future__ import annotations

import importlib.util
import os
import random
import struct
import time
from pathlib import Path

import pytest

import logscan
from logscan.sources.evtx import CHUNK_SIZE, ENGINE_ENV, HEADER_SIZE, MAGIC

from .conftest import assert_cause_found, errors_of, evidence_loaded, has_error

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "evtx-samples"
LOGS = "Windows/System32/winevt/Logs"
ENGINES = ["evtx"] + (["python-evtx"] if importlib.util.find_spec("Evtx") else [])


def _header(chunks: int = 1) -> bytes:
    """An EVTX file header (magic, chunk count, sizes) with no valid checksum."""
    h = bytearray(HEADER_SIZE)
    h[0:8] = MAGIC
    struct.pack_into("<QQQIHHHH", h, 8, 0, chunks - 1, 1, 128, 1, 3, HEADER_SIZE, chunks)
    return bytes(h)


def _sample(name: str = "pyevtx-tests-system.evtx") -> bytes:
    p = SAMPLES / name
    if not p.exists():
        pytest.skip(f"{p} not present")
    return p.read_bytes()


SYNTHETIC = {
    "random.evtx": os.urandom(70_000),
    "text.evtx": b"this is not an event log\r\n" * 100,
    "empty.evtx": b"",
    "magic-only.evtx": MAGIC,
    "zeroed-chunk.evtx": _header(1) + bytes(CHUNK_SIZE),
    "garbage-chunk.evtx": _header(2) + b"ElfChnk\0" + os.urandom(CHUNK_SIZE - 8) + os.urandom(CHUNK_SIZE),
    "header-truncated.evtx": _header(1)[:100],
}


@pytest.mark.parametrize("engine", ENGINES)
def test_synthetic_broken_evtx(bundle_dir: Path, monkeypatch: pytest.MonkeyPatch, untouched, engine: str) -> None:
    monkeypatch.setenv(ENGINE_ENV, engine)
    logs = bundle_dir / LOGS
    logs.mkdir(parents=True)
    for name, data in SYNTHETIC.items():
        (logs / name).write_bytes(data)
    untouched(bundle_dir)
    t0 = time.monotonic()
    b = logscan.load(bundle_dir)
    assert time.monotonic() - t0 < 60
    errs = errors_of(b)
    assert not any(e["kind"] == "parser-bug" for e in errs), errs
    for name in SYNTHETIC:
        assert any(name in (e["file"] or "") for e in errs), (name, errs)
    assert evidence_loaded(b)
    assert_cause_found(bundle_dir)


def _damaged(data: bytes) -> dict[str, bytes]:
    rnd = random.Random(11)
    first = HEADER_SIZE
    flipped = bytearray(data)
    for _ in range(400):
        i = rnd.randrange(HEADER_SIZE, len(data))
        flipped[i] = rnd.randrange(256)
    zeroed = bytearray(data)
    zeroed[first : first + CHUNK_SIZE] = bytes(CHUNK_SIZE)
    magic = bytearray(data)
    magic[first : first + 8] = b"XXXXXXXX"
    return {
        "cut-in-header.evtx": data[:2000],
        "cut-after-header.evtx": data[:HEADER_SIZE],
        "cut-mid-chunk.evtx": data[: HEADER_SIZE + CHUNK_SIZE // 2 + 123],
        "cut-mid-file.evtx": data[: len(data) // 2 + 7],
        "zeroed-first-chunk.evtx": bytes(zeroed),
        "bad-chunk-magic.evtx": bytes(magic),
        "flipped-bytes.evtx": bytes(flipped),
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_damaged_real_evtx(bundle_dir: Path, monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    # python-evtx reads ~130 records/s: give it the small log, the Rust engine the 1 MB one.
    damaged = _damaged(_sample("pyevtx-tests-system.evtx" if engine == "evtx" else "evtxrs-Application_no_crc32.evtx"))
    monkeypatch.setenv(ENGINE_ENV, engine)
    logs = bundle_dir / LOGS
    logs.mkdir(parents=True)
    for name, data in damaged.items():
        (logs / name).write_bytes(data)
    t0 = time.monotonic()
    b = logscan.load(bundle_dir)
    assert time.monotonic() - t0 < 60
    errs = errors_of(b)
    assert not any(e["kind"] == "parser-bug" for e in errs), errs
    for name in ("cut-in-header.evtx", "cut-mid-chunk.evtx", "zeroed-first-chunk.evtx", "bad-chunk-magic.evtx", "cut-after-header.evtx"):
        assert any(name in (e["file"] or "") for e in errs), (name, errs)
    if engine == "evtx":  # (the small log python-evtx gets has one chunk: nothing survives there)
        # Damaged copies still yield what survives: the chunks after a zeroed first chunk.
        files = set(b.events["file"].to_list())
        assert any("zeroed-first-chunk.evtx" in f for f in files) and any("cut-mid-file" in f for f in files), files
    assert evidence_loaded(b)


def test_evtx_named_otherwise_is_sniffed_and_still_safe(bundle_dir: Path) -> None:
    """An EVTX with an unusual name (``System.evtx.bak``) is recognised by its magic; a broken one is an error row."""
    (bundle_dir / "System.evtx.bak").write_bytes(_header(1) + bytes(CHUNK_SIZE))
    b = logscan.load(bundle_dir)
    assert has_error(errors_of(b), "System.evtx.bak", ("parse", "chunk", "zeroed", "records-missing", "truncated", "layout")) or any(
        "System.evtx.bak" in (e["file"] or "") for e in errors_of(b)
    )
    assert evidence_loaded(b)
