"""What to collect, as data: the file globs, probes, commands and connect tests of a plan.

The list lives in ``logscan/content/collect/linux.yaml`` so that adding a file or a command is
a data change a reviewer can read at a glance; this module only loads and validates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import yaml

from .. import content


@dataclass(frozen=True)
class Command:
    """One command to run: ``argv`` (no shell), written to ``sos_commands/<plugin>/<name>``."""

    plugin: str
    argv: tuple[str, ...]
    name: str = ""
    timeout_s: float | None = None

    @property
    def path(self) -> str:
        """Where its output goes in the bundle (the sosreport layout)."""
        return f"sos_commands/{self.plugin}/{self.name or '_'.join(self.argv)}"


@dataclass(frozen=True)
class Target:
    """A TCP endpoint whose reachability is tested (no data is sent)."""

    host: str
    port: int

    @property
    def path(self) -> str:
        return f"sos_commands/logscan/connect_{self.host}_{self.port}"


@dataclass(frozen=True)
class Plan:
    files: tuple[str, ...]
    follow: tuple[str, ...] = ()
    probes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    commands: tuple[Command, ...] = ()
    targets: tuple[Target, ...] = ()
    connect_timeout_s: float = 3.0

    def without_commands(self) -> Plan:
        """The same plan, files only (``--no-commands``: a mounted disk has no live state)."""
        return replace(self, commands=(), targets=())


def load_plan(name: str = "linux") -> Plan:
    """The shipped plan ``content/collect/<name>.yaml``."""
    return plan_from_dict(yaml.safe_load(content.path("collect", f"{name}.yaml").read_text(encoding="utf-8")))


def plan_from_dict(data: dict) -> Plan:
    """Build a plan from its YAML shape; raise ``ValueError`` for a malformed one."""
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ValueError("a collect plan needs a 'files' list")
    cmds = []
    for c in data.get("commands") or []:
        argv = c.get("argv")
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
            raise ValueError(f"command needs a non-empty argv list of strings: {c!r}")
        if not isinstance(c.get("plugin"), str) or "/" in c["plugin"]:
            raise ValueError(f"command needs a plugin name without '/': {c!r}")
        name = c.get("name", "")
        if "/" in name:
            raise ValueError(f"command name may not hold '/': {c!r}")
        cmds.append(Command(c["plugin"], tuple(argv), name, c.get("timeout_s")))
    names = [c.path for c in cmds]
    if len(set(names)) != len(names):
        raise ValueError("two commands write the same output file")
    conn = data.get("connect") or {}
    targets = tuple(Target(str(t["host"]), int(t["port"])) for t in conn.get("targets") or [])
    probes = {k: tuple(v) for k, v in (data.get("probes") or {}).items()}
    return Plan(
        files=tuple(data["files"]),
        follow=tuple(data.get("follow") or ()),
        probes=probes,
        commands=tuple(cmds),
        targets=targets,
        connect_timeout_s=float(conn.get("timeout_s", 3.0)),
    )
