"""Issue #14: a clean .evtx is never reported as text, and damage in one .evtx is reported on
that file, every run, with nothing leaking to stderr.

Damaged copies are made on the fly in ``tmp_path`` from ``../shared/evtx-samples`` (skipped
when absent), as ``tests/hostile/test_evtx_broken.py`` does.
"""

from __future__ import annotations

import random
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest

import logscan
from logscan.sources.evtx import HEADER_SIZE, read_evtx

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "evtx-samples"
LOGS = "Windows/System32/winevt/Logs"


def _sample(name: str = "pyevtx-tests-system.evtx") -> bytes:
    p = SAMPLES / name
    if not p.exists():
        pytest.skip(f"{p} not present")
    return p.read_bytes()


def _damaged(data: bytes, seed: int) -> bytes:
    """Bytes flipped past the file header: chunks and records fail, the file stays EVTX."""
    rnd = random.Random(seed)
    out = bytearray(data)
    for _ in range(400):
        out[rnd.randrange(HEADER_SIZE, len(out))] = rnd.randrange(256)
    return bytes(out)


def _record_errors(b) -> dict[str, int]:
    errs = b.ingest_errors.filter(pl.col("kind") == "record")
    return {Path(f).name: n for f, n in errs.group_by("file").len().iter_rows()}


@pytest.mark.parametrize("as_single_file", [True, False])
def test_clean_evtx_is_not_decoded_as_text(tmp_path: Path, as_single_file: bool) -> None:
    data = _sample()
    if as_single_file:
        path = tmp_path / "System.evtx"
    else:
        path = tmp_path / "vm"
        (path / LOGS).mkdir(parents=True)
        path = path / LOGS / "System.evtx"
    path.write_bytes(data)
    b = logscan.load(path if as_single_file else tmp_path / "vm")
    assert b.events.height > 1000
    assert b.ingest_errors.filter(pl.col("kind") == "decoded").height == 0, b.ingest_errors.to_dicts()
    assert b.ingest_errors.height == 0, b.ingest_errors.to_dicts()


def test_damage_is_reported_on_its_own_file_every_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd) -> None:
    """Four damaged logs parsed on four threads: each file's skipped records and chunks are its
    own rows, the same as when the file is read alone, and nothing reaches stderr."""
    data = _sample()
    copies = {f"damaged{i}.evtx": _damaged(data, i) for i in range(4)}
    logs = tmp_path / "vm" / LOGS
    logs.mkdir(parents=True)
    for name, blob in copies.items():
        (logs / name).write_bytes(blob)
    alone = {name: sum(e["kind"] == "record" for e in read_evtx(blob)[1]) for name, blob in copies.items()}
    assert all(alone.values()), alone  # the damage is real: every copy has skipped data
    monkeypatch.setenv("LOGSCAN_PARSE_THREADS", "4")
    for _ in range(3):
        assert _record_errors(logscan.load(tmp_path / "vm")) == alone
    _out, err = capfd.readouterr()
    assert "Skipping EVTX data" not in err and "RuntimeWarning" not in err, err


def test_skipped_data_rows_say_what_was_skipped_without_warnings() -> None:
    """Errors come back as rows of kind ``record``; no warning is raised, so a caller's own
    warning filters (even ``error``) change nothing."""
    blob = _damaged(_sample(), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        events, errors = read_evtx(blob)
    skipped = [e for e in errors if e["kind"] == "record"]
    assert events.height and skipped
    assert all(e["detail"].startswith("Skipping EVTX data: ") for e in skipped), skipped[:3]


def test_parallel_reads_match_serial_reads() -> None:
    blobs = [_damaged(_sample(), i) for i in range(4)]
    serial = [read_evtx(b)[1] for b in blobs]
    for _ in range(3):
        with ThreadPoolExecutor(4) as pool:
            assert [r[1] for r in pool.map(read_evtx, blobs)] == serial
