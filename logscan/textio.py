"""Turn a member's bytes into text that never fails to decode, and gunzip with a limit.

Bundles come from many machines: waagent.log is ASCII with ``\\xNN`` escapes, Windows exports
are UTF-16 with a BOM (sometimes without), old logs are Latin-1, and copies made while a
file was being written carry NUL runs. Decoding must always produce text and say what it did,
so a strange file is analysed rather than dropped.
"""

from __future__ import annotations

import codecs
import zlib
from dataclasses import dataclass

from .errors import IngestError

#: Default cap on what one file may decompress to (a gzip bomb stops here).
DEFAULT_MAX_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    notes: tuple[str, ...] = ()  # e.g. "NUL bytes removed", "invalid UTF-8 replaced"


def gunzip(data: bytes, *, limit: int = DEFAULT_MAX_BYTES, name: str = "") -> tuple[bytes, IngestError | None]:
    """Decompress (possibly multi-member) gzip data, stopping at ``limit`` bytes.

    Returns what could be recovered plus an error for a truncated or corrupt stream, or one
    that would inflate past the limit: the readable part is still analysed.
    """
    out: list[bytes] = []
    total = 0
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk_in = data[pos:]
        try:
            while True:
                piece = d.decompress(chunk_in, max(1, limit - total + 1))
                out.append(piece)
                total += len(piece)
                if total > limit:
                    return b"".join(out)[:limit], IngestError(
                        "too-large", f"decompresses past the {limit:,}-byte limit (possible gzip bomb)"
                    )
                chunk_in = d.unconsumed_tail
                if not chunk_in:
                    break
        except zlib.error as exc:
            return b"".join(out), IngestError("corrupt", f"gzip stream is corrupt: {exc}")
        if not d.eof:
            return b"".join(out), IngestError("truncated", "gzip stream ends before its end marker")
        consumed = len(data) - pos - len(d.unused_data)
        pos += consumed
        rest = d.unused_data
        # Trailing padding (zeros) after the last member is legal in practice.
        if not rest or not rest.lstrip(b"\0"):
            break
        if not rest.startswith(b"\x1f\x8b"):
            return b"".join(out), IngestError("corrupt", "garbage after the gzip stream")
    return b"".join(out), None


def _looks_utf16(data: bytes) -> str | None:
    """Sniff BOM-less UTF-16: ASCII text in UTF-16 has a NUL in every other byte."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nul = sample[0::2].count(0)
    odd_nul = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nul > 0.4 * half and even_nul < 0.05 * half:
        return "utf-16-le"
    if even_nul > 0.4 * half and odd_nul < 0.05 * half:
        return "utf-16-be"
    return None


def decode(data: bytes) -> Decoded:
    """Decode bytes to text, never raising.

    Order: BOMs (UTF-8/16/32), BOM-less UTF-16 by NUL pattern, strict UTF-8, then UTF-8
    with invalid sequences replaced line by line falling back to Latin-1 (so a file with one
    Latin-1 line keeps its UTF-8 lines intact). NULs left over are removed and noted.
    """
    notes: list[str] = []
    enc = None
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            enc = name
            break
    if enc is None:
        enc = _looks_utf16(data)
    if enc is not None:
        text = data.decode(enc, errors="replace")
        if "\ufffd" in text:
            notes.append(f"invalid {enc} sequences replaced")
    else:
        try:
            text = data.decode("utf-8")
            enc = "utf-8"
        except UnicodeDecodeError:
            enc = "utf-8+latin-1"
            notes.append("mixed or non-UTF-8 text: invalid lines read as Latin-1")
            parts = []
            for raw in data.split(b"\n"):
                try:
                    parts.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    parts.append(raw.decode("latin-1"))
            text = "\n".join(parts)
    if "\0" in text:
        notes.append("NUL bytes removed")
        text = text.replace("\0", "")
    return Decoded(text, enc, tuple(notes))


def is_probably_binary(data: bytes) -> bool:
    """True for data that is not text in any encoding we read (an executable, an image)."""
    sample = data[:8192]
    if not sample:
        return False
    if _looks_utf16(sample) or sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    # Control bytes other than tab/CR/LF/FF/ESC and NUL runs are what distinguishes binary.
    ctrl = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27, 0))
    nul = sample.count(0)
    return (ctrl + nul) > 0.30 * len(sample)
