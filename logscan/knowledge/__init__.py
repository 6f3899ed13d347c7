"""What logscan knows about Azure Backup failures: causes and error codes, kept as data.

The knowledge lives in two YAML files next to this module so that adding a cause needs no
Python (see docs/CONTRIBUTING.md):

``causes.yaml``
    One entry per cause id (the stable ids of ``docs/causes.md``): title, summary, numbered
    remediation, article anchor and link, the error codes it explains, whether the guest can
    show it at all, platforms, and the evidence that would confirm it.
``error_codes.yaml``
    One entry per backup error code: its meaning and its candidate causes *in the article's
    order* (the order a person checks them in), then causes real reports add.

Both are read once (:func:`load_knowledge` is cached) and checked against each other, so a
typo in a cause id fails loudly at load time instead of silently dropping a candidate.

>>> k = load_knowledge()
>>> k.code("guestagentsnapshottaskstatuserror").candidates[0]
'win-agent-unresponsive'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import LogscanError

ARTICLE_URL = "https://learn.microsoft.com/en-us/azure/backup/backup-azure-troubleshoot-vm-backup-fails-snapshot-timeout"
PLATFORMS = ("linux", "windows")


class KnowledgeError(LogscanError):
    """The knowledge files are inconsistent or malformed (a bug in the data, not the input)."""


@dataclass(frozen=True)
class Cause:
    """One reason a backup can fail, and how to recognise and fix it."""

    id: str
    title: str
    summary: str
    remediation: str
    anchor: str
    doc: str
    error_codes: tuple[str, ...]
    guest_visible: bool
    platforms: tuple[str, ...]
    evidence: tuple[str, ...]
    parent: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ErrorCode:
    """A backup error code as the portal shows it, with its candidate causes in order."""

    code: str
    meaning: str
    candidates: tuple[str, ...]  # the article's causes, in the article's order
    reported_candidates: tuple[str, ...] = ()  # causes real reports add, after the article's
    anchor: str | None = None
    doc: str | None = None

    @property
    def all_candidates(self) -> tuple[str, ...]:
        """Every candidate cause: the article's first (in its order), then the reported ones."""
        return self.candidates + tuple(c for c in self.reported_candidates if c not in self.candidates)


@dataclass(frozen=True)
class Knowledge:
    """All causes and codes, by id / code; code lookups ignore case."""

    causes: dict[str, Cause]
    codes: dict[str, ErrorCode]
    _by_lower: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def code(self, name: str) -> ErrorCode | None:
        """The error code ``name`` (any case, surrounding spaces ignored), or None."""
        key = self._by_lower.get(name.strip().lower())
        return self.codes.get(key) if key else None

    def cause(self, cause_id: str) -> Cause | None:
        """The cause ``cause_id`` (any case), or None."""
        return self.causes.get(cause_id.strip().lower())

    def causes_for(self, code: str) -> list[Cause]:
        """The candidate causes of ``code`` in order (empty when the code is unknown)."""
        ec = self.code(code)
        return [self.causes[c] for c in ec.all_candidates] if ec else []

    def suggest(self, term: str, n: int = 3) -> list[str]:
        """Codes and cause ids close to ``term`` (for "did you mean")."""
        names = {c.lower(): c for c in self.codes} | {c: c for c in self.causes}
        hits = difflib.get_close_matches(term.strip().lower(), list(names), n=n, cutoff=0.5)
        return [names[h] for h in hits]


# ---------------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------------


def _strs(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KnowledgeError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _need(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(f"{where}: missing or empty '{key}'")
    return value.strip() if key != "remediation" else value.rstrip()


def _cause(entry: Any, origin: str, i: int) -> Cause:
    if not isinstance(entry, dict):
        raise KnowledgeError(f"{origin}: entry {i} is not a mapping")
    cid = _need(entry, "id", f"{origin}: entry {i}")
    where = f"{origin}: cause '{cid}'"
    gv = entry.get("guest_visible")
    if not isinstance(gv, bool):
        raise KnowledgeError(f"{where}: 'guest_visible' must be true or false")
    platforms = _strs(entry.get("platforms"), where, "platforms")
    bad = [p for p in platforms if p not in PLATFORMS]
    if not platforms or bad:
        raise KnowledgeError(f"{where}: 'platforms' must list some of {PLATFORMS}, got {list(platforms)}")
    anchor = _need(entry, "anchor", where)
    return Cause(
        id=cid,
        title=_need(entry, "title", where),
        summary=_need(entry, "summary", where),
        remediation=_need(entry, "remediation", where),
        anchor=anchor,
        doc=entry.get("doc") or f"{ARTICLE_URL}#{anchor}",
        error_codes=_strs(entry.get("error_codes"), where, "error_codes"),
        guest_visible=gv,
        platforms=platforms,
        evidence=_strs(entry.get("evidence"), where, "evidence"),
        parent=entry.get("parent"),
        note=entry.get("note"),
    )


def _code(entry: Any, origin: str, i: int) -> ErrorCode:
    if not isinstance(entry, dict):
        raise KnowledgeError(f"{origin}: entry {i} is not a mapping")
    name = _need(entry, "code", f"{origin}: entry {i}")
    where = f"{origin}: code '{name}'"
    anchor = entry.get("anchor")
    candidates = _strs(entry.get("candidates"), where, "candidates")
    if not candidates:
        raise KnowledgeError(f"{where}: no candidate causes")
    return ErrorCode(
        code=name,
        meaning=_need(entry, "meaning", where),
        candidates=candidates,
        reported_candidates=_strs(entry.get("reported_candidates"), where, "reported_candidates"),
        anchor=anchor,
        doc=entry.get("doc") or (f"{ARTICLE_URL}#{anchor}" if anchor else None),
    )


def _list(text: str, origin: str) -> list:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(data, list):
        raise KnowledgeError(f"{origin}: expected a list of entries at the top level")
    return data


def _close(name: str, known: list[str]) -> str:
    near = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{near[0]}'?)" if near else ""


def parse_knowledge(
    causes_text: str, codes_text: str, *, origin: tuple[str, str] = ("causes.yaml", "error_codes.yaml")
) -> Knowledge:
    """Build and validate a :class:`Knowledge` from the two YAML texts.

    Raises :class:`KnowledgeError` naming the file and entry when an id is repeated, a
    candidate or parent is not a known cause, a cause names an unknown code, or a cause and a
    code disagree about each other.
    """
    c_origin, k_origin = origin
    causes: dict[str, Cause] = {}
    for i, entry in enumerate(_list(causes_text, c_origin)):
        cause = _cause(entry, c_origin, i)
        if cause.id in causes:
            raise KnowledgeError(f"{c_origin}: cause id '{cause.id}' is defined twice")
        causes[cause.id] = cause
    codes: dict[str, ErrorCode] = {}
    lower: dict[str, str] = {}
    for i, entry in enumerate(_list(codes_text, k_origin)):
        ec = _code(entry, k_origin, i)
        if ec.code.lower() in lower:
            raise KnowledgeError(f"{k_origin}: error code '{ec.code}' is defined twice")
        codes[ec.code] = ec
        lower[ec.code.lower()] = ec.code

    ids = list(causes)
    for ec in codes.values():
        for c in ec.candidates + ec.reported_candidates:
            if c not in causes:
                raise KnowledgeError(
                    f"{k_origin}: code '{ec.code}' names unknown cause '{c}'{_close(c, ids)}"
                )
    for cause in causes.values():
        if cause.parent is not None and cause.parent not in causes:
            raise KnowledgeError(f"{c_origin}: cause '{cause.id}' has unknown parent '{cause.parent}'")
        for name in cause.error_codes:
            if name not in codes:
                raise KnowledgeError(
                    f"{c_origin}: cause '{cause.id}' names unknown error code '{name}'{_close(name, list(codes))}"
                )
            if cause.id not in codes[name].all_candidates:
                raise KnowledgeError(
                    f"{c_origin}: cause '{cause.id}' lists code '{name}', but {k_origin} does not list it as a candidate of that code"
                )
    for ec in codes.values():
        for c in ec.all_candidates:
            if ec.code not in causes[c].error_codes:
                raise KnowledgeError(
                    f"{k_origin}: code '{ec.code}' lists cause '{c}', but {c_origin} does not list the code under that cause"
                )
    return Knowledge(causes=causes, codes=codes, _by_lower=lower)


def load_knowledge_files(causes_path: str | Path, codes_path: str | Path) -> Knowledge:
    """Load knowledge from files outside the package (tests, experiments); not cached."""
    cp, kp = Path(causes_path), Path(codes_path)
    return parse_knowledge(
        cp.read_text(encoding="utf-8"), kp.read_text(encoding="utf-8"), origin=(str(cp), str(kp))
    )


@cache
def load_knowledge() -> Knowledge:
    """The packaged knowledge base (read once per process; validated result kept in the
    startup cache, :mod:`logscan.io.cache`, keyed by the files' content)."""
    from ..io import cache as disk

    pkg = resources.files("logscan.content") / "knowledge"
    files = [Path(str(pkg / "causes.yaml")), Path(str(pkg / "error_codes.yaml")), Path(__file__)]
    return disk.cached(
        "knowledge",
        disk.content_key("knowledge", files),
        lambda: parse_knowledge(files[0].read_text(encoding="utf-8"), files[1].read_text(encoding="utf-8")),
        disk.encode,
        lambda v: disk.decode(v, {c.__name__: c for c in (Knowledge, Cause, ErrorCode)}),
    )


__all__ = [
    "ARTICLE_URL",
    "Cause",
    "ErrorCode",
    "Knowledge",
    "KnowledgeError",
    "load_knowledge",
    "load_knowledge_files",
    "parse_knowledge",
]
