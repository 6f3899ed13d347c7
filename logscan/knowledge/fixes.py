"""Fix steps as data: per platform, per distribution, each with its source or marked a rule of thumb.

Support engineers paste these steps into customer cases, so a step must be right for the VM
in front of them: the Linux agent's service is ``walinuxagent`` on Ubuntu/Debian and
``waagent`` elsewhere, its package has a different name on every family, and a Windows step
is noise on a Linux VM. So a step's command is written once with placeholders
(``{service}``, ``{package}``, ``{conf}``, ``{install}``, ``{upgrade}``, ``{svc:ACTION}``) that
:data:`distros.yaml <DistroTable>` fills per distribution, or as a mapping keyed by
distribution / family (with ``default``) where the commands really differ.

Every step says where it comes from (``source``: an https URL to the article section, a doc,
or a file at a tag of the agent's / extension's source), or is ``heuristic: true`` with a
one-line ``why``; reports label heuristics "rule of thumb". A step that removes a protection
or deletes state must say how to undo it (``undo``). All of this is checked when the data is
loaded, with ``file:line:col`` in the error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ._yaml import where

#: A step is for one platform or for any.
STEP_PLATFORMS = ("linux", "windows", "any")
#: Platforms a VM can be found to have (facts.identity.Identity.platform).
VM_PLATFORMS = ("linux", "windows", "mixed", "unknown")
#: ``{name}`` or ``{svc:action}`` in a command (not curl's ``%{http_code}``).
PLACEHOLDER = re.compile(r"(?<!%)\{(\w+)(?::(\w+))?\}")
#: Placeholders a distribution row can fill (``svc`` takes an action: ``{svc:restart}``).
PLACEHOLDERS = ("service", "package", "conf", "install", "upgrade", "svc")
#: Words that mean a step removes a protection or deletes state: such a step needs ``undo``.
DESTRUCTIVE = re.compile(
    r"\b(?:rm|del|delete|uninstall|remove|disable|mv|turn off|Remove-Item)\b|(?<![\w-])(?:(?-i:-D)|-off|-uninstall|-unlock)\b",
    re.IGNORECASE,
)
_SOURCE = re.compile(r"^https://\S+$")


class FixDataError(ValueError):
    """A fix step or distribution row is malformed; the message starts with file:line:col."""


@dataclass(frozen=True)
class Distro:
    """One distribution the Linux agent ships on: what its service and package are called."""

    key: str
    family: str
    label: str
    service: str | None
    package: str | None
    conf: str | None  # the agent's config file
    service_cmd: str | None  # e.g. "sudo systemctl {action} {service}"
    install: str | None  # command prefix to install a package
    upgrade: str | None  # command prefix to upgrade a package
    source: str

    def value(self, name: str, arg: str | None) -> str | None:
        """The text for placeholder ``name`` (``svc`` needs the action ``arg``), None if unset."""
        if name == "svc":
            if not self.service_cmd or not self.service or not arg:
                return None
            return self.service_cmd.format(action=arg, service=self.service)
        return getattr(self, name)


@dataclass(frozen=True)
class StepSpec:
    """A fix step as written in causes.yaml (before a distribution is chosen)."""

    text: str
    platform: str
    command: str | dict[str, str | None] | None
    source: str | None
    heuristic: bool
    why: str | None
    undo: str | None
    where: str


@dataclass(frozen=True)
class LabelledCommand:
    """The command for the distributions in ``distros`` (``label`` names them for a reader)."""

    label: str
    command: str | None
    distros: tuple[str, ...]


@dataclass(frozen=True)
class FixStep:
    """One step of a fix, resolved for a platform and distribution.

    ``command`` is the command to run, or None. When the distribution is unknown and the
    command differs between families, ``command`` holds one labelled line per group
    (``"Ubuntu, Debian: sudo systemctl restart walinuxagent"``) and ``commands`` the same
    as data. ``label`` is "Linux" / "Windows" when steps of both platforms are shown.
    """

    text: str
    command: str | None
    platform: str
    source: str | None
    heuristic: bool
    why: str | None
    undo: str | None = None
    label: str | None = None
    commands: tuple[LabelledCommand, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the report's ``fix_steps`` entries); ``heuristic`` always present."""
        return {
            "text": self.text,
            "command": self.command,
            "commands": [{"label": c.label, "command": c.command, "distros": list(c.distros)} for c in self.commands]
            if len(self.commands) > 1
            else [],
            "platform": self.platform,
            "label": self.label,
            "source": self.source,
            "heuristic": self.heuristic,
            "why": self.why,
            "undo": self.undo,
        }


# ---------------------------------------------------------------------------------------------
# Parsing and validation
# ---------------------------------------------------------------------------------------------


def _opt_str(entry: dict, key: str, at: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise FixDataError(f"{at}: '{key}' must be a non-empty string")
    return value.strip()


def parse_distros(data: Any, origin: str) -> dict[str, Distro]:
    """The ``distros`` table: key -> :class:`Distro`, in file order (the order labels use)."""
    if not isinstance(data, dict) or not isinstance(data.get("distros"), dict):
        raise FixDataError(f"{where(data, origin)}: expected a mapping with a 'distros' mapping")
    out: dict[str, Distro] = {}
    for key, row in data["distros"].items():
        at = where(row, f"{origin}: distro '{key}'")
        if not isinstance(row, dict):
            raise FixDataError(f"{at}: distro '{key}' must be a mapping")
        unknown = set(row) - {"family", "label", "service", "package", "conf", "service_cmd", "install", "upgrade", "source", "note"}
        if unknown:
            raise FixDataError(f"{at}: distro '{key}' has unknown keys {sorted(unknown)}")
        family, label, source = (_opt_str(row, k, at) for k in ("family", "label", "source"))
        if not family or not label:
            raise FixDataError(f"{at}: distro '{key}' needs 'family' and 'label'")
        if not source or not _SOURCE.match(source):
            raise FixDataError(f"{at}: distro '{key}' needs a 'source' https URL")
        svc_cmd = _opt_str(row, "service_cmd", at)
        if svc_cmd and ("{action}" not in svc_cmd or "{service}" not in svc_cmd):
            raise FixDataError(f"{at}: 'service_cmd' must contain {{action}} and {{service}}")
        out[str(key)] = Distro(
            key=str(key),
            family=family,
            label=label,
            service=_opt_str(row, "service", at),
            package=_opt_str(row, "package", at),
            conf=_opt_str(row, "conf", at),
            service_cmd=svc_cmd,
            install=_opt_str(row, "install", at),
            upgrade=_opt_str(row, "upgrade", at),
            source=source,
        )
    if not out:
        raise FixDataError(f"{origin}: no distributions")
    return out


def _resolve_one(spec: StepSpec, distro: Distro) -> str | None:
    """The command of a Linux step for ``distro`` (placeholders filled), or None."""
    cmd = spec.command
    if isinstance(cmd, dict):
        for key in (distro.key, distro.family, "default"):
            if key in cmd:
                cmd = cmd[key]
                break
        else:
            return None
    if cmd is None:
        return None

    def fill(m: re.Match[str]) -> str:
        value = distro.value(m.group(1), m.group(2))
        if value is None:
            raise FixDataError(
                f"{spec.where}: placeholder '{m.group(0)}' has no value for distro '{distro.key}' "
                f"(give a '{distro.key}' or '{distro.family}' command, or null, for it)"
            )
        return value

    return PLACEHOLDER.sub(fill, cmd)


def parse_steps(value: Any, at: str, distros: dict[str, Distro]) -> tuple[StepSpec, ...]:
    """Validate a cause's ``fix`` list: platform, source-or-heuristic, placeholders, undo."""
    if not isinstance(value, list) or not value:
        raise FixDataError(f"{at}: 'fix' must be a non-empty list of steps")
    keys = set(distros) | {d.family for d in distros.values()} | {"default"}
    steps: list[StepSpec] = []
    for i, entry in enumerate(value, 1):
        here = where(entry, f"{at}: step {i}")
        if not isinstance(entry, dict):
            raise FixDataError(f"{here}: step {i} is not a mapping")
        unknown = set(entry) - {"text", "platform", "command", "source", "heuristic", "why", "undo"}
        if unknown:
            raise FixDataError(f"{here}: unknown keys {sorted(unknown)}")
        text = _opt_str(entry, "text", here)
        if not text:
            raise FixDataError(f"{here}: step needs 'text'")
        platform = entry.get("platform", "any")
        if platform not in STEP_PLATFORMS:
            raise FixDataError(f"{here}: unknown platform '{platform}' (one of {', '.join(STEP_PLATFORMS)})")
        heuristic = entry.get("heuristic", False)
        if not isinstance(heuristic, bool):
            raise FixDataError(f"{here}: 'heuristic' must be true or false")
        source, why, undo = (_opt_str(entry, k, here) for k in ("source", "why", "undo"))
        if source is not None and not _SOURCE.match(source):
            raise FixDataError(f"{here}: 'source' must be an https URL (article section, doc, or file at a tag)")
        if not source and not heuristic:
            raise FixDataError(f"{here}: step has neither 'source' nor 'heuristic: true'")
        if heuristic and (not why or "\n" in why):
            raise FixDataError(f"{here}: a heuristic step needs a one-line 'why'")
        command = entry.get("command")
        if isinstance(command, dict):
            if platform != "linux":
                raise FixDataError(f"{here}: per-distro commands are only for platform: linux")
            bad = [k for k in command if k not in keys]
            if bad:
                raise FixDataError(f"{here}: unknown distro key(s) {bad} (known: {sorted(keys)})")
            if not all(v is None or (isinstance(v, str) and v.strip()) for v in command.values()):
                raise FixDataError(f"{here}: per-distro commands must be strings or null")
        elif command is not None and (not isinstance(command, str) or not command.strip()):
            raise FixDataError(f"{here}: 'command' must be a string or a distro mapping")
        texts = [command] if isinstance(command, str) else [v for v in (command or {}).values() if v]
        for t in texts:
            for m in PLACEHOLDER.finditer(t):
                if m.group(1) not in PLACEHOLDERS:
                    raise FixDataError(f"{here}: unknown placeholder '{m.group(0)}' (known: {', '.join(PLACEHOLDERS)})")
                if platform != "linux":
                    raise FixDataError(f"{here}: placeholder '{m.group(0)}' in a {platform} step")
        if not undo and any(DESTRUCTIVE.search(t) for t in [text, *texts]):
            raise FixDataError(f"{here}: step removes a protection or deletes state: say how to undo it ('undo')")
        spec = StepSpec(text, platform, command, source, heuristic, why, undo, here)
        if platform == "linux" and command is not None:
            for d in distros.values():
                _resolve_one(spec, d)  # raises on a placeholder the distro cannot fill
        steps.append(spec)
    return tuple(steps)


# ---------------------------------------------------------------------------------------------
# Resolution for a VM
# ---------------------------------------------------------------------------------------------


def distros_for(distro: str | None, table: dict[str, Distro]) -> list[Distro]:
    """The rows ``distro`` names: every one of a family (``debian`` = Ubuntu and Debian, as
    facts/identity.py reports it), one distribution (``ubuntu``), or all when unknown."""
    if distro:
        low = distro.strip().lower()
        fam = [d for d in table.values() if d.family == low]
        if fam:
            return fam
        if low in table:
            return [table[low]]
    return list(table.values())


def distro_key(family: str | None, os_name: str | None, table: dict[str, Distro]) -> str | None:
    """The most specific row for a VM: the distribution of ``family`` whose label appears in
    ``os_name`` ("Ubuntu 22.04" -> ``ubuntu``), else the family itself (or None)."""
    if not family:
        return None
    low = (os_name or "").lower()
    for d in table.values():
        if d.family == family and any(part.strip() and part.strip() in low for part in d.label.lower().split("/")):
            return d.key
    return family


def _commands(spec: StepSpec, rows: list[Distro]) -> tuple[LabelledCommand, ...]:
    groups: dict[str | None, list[Distro]] = {}
    for d in rows:
        groups.setdefault(_resolve_one(spec, d), []).append(d)
    return tuple(
        LabelledCommand(", ".join(d.label for d in ds), cmd, tuple(d.key for d in ds)) for cmd, ds in groups.items()
    )


def resolve_steps(
    specs: tuple[StepSpec, ...], platform: str, distro: str | None, table: dict[str, Distro]
) -> list[FixStep]:
    """The steps for a VM of ``platform`` / ``distro`` (see :meth:`Knowledge.fix_steps`)."""
    plat = (platform or "unknown").strip().lower()
    if plat not in VM_PLATFORMS:
        raise ValueError(f"unknown platform '{platform}' (one of {', '.join(VM_PLATFORMS)})")
    chosen = [s for s in specs if s.platform in ("any", plat)] if plat in ("linux", "windows") else list(specs)
    if not any(s.platform != "any" for s in chosen) and any(s.platform != "any" for s in specs):
        # A cause of the other platform only (found by a code, say): show what it says, labelled.
        chosen, plat = list(specs), "unknown"
    both = plat not in ("linux", "windows")
    rows = distros_for(None if distro == "windows" else distro, table)
    out: list[FixStep] = []
    for s in chosen:
        cmds: tuple[LabelledCommand, ...] = ()
        command = s.command if isinstance(s.command, str) else None
        if s.platform == "linux" and s.command is not None:
            cmds = _commands(s, rows)
            if len(cmds) == 1:
                command = cmds[0].command
            else:
                command = "\n".join(f"{c.label}: {c.command or '(no command; see the step)'}" for c in cmds)
        label = {"linux": "Linux", "windows": "Windows"}.get(s.platform) if both else None
        out.append(FixStep(s.text, command, s.platform, s.source, s.heuristic, s.why, s.undo, label, cmds))
    return out


def render_fix_text(steps: list[FixStep]) -> str:
    """The steps as one numbered text (the legacy ``remediation`` string of reports and JSON).

    Heuristic steps say "rule of thumb" and why; steps that undo a protection say how to
    restore it; labelled per-distribution commands get one indented line each.
    """
    lines: list[str] = []
    for i, s in enumerate(steps, 1):
        head = f"{i}. " + (f"[{s.label}] " if s.label else "") + s.text
        if s.heuristic:
            head += f" (rule of thumb: {s.why})"
        lines.append(head)
        if len(s.commands) > 1:
            for c in s.commands:
                lines.append(f"   - {c.label}: `{c.command}`" if c.command else f"   - {c.label}: no command; see the step")
        elif s.command:
            lines.append(f"   `{s.command}`")
        if s.undo:
            lines.append(f"   Undo: {s.undo}")
    return "\n".join(lines)


__all__ = [
    "DESTRUCTIVE",
    "PLACEHOLDER",
    "STEP_PLATFORMS",
    "VM_PLATFORMS",
    "Distro",
    "FixDataError",
    "FixStep",
    "LabelledCommand",
    "StepSpec",
    "distro_key",
    "distros_for",
    "parse_distros",
    "parse_steps",
    "render_fix_text",
    "resolve_steps",
]
