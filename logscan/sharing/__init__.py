"""``logscan redact``: write a copy of a bundle that is safe to attach to a ticket.

Every text member is masked with the same rules as logscan's own outputs
(:mod:`logscan.io.redact`) and, on request, pseudonymised (:mod:`logscan.io.identities`).
Members that cannot be masked safely are left out and listed: binary files other than EVTX,
private key files, archives logscan cannot open, and whatever the bundle reader refused
(unsafe names, encrypted members, bombs). ``.evtx`` members are re-exported as event XML
(:mod:`.evtx_export`). Archives inside the bundle are written unpacked, under the folder name
logscan already reads them as, so scanning the clean copy finds the same files.

The input is read through :class:`logscan.io.bundle.Bundle` (folders, zip, tar, and whatever
else ``Bundle.open`` accepts: a single file is just a bundle with one member).
"""

from __future__ import annotations

import gzip
import os
import posixpath
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BundleError, IngestError
from ..io import redact
from ..io.bundle import Bundle, Limits, Member
from ..io.identities import Pseudonymizer
from ..io.textio import decode, gunzip, is_probably_binary
from . import evtx_export

MANIFEST = "REDACTED.md"
#: Private keys and key stores: never copied, whatever they hold.
KEY_FILE_RE = re.compile(
    r"(?i)(\.(pem|key|prv|pfx|p12|ppk|jks|keystore|kdbx|gpg|asc)$|(^|/)id_(rsa|dsa|ecdsa|ed25519)$|(^|/)\.ssh/)"
)
#: Archives Bundle does not open: copied neither as text nor unpacked.
OTHER_ARCHIVE_RE = re.compile(r"(?i)\.(7z|rar|cab|xz|bz2|lz|lzma|zst|tar\.xz|tar\.bz2|tbz2|txz|jar|war|msi|iso|vhdx?|wim)$")
EVTX_MAGIC = b"ElfFile\0"


@dataclass
class Result:
    """What was written and what was left out (with why)."""

    out: Path
    written: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (member, reason)
    evtx_exported: list[str] = field(default_factory=list)
    identity_map: Path | None = None
    identities: int = 0


class _Writer:
    """A zip file or a folder as the destination; names are relative posix paths."""

    def __init__(self, out: Path):
        self.out = out
        self.zip: zipfile.ZipFile | None = None
        self.names: set[str] = set()
        if out.suffix.lower() == ".zip":
            out.parent.mkdir(parents=True, exist_ok=True)
            self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)
        else:
            if out.exists() and any(out.iterdir()):
                raise BundleError(f"{out}: folder exists and is not empty")
            out.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, data: bytes, mtime: float | None = None) -> str:
        """Write one member (keeping its time: logs without a year take it from the file)."""
        base, n = name, 1
        while name in self.names:  # duplicate member names in the input: keep each copy
            n += 1
            stem, ext = posixpath.splitext(base)
            name = f"{stem}.{n}{ext}"
        self.names.add(name)
        if self.zip is not None:
            info = zipfile.ZipInfo(name, time.localtime(mtime)[:6] if mtime else time.localtime()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            self.zip.writestr(info, data)
        else:
            p = self.out / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            if mtime:
                os.utime(p, (mtime, mtime))
        return name

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def redact_bundle(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    identities: bool = False,
    identity_map: str | os.PathLike | None = None,
    limits: Limits | None = None,
) -> Result:
    """Write the masked copy of ``src`` to ``out`` (``.zip`` → a zip file, else a folder).

    With ``identities`` the names, addresses and ids are pseudonymised too, learnt first from
    the whole bundle as logscan reads it (so every member uses the same pseudonyms), and the
    mapping is written to ``identity_map`` only when given.
    """
    src_p, out_p = Path(src), Path(out)
    if src_p.resolve() == out_p.resolve() or (src_p.is_dir() and out_p.resolve().is_relative_to(src_p.resolve())):
        raise BundleError(f"{out_p}: the clean copy must not be written inside the bundle")
    pz: Pseudonymizer | None = None
    if identities:
        from .. import load

        pz = Pseudonymizer()
        b = load(src_p, limits=limits)
        pz.learn_frames(b.events, b.facts)
    result = Result(out=out_p)
    writer = _Writer(out_p)
    try:
        with Bundle.open(src_p, limits) as bundle:
            for member in bundle.members():
                _one(bundle, member, writer, result, pz)
            for e in bundle.errors:
                result.skipped.append((e.get("file") or "(bundle)", f"{e['kind']}: {e['detail']}"))
        result.skipped = [(_clean(n, pz), _clean(r, pz)) for n, r in result.skipped]
        writer.write(MANIFEST, _manifest(result, pz is not None).encode("utf-8"))
    finally:
        writer.close()
    if pz is not None:
        result.identities = len(pz.mapping())
        if identity_map is not None:
            result.identity_map = pz.write_map(identity_map)
    return result


def _clean(s: str, pz: Pseudonymizer | None) -> str:
    s = redact.text(s) or s
    return (pz.text(s) or s) if pz is not None else s


def _one(bundle: Bundle, m: Member, writer: _Writer, result: Result, pz: Pseudonymizer | None) -> None:
    name = m.path
    if KEY_FILE_RE.search(name):
        result.skipped.append((m.display, "private key or key store file"))
        return
    if OTHER_ARCHIVE_RE.search(name):
        result.skipped.append((m.display, "archive or image logscan cannot open and mask"))
        return
    try:
        data = bundle.read(m)
    except IngestError as exc:
        result.skipped.append((m.display, f"{exc.kind}: {exc.detail}"))
        return
    gz = name.lower().endswith(".gz")
    if gz:
        lim = bundle.limits
        data, err = gunzip(data, limit=min(lim.max_member_bytes, max(lim.ratio_min_bytes, int(len(data) * lim.max_ratio))))
        if err is not None and err.kind != "truncated":
            result.skipped.append((m.display, f"{err.kind}: {err.detail}"))
            return
    out_name = _clean(name, pz)
    if name.lower().endswith(".evtx") or data.startswith(EVTX_MAGIC):
        events, _ = evtx_export.read_events(data)
        frame = (lambda df: pz.frame(df, ("computer", "message", "data", "channel"))) if pz is not None else None
        xml = evtx_export.to_xml(events, frame)
        written = writer.write(out_name + ".xml", xml.encode("utf-8"), m.mtime)
        result.evtx_exported.append(written)
        result.written.append(written)
        return
    if is_probably_binary(data):
        result.skipped.append((m.display, "binary file: cannot be masked safely"))
        return
    text = redact.text_block(decode(data).text)
    if pz is not None:
        pz.learn_text(text)
        text = pz.text(text) or text
    body = text.encode("utf-8")
    result.written.append(writer.write(out_name, gzip.compress(body, mtime=0) if gz else body, m.mtime))


def _manifest(result: Result, identities: bool) -> str:
    lines = [
        "# Redacted copy made by logscan",
        "",
        "Secrets (SAS parameters, keys, passwords, tokens, protected settings, private keys) are",
        "masked as `***` in every file." + (" Host, user, IP, id, storage and e-mail values are replaced by pseudonyms." if identities else ""),
        "`.evtx` logs are re-exported as event XML (`<name>.evtx.xml`).",
        "",
        f"{len(result.written)} files written, {len(result.skipped)} left out.",
        "",
    ]
    if result.skipped:
        lines += ["## Left out", "", "| file | why |", "| --- | --- |"]
        lines += [f"| {n.replace('|', '/')} | {r.replace('|', '/')} |" for n, r in result.skipped]
    return "\n".join(lines) + "\n"
