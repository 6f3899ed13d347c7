"""EVTX file layout checks: what the engines skip silently (a cut-short file, zeroed chunks) and
the record ids lost around damage. Split from :mod:`.evtx`; pure byte/frame arithmetic.
"""

from __future__ import annotations

import re
import struct

import polars as pl

MAGIC = b"ElfFile\0"
CHUNK_MAGIC = b"ElfChnk\0"
HEADER_SIZE = 4096
CHUNK_SIZE = 65536


# ---------------------------------------------------------------------------------------
# Header checks: what the engines skip silently
# ---------------------------------------------------------------------------------------


def check_layout(data: bytes) -> list[dict]:
    """Error rows for a cut-short file and for declared chunks that are zeroed or damaged.

    The evtx engine skips empty chunks without a word (preallocated space past the last chunk
    is zeros in every healthy log), so a zeroed chunk *inside* the header's chunk count is only
    visible here. Chunks with garbage (non-zero) headers are reported by the engine itself.
    """
    errors: list[dict] = []
    if len(data) < HEADER_SIZE:
        return [{"kind": "truncated", "detail": f"file is {len(data)} bytes, shorter than the 4096-byte EVTX header", "line": None}]
    declared = struct.unpack_from("<H", data, 0x2A)[0]
    body = len(data) - HEADER_SIZE
    whole, part = divmod(body, CHUNK_SIZE)
    if part:
        errors.append(
            {"kind": "truncated", "detail": f"file ends inside chunk {whole} ({part} of {CHUNK_SIZE} bytes): its records are lost or partial", "line": None}
        )
    if declared > whole + (1 if part else 0):
        errors.append(
            {"kind": "truncated", "detail": f"header declares {declared} chunks, the file holds {whole} whole chunk(s)", "line": None}
        )
    bad = [i for i in range(min(declared, whole)) if not data.startswith(CHUNK_MAGIC, HEADER_SIZE + i * CHUNK_SIZE)]
    if bad:
        errors.append(
            {"kind": "chunk", "detail": f"chunk(s) {_ranges(bad)} of the {declared} declared have no ElfChnk magic (zeroed or damaged): their records are lost", "line": None}
        )
    return errors


def _ranges(nums: list[int]) -> str:
    """``[1, 2, 3, 6]`` → ``"1-3, 6"``."""
    out: list[str] = []
    start = prev = nums[0]
    for n in [*nums[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


def bad_chunks(layout: list[dict]) -> set[int]:
    """Chunk numbers check_layout already reported, so the engine's own magic warnings are not repeated."""
    found: set[int] = set()
    for e in layout:
        m = re.match(r"chunk\(s\) ([\d, -]+) of", e["detail"]) if e["kind"] == "chunk" else None
        for part in m.group(1).split(", ") if m else []:
            a, _, b = part.partition("-")
            found.update(range(int(a), int(b or a) + 1))
    return found


def missing_ranges(events: pl.DataFrame, limit: int = 50) -> list[dict]:
    """Ranges of header record numbers absent between the first and last record read.

    Only called for files with damage: a healthy dirty or wrapped log also has gaps (records
    overwritten before the copy was taken), which are not errors.
    """
    nums = events.select(pl.col("line").drop_nulls().unique().sort()).to_series()
    gaps = pl.DataFrame({"a": nums, "b": nums.shift(-1)}).filter(pl.col("b") - pl.col("a") > 1).head(limit)
    return [
        {"kind": "records-missing", "detail": f"records {a + 1}–{b - 1} ({b - a - 1}) not readable", "line": a + 1}
        for a, b in gaps.iter_rows()
    ]
