"""Turn a member's bytes into text that never fails to decode, and gunzip with a limit.

Bundles come from many machines: waagent.log is ASCII with ``\\xNN`` escapes, Windows exports
are UTF-16 with a BOM (sometimes without), old logs are Latin-1, and copies made while a
file was being written carry NUL runs. Decoding must always produce text and say what it did,
so a strange file is analysed rather than dropped.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass

from ..errors import IngestError

#: Default cap on what one file may decompress to (a gzip bomb stops here).
DEFAULT_MAX_BYTES = 2 * 1024**3
#: Longer lines are cut here: a 100 MB line would be copied by every step of a parser, and
#: no diagnosis needs more than its first megabyte.
MAX_LINE_CHARS = 1 << 20
#: Past this many invalid UTF-8 bytes a file is read as Latin-1 whole (bounds the work).
MAX_LATIN1_FIXES = 20_000
_INVALID_RUN = re.compile("[\udc80-\udcff]+")
#: Bytes that appear in text of any 8-bit or UTF-8 encoding: printable ASCII, whitespace,
#: ESC (ANSI colours) and every byte >= 0x80. The rest are control bytes.
_TEXT_BYTES = bytes(range(32, 127)) + b"\t\n\v\f\r\x1b" + bytes(range(128, 256))


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
    head = data[:65536]
    skip = len(head) - len(head.lstrip(b"\0"))  # a NUL run (copy made mid-write) says nothing
    skip -= skip % 2
    sample = head[skip : skip + 4096]
    if len(sample) < 4:
        return None
    even_nul = sample[0::2].count(0)
    odd_nul = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nul > 0.4 * half and even_nul < 0.05 * half:
        return "utf-16-le"
    if even_nul > 0.4 * half and odd_nul < 0.05 * half:
        return "utf-16-be"
    # Non-Latin text (Cyrillic, Greek, CJK of one block) has few NULs but only a handful of
    # distinct high bytes (the script's block, and 0 for spaces, digits and newlines).
    sample = sample[: len(sample) // 2 * 2]
    if len(sample) >= 64:
        for enc, high, low in (("utf-16-le", sample[1::2], sample[0::2]), ("utf-16-be", sample[0::2], sample[1::2])):
            if 0 in high and 2 <= len(set(high)) <= 4 and low.count(0) < 0.05 * len(low):
                try:
                    sample.decode(enc)
                except UnicodeDecodeError:
                    continue
                return enc
    return None


def decode(data: bytes) -> Decoded:
    """Decode bytes to text, never raising.

    Order: BOMs (UTF-8/16/32), BOM-less UTF-16 by NUL pattern, strict UTF-8, then UTF-8
    where each invalid byte is read as Latin-1 (so a file with one Latin-1 line keeps its
    UTF-8 lines intact; a file that is mostly not UTF-8 is read as Latin-1 whole). NULs left
    over are removed and lines past ``MAX_LINE_CHARS`` cut; both are noted.
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
            notes.append("UTF-16 without a byte-order mark (recognised by its byte pattern)")
    if enc is not None:
        text = data.decode(enc, errors="replace")
        if "\ufffd" in text:
            notes.append(f"invalid {enc} sequences replaced")
    else:
        try:
            text = data.decode("utf-8")
            enc = "utf-8"
        except UnicodeDecodeError:
            # Valid UTF-8 stays UTF-8; each invalid byte is read as Latin-1 (old logs, one
            # pasted line). Done in C; only runs of invalid bytes reach Python, and past
            # MAX_LATIN1_FIXES of them the whole file is read as Latin-1 instead.
            esc = data.decode("utf-8", "surrogateescape")
            bad = len(esc) - len(data.decode("utf-8", "ignore"))
            if bad <= MAX_LATIN1_FIXES:
                enc = "utf-8+latin-1"
                notes.append(f"mixed or non-UTF-8 text: {bad:,} invalid byte(s) read as Latin-1")
                text = _INVALID_RUN.sub(lambda m: m.group().encode("utf-8", "surrogateescape").decode("latin-1"), esc)
            else:
                enc = "latin-1"
                notes.append(f"mostly not UTF-8 ({bad:,} invalid bytes): read as Latin-1")
                text = data.decode("latin-1")
    if "\0" in text:
        notes.append("NUL bytes removed")
        text = text.replace("\0", "")
    text, cut = cut_long_lines(text)
    if cut:
        notes.append(f"{cut:,} line(s) longer than {MAX_LINE_CHARS:,} characters cut")
    return Decoded(text, enc, tuple(notes))


def cut_long_lines(text: str, limit: int = MAX_LINE_CHARS) -> tuple[str, int]:
    """Cut lines longer than ``limit`` characters, marking the cut; returns (text, lines cut).

    Found without walking lines: any line longer than ``limit`` contains a whole aligned
    block of ``limit // 2`` characters with no newline, so only such blocks (a few hundred
    per 100 MB, each a C ``find``) are looked at, and only the lines around them are cut.
    """
    n = len(text)
    if n <= limit:
        return text, 0
    block = max(limit // 2, 1)
    spans: list[tuple[int, int]] = []
    i = 0
    while i + block <= n:
        if text.find("\n", i, i + block) == -1:
            start = text.rfind("\n", 0, i) + 1
            end = text.find("\n", i + block)
            end = n if end == -1 else end
            if end - start > limit:
                spans.append((start, end))
            i = end + 1  # the next candidate starts after this line
            continue
        i += block
    if not spans:
        return text, 0
    parts: list[str] = []
    pos = 0
    for start, end in spans:
        parts.append(text[pos : start + limit])
        parts.append(f" …[line cut: {end - start - limit:,} more characters]")
        pos = end
    parts.append(text[pos:])
    return "".join(parts), len(spans)


def is_probably_binary(data: bytes) -> bool:
    """True for data that is not text in any encoding we read (an executable, random bytes).

    Looks at the head, middle and tail. NULs are set aside (a log copied while being written
    carries NUL runs and is still text); of the rest, text in any encoding (ASCII, UTF-8,
    Latin-1, cp1252) has almost no control bytes, while random, compressed or executable
    data has about one in nine (28 of 256 values). UTF-16 is recognised first.
    """
    if not data:
        return False
    n = len(data)
    sample = data[:4096] + (data[n // 2 : n // 2 + 4096] + data[-4096:] if n > 12288 else data[4096:])
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF8)):
        return False
    if _looks_utf16(data):
        return False
    body = sample.replace(b"\0", b"")
    if not body:
        return False  # only NULs: an unwritten file, not a binary one
    ctrl = len(body.translate(None, _TEXT_BYTES))
    return ctrl > 0.04 * len(body)


#: Magic numbers of the binary kinds people attach by mistake, for "what was this file".
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"ElfFile\0", "Windows event log (.evtx)"),
    (b"PK\x03\x04", "zip archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"\xfd7zXZ\0", "xz data"),
    (b"BZh", "bzip2 data"),
    (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x7fELF", "ELF executable"),
    (b"MZ", "Windows executable"),
    (b"\xd0\xcf\x11\xe0", "Microsoft Office (OLE) document"),
    (b"SQLite format 3", "SQLite database"),
)


def describe_head(data: bytes, width: int = 60) -> str:
    """A short description of what the first bytes are, for files no parser recognised:
    a known binary kind by its magic number, else binary, else the first text line."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    if not data:
        return "empty"
    if is_probably_binary(data[:4096]):
        return f"binary data ({len(data):,} bytes)"
    text = decode(data[:4096]).text.strip()
    first = text.split("\n", 1)[0].strip()
    first = first if len(first) <= width else first[: width - 1] + "…"
    return f'text: "{first}"' if first else "blank text"
