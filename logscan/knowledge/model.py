"""The knowledge model: causes, error codes, thresholds and the :class:`Knowledge` that ties
them together (fix steps per platform and distribution). Read by :mod:`.loader`; see the
package docstring for the files it comes from."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ..errors import LogscanError
from .fixes import (
    Distro,
    FixStep,
    StepSpec,
    distro_key,
    render_fix_text,
    resolve_steps,
)

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
    fix: tuple[StepSpec, ...]
    anchor: str
    doc: str
    error_codes: tuple[str, ...]
    guest_visible: bool
    platforms: tuple[str, ...]
    evidence: tuple[str, ...]
    parent: str | None = None
    note: str | None = None
    _distros: dict[str, Distro] = field(default_factory=dict, repr=False, compare=False)

    @property
    def remediation(self) -> str:
        """Every step for every platform and distribution as one text (the legacy string).

        Kept for callers that have no VM identity; a report for one VM should call
        :meth:`Knowledge.fix_steps` with its platform and distribution instead.
        """
        return render_fix_text(resolve_steps(self.fix, "unknown", None, self._distros))


@dataclass(frozen=True)
class Threshold:
    """A number, mapping or list the diagnosis relies on, and where it comes from.

    ``value`` is what the source says; ``in_use`` what the code uses where that differs
    (a correction not applied yet), else None.
    """

    id: str
    kind: str
    value: Any
    used_by: tuple[str, ...]
    source: str | None
    heuristic: bool
    why: str | None
    note: str | None = None
    in_use: Any = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``heuristic`` always present so reports can say "rule of thumb"."""
        return {
            "id": self.id,
            "kind": self.kind,
            "value": self.value,
            "used_by": list(self.used_by),
            "source": self.source,
            "heuristic": self.heuristic,
            "why": self.why,
        }


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
    distros: dict[str, Distro] = field(default_factory=dict, repr=False, compare=False)
    thresholds: dict[str, Threshold] = field(default_factory=dict, repr=False, compare=False)

    def fix_steps(self, cause_id: str, platform: str, distro: str | None) -> list[FixStep]:
        """The fix for ``cause_id`` on a VM of ``platform`` and ``distro``, step by step.

        ``platform`` is ``Identity.platform`` (linux, windows, mixed, unknown): a known one
        gets its own steps and the platform-neutral ones; mixed/unknown gets both platforms'
        steps, each labelled "Linux"/"Windows". ``distro`` is ``Identity.distro`` (a family
        such as ``debian``) or a distribution key of distros.yaml (``ubuntu``); when it is
        None or unknown, a Linux command that differs between distributions comes as one
        labelled line per group (``FixStep.commands``). Raises KeyError for an unknown cause.
        """
        cause = self.cause(cause_id)
        if cause is None:
            raise KeyError(cause_id)
        return resolve_steps(cause.fix, platform, distro, self.distros)

    def distro_key(self, family: str | None, os_name: str | None) -> str | None:
        """The distribution to pass to :meth:`fix_steps` for ``Identity.distro`` and
        ``Identity.os_name``: ``ubuntu`` / ``debian-os`` when the OS name says which, else
        the family (whose distributions then each get their labelled command)."""
        return distro_key(family, os_name, self.distros)

    def threshold(self, threshold_id: str) -> Threshold | None:
        """The threshold / mapping / list ``threshold_id`` of thresholds.yaml, or None."""
        return self.thresholds.get(threshold_id)

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


