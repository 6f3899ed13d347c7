"""From one bundle member to the parser jobs that read it: by name, else by content.

A member whose path a source claims (``var/log/waagent.log``) is read by that source, as it
always was; if its text carries paste wrapping (quote markers, fences, prompts) that wrapping is
removed first and echoed commands split it into parts. A member no path claims (a single
file, standard input, ``case.txt``, ``job-error.txt``) is read by content: the text is cleaned
(:mod:`.paste`), cut into parts where its kind changes, and each part is sniffed
(:mod:`.sniff`) and given the path that kind has in a bundle, so a file read alone is parsed,
and matched by signatures, exactly as at its place. What each file (or part) was taken to be
is returned for the coverage, and a file no kind claims is listed with a description of its
first bytes instead of being dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import IngestError
from ..io.bundle import Bundle, Member
from ..io.textio import decode, describe_head, gunzip, is_probably_binary
from . import SourceFile, SourceSpec, paste, registry, sniff, spec_for
from .base import plain_lines

GZ_RE = re.compile(r"\.gz$", re.IGNORECASE)
#: Files no path pattern claims are read by content only when their name allows a log: the
#: event-log and text extensions (also rotated or renamed copies), files without an extension
#: (command outputs in sos reports) and JSON. Binaries, images and scripts are not read.
SNIFF_RE = re.compile(
    r"(\.(xml|csv|txt|evtx|evt|log|tsv|json|out|status|md|text)([._~-][^/.]*){0,2}$)|(^|/)[^/.]+$", re.IGNORECASE
)
#: Files of a bundle never read by content: the agent log collector's own log (``results.txt``
#: at the root of ``waagent -collect-logs`` zips) is written in the agent's format but tells
#: what was collected, not what the agent did.
NOT_BY_CONTENT = re.compile(r"^(?:[^/]+/)?(?:logcollector/)?results\.txt$", re.IGNORECASE)
#: Sources whose files are structured (XML, JSON, INI, binary): never paste-cleaned or split.
STRUCTURED = frozenset(
    {"evtx", "agent_state", "ext_status", "win_agent_config", "win_aggregate_status", "win_ext_status",
     "win_runtime_settings", "waagent_conf", "instance_metadata", "vm_health_report"}
)


#: Named text files bigger than this are split by polars from their bytes (:func:`_text`).
BIG_TEXT = 65_536


@dataclass
class Job:
    """One parser run: a spec, the file (or part of it) it reads, and where the part starts."""

    spec: SourceSpec
    src: SourceFile
    first: int = 0  # 0-based line of the whole file where this part starts


@dataclass
class Read:
    jobs: list[Job] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    coverage: list[dict] = field(default_factory=list)
    unrecognised: bool = False
    display: str = ""  # the member's name for evidence


def _specs() -> dict[str, SourceSpec]:
    return {s.name: s for s in registry()}


def prepare(bundle: Bundle, member: Member) -> Read:
    """Read a member (gunzip if needed) and decide which parsers read which part of it."""
    raw = read_member(bundle, member)
    return raw if isinstance(raw, Read) else prepare_data(bundle, member, raw)


def read_member(bundle: Bundle, member: Member) -> bytes | Read:
    """The member's bytes as stored (still gzipped), or a :class:`Read` when it is not read:
    no kind claims its name and it is no log by its name, or reading it failed.

    This is the only step that touches the bundle's storage (archives are not thread-safe):
    :func:`prepare_data` does the rest (gunzip, decode, paste cleaning, sniffing) and may run
    on any thread, so a bundle's files are decompressed and decoded in parallel."""
    logical = GZ_RE.sub("", member.path)
    spec = spec_for(logical)
    if spec is None and not bundle.single and (NOT_BY_CONTENT.search(logical) or not (SNIFF_RE.search(logical) and 0 < member.size < 2 * 1024**3)):
        return Read()
    try:
        return bundle.read(member)
    except IngestError as exc:
        return Read(errors=[exc.as_row(member.display, spec.name if spec else None)])


def prepare_data(bundle: Bundle, member: Member, data: bytes) -> Read:
    """:func:`prepare` of bytes :func:`read_member` returned (thread-safe)."""
    out = Read()
    logical = GZ_RE.sub("", member.path)
    spec = spec_for(logical)
    source_name = spec.name if spec else None
    if logical != member.path:
        data = _gunzip(bundle, member, data, source_name, out)
        if data is None:
            return out
    if not data:
        if spec is not None or bundle.single:
            out.errors.append({"file": member.display, "source": source_name, "kind": "empty", "detail": "file is empty", "line": None})
        return out
    if spec is None:
        spec = _binary_kind(data)
        if spec is not None:  # an .evtx under any name
            path = logical if logical.lower().endswith(".evtx") else logical + ".evtx"
            return _one(out, spec, SourceFile(path, member.display, data, member.mtime, bundle.name), "content")
    if spec is not None and (spec.sniff is not None or spec.name in STRUCTURED):
        if spec.sniff is None and is_probably_binary(data) and spec.name != "evtx":
            return _binary(out, member, spec.name)
        return _one(out, spec, SourceFile(logical, member.display, data, member.mtime, bundle.name), "name")
    if is_probably_binary(data):
        if spec is None:
            out.unrecognised = True
            out.coverage.append({"file": member.display, "kind": None, "by": "content", "what": describe_head(data)})
            return out
        return _binary(out, member, spec.name)
    return _text(out, bundle, member, logical, spec, data)


def _text(out: Read, bundle: Bundle, member: Member, logical: str, spec: SourceSpec | None, data: bytes) -> Read:
    if spec is not None:
        # A big log named by its path, in plain UTF-8: split by polars once, checked for paste
        # wrapping line by line, and the lines handed to the parser (no decode, no second split).
        lines = plain_lines(data) if len(data) > BIG_TEXT else None
        if lines is not None and not paste.lines_pasted(lines["raw"]):
            src = SourceFile(logical, member.display, data, member.mtime, bundle.name)
            src.__dict__["lines"] = lines
            return _one(out, spec, src, "name")
    decoded = decode(data)
    cleaned = paste.clean(decoded.text)
    if spec is not None:
        # Named by its path: wrapping removed, never split (an echoed command inside a log,
        # like cmd.exe's "C:\\dir>set X=1" in CommandExecution.log, is part of the log).
        parts = [paste.Segment(cleaned)]
        if cleaned is decoded.text:
            src = SourceFile(logical, member.display, data, member.mtime, bundle.name)
            src.__dict__["decoded"] = decoded  # decoded once: prime the parser's cached text
            return _one(out, spec, src, "name")
    else:
        parts = paste.segments(cleaned, sniff.sniff_text, command_kind=sniff.command_kind, absorbs=sniff.ABSORBS)
    specs = _specs()
    if decoded.notes:
        detail = f"read as {decoded.encoding}; " + "; ".join(decoded.notes)
        out.errors.append({"file": member.display, "source": spec.name if spec else None, "kind": "decoded", "detail": detail, "line": None})
    recognised = 0
    for part in map(_trim, parts):
        by = "name"
        kind = sniff.command_kind(part.command) if part.command else None
        if kind is not None:
            by = "command"
        elif spec is not None and len(parts) == 1:
            kind = spec.name
        else:
            kind = part.kind or sniff.sniff_text(part.text)
            by = "content"
        if kind is None and spec is not None:
            kind, by = spec.name, "name"
        entry: dict = {"file": member.display}
        if len(parts) > 1:
            entry["lines"] = [part.first + 1, part.first + part.text.count("\n") + 1]
        if kind is None or kind not in specs:
            out.coverage.append({**entry, "kind": None, "by": "content", "what": describe_head(part.text.encode("utf-8"))})
            continue
        recognised += 1
        if spec is not None and kind == spec.name:
            path = logical
        else:
            kind, path = sniff.implied_path(kind, part.text, member.name)
        target = specs.get(kind)
        if target is None:
            continue
        src = SourceFile(path, member.display, part.text.encode("utf-8"), member.mtime, bundle.name)
        out.jobs.append(Job(target, src, part.first))
        out.coverage.append({**entry, "kind": target.name, "by": by, "as": path})
    # A part no kind claims (a console banner before the first prompt) is listed; the file is
    # unrecognised only when no part of it was.
    out.unrecognised = recognised == 0
    return out


def _trim(part: paste.Segment) -> paste.Segment:
    """A part without its leading blank lines (left by fences and prompts), counted in ``first``."""
    m = re.match(r"(?:[ \t]*\n)+", part.text)
    if not m:
        return part
    return paste.Segment(part.text[m.end() :], part.first + m.group(0).count("\n"), part.command, part.kind)


def _one(out: Read, spec: SourceSpec, src: SourceFile, by: str) -> Read:
    out.jobs.append(Job(spec, src))
    out.coverage.append({"file": src.display, "kind": spec.name, "by": by, "as": src.path})
    return out


def _binary(out: Read, member: Member, source: str) -> Read:
    detail = "binary data where text was expected; not parsed"
    out.errors.append({"file": member.display, "source": source, "kind": "binary", "detail": detail, "line": None})
    return out


def _binary_kind(data: bytes) -> SourceSpec | None:
    """A binary format told by its first bytes (EVTX)."""
    for spec in registry():
        if spec.name == "evtx" and spec.sniff is not None and spec.sniff(data[:4096]):
            return spec
    return None


def _gunzip(bundle: Bundle, member: Member, data: bytes, source: str | None, out: Read) -> bytes | None:
    """Stop at the size limit, and sooner for a bomb: past ratio_min_bytes a stream may not
    inflate more than max_ratio times its compressed size."""
    lim, packed = bundle.limits, len(data)
    ratio_cap = max(lim.ratio_min_bytes, int(packed * lim.max_ratio))
    data, err = gunzip(data, limit=min(lim.max_member_bytes, ratio_cap), name=member.display)
    if err is not None and err.kind == "too-large" and ratio_cap < lim.max_member_bytes:
        detail = f"gzip of {packed:,} bytes inflates past {ratio_cap:,} (more than {lim.max_ratio:g}x); not read"
        out.errors.append({"file": member.display, "source": source, "kind": "bomb", "detail": detail, "line": None})
        return None
    if err is not None:
        out.errors.append(err.as_row(member.display, source))
    return data
