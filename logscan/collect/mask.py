"""Mask secrets in a collected file before it is written to the bundle.

``scan`` masks at ingest too, but a collected bundle is sent by email and stored in tickets,
so it must not hold the secrets in the first place. Text goes through the same rules as
ingest (:func:`logscan.io.redact.text`) plus a few that only matter on a live VM (the
provisioning password in ``ovf-env.xml``, Wi-Fi/VPN keys in NetworkManager files). Gzip and
zip files (rotated logs, goal-state history) are opened, masked member by member and packed
again; bytes that are not UTF-8 survive unchanged (``surrogateescape``).
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
import zlib

from ..io import redact
from ..io.textio import is_probably_binary

EXTRA_RULES: list[tuple[re.Pattern[str], str]] = [
    # ovf-env.xml: <ns1:UserPassword>..</ns1:UserPassword>, <CustomData>..</CustomData>
    (re.compile(r"(<(?:\w+:)?(UserPassword|CustomData)>)[^<]*(</(?:\w+:)?\2>)"), r"\g<1>***\g<3>"),
    # NetworkManager keyfiles and wpa_supplicant: psk=..., password-flags stay
    (re.compile(r"(?im)^(\s*(?:psk|wep-key\d|private-key-password|secrets?)\s*=\s*)\S.*$"), r"\g<1>***"),
]


class MaskError(Exception):
    """An archive that cannot be opened to mask it (then it is not collected)."""


def mask_text(data: bytes) -> bytes:
    """Mask secrets in text bytes, leaving every other byte as it was."""
    s = data.decode("utf-8", "surrogateescape")
    masked = redact.text(s) or s
    for rx, rep in EXTRA_RULES:
        masked = rx.sub(rep, masked)
    return data if masked == s else masked.encode("utf-8", "surrogateescape")


def mask_file(name: str, data: bytes, limit: int) -> bytes:
    """Masked content of a file called ``name``; archives are rebuilt with masked members.

    ``limit`` caps what an archive may inflate to. Raises :class:`MaskError` for an archive
    that is corrupt or too big to check: an unmasked copy is never written.
    """
    lower = name.lower()
    if lower.endswith(".gz"):
        return _mask_gzip(data, limit)
    if lower.endswith(".zip"):
        return _mask_zip(data, limit)
    if is_probably_binary(data):
        return data
    return mask_text(data)


def _mask_gzip(data: bytes, limit: int) -> bytes:
    try:
        d = zlib.decompressobj(wbits=47)
        raw = d.decompress(data, limit + 1)
    except zlib.error as exc:
        raise MaskError(f"corrupt gzip: {exc}") from exc
    if len(raw) > limit:
        raise MaskError(f"inflates past {limit:,} bytes")
    masked = raw if is_probably_binary(raw) else mask_text(raw)
    return data if masked == raw else gzip.compress(masked, mtime=0)


def _mask_zip(data: bytes, limit: int) -> bytes:
    out = io.BytesIO()
    total = 0
    changed = False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                if info.is_dir():
                    continue
                total += info.file_size
                if total > limit:
                    raise MaskError(f"members inflate past {limit:,} bytes")
                with zin.open(info) as fh:
                    raw = fh.read(limit + 1)
                if len(raw) > limit:
                    raise MaskError(f"a member inflates past {limit:,} bytes")
                masked = raw if is_probably_binary(raw) else mask_text(raw)
                changed |= masked != raw
                zout.writestr(zipfile.ZipInfo(info.filename, info.date_time), masked, zipfile.ZIP_DEFLATED)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
        raise MaskError(f"cannot open zip: {exc}") from exc
    return out.getvalue() if changed else data
