"""Secrets hidden one layer down: base64 text that decodes to JSON with secret-named keys.

Agents store settings base64-encoded (``eyJwYXNzd29yZCI6...`` is ``{"password":...``), so the
text rules cannot see the keys. Such blobs are decoded, masked as text and encoded again: the
result still decodes to the same JSON, with the secrets as ``***``. A blob that does not decode
to UTF-8 JSON is left alone (it holds no readable key); one that decodes but cannot be
re-encoded faithfully is masked whole.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable

from .rules import B64_JSON_RX, MASK

_B64 = re.compile(B64_JSON_RX)


def _decode(blob: str) -> tuple[str, bool] | None:
    """(decoded text, url-safe alphabet) or None when it is not base64 of a JSON object."""
    urlsafe = "-" in blob or "_" in blob
    padded = blob + "=" * (-len(blob) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded) if urlsafe else base64.b64decode(padded, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    try:
        json.loads(decoded)
    except ValueError:
        if not decoded.lstrip().startswith("{"):
            return None
    return decoded, urlsafe


def mask_b64_json(s: str, mask_text: Callable[[str], str | None]) -> str:
    """Every base64 blob in ``s`` that decodes to JSON, with the secrets inside it masked."""

    def one(m: re.Match[str]) -> str:
        blob = m.group(0)
        got = _decode(blob)
        if got is None:
            return blob
        decoded, urlsafe = got
        masked = mask_text(decoded) or ""
        if masked == decoded:
            return blob
        enc = base64.urlsafe_b64encode if urlsafe else base64.b64encode
        out = enc(masked.encode("utf-8")).decode("ascii")
        return out.rstrip("=") if not blob.endswith("=") else out or MASK

    return _B64.sub(one, s)
