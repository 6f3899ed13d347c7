"""Process listings: ``ps -ef``/``ps aux``/``ps`` and ``tasklist``/``Get-Process``.

Facts ``process:<name>`` key ``running`` (``yes``) and ``pid`` (first seen), where ``name`` is the
program (``python3 -u /usr/sbin/waagent -daemon`` is ``waagent``, with key ``role`` ``daemon``
or ``exthandler`` for the agent's two processes). One event per agent, extension or backup
related process (``waagent``, ``WALinuxAgent``, ``WaAppAgent``, ``WindowsAzureGuestAgent``,
``RdAgent``, ``VMSnapshot``, ``IaaSBcdr``, ``fsfreeze``, ``/var/lib/waagent/...``); the rest
only become facts.
"""

from __future__ import annotations

import re

from ..base import Parsed, SourceFile, SourceSpec
from ._common import event, fact, line_of, parsed

HEADERS = re.compile(r"^[ \t]*(?:UID[ \t]+PID|USER[ \t]+PID|PID[ \t]+TTY|Image Name[ \t]+PID|Handles[ \t]+NPM)", re.M)
RELEVANT = re.compile(r"(?i)waagent|walinuxagent|WaAppAgent|WindowsAzureGuestAgent|RdAgent|VMSnapshot|IaaSBcdr|fsfreeze|/var/lib/waagent|Microsoft\.Azure")


def _command(line: str, columns: list[str]) -> tuple[str | None, str]:
    """(pid, command) of one row given the header's column names."""
    parts = line.split()
    if not parts:
        return None, ""
    if columns[:2] == ["Image", "Name"]:  # tasklist: "name.exe  1234 Services  0  12,345 K"
        m = re.match(r"^(?P<cmd>.+?)\s+(?P<pid>\d+)\s", line)
        return (m["pid"], m["cmd"]) if m else (None, parts[0])
    if columns and columns[0] == "Handles":  # Get-Process: ... Id SI ProcessName
        return (parts[-3] if len(parts) >= 3 else None), parts[-1]
    cmd_col = next((i for i, c in enumerate(columns) if c in ("CMD", "COMMAND", "CMDLINE")), len(columns) - 1)
    pid_col = columns.index("PID") if "PID" in columns else 1
    pid = parts[pid_col] if len(parts) > pid_col else None
    return pid, " ".join(parts[cmd_col:]) if len(parts) > cmd_col else ""


def _name(cmd: str) -> tuple[str, str | None]:
    """Program name of a command line; the agent's interpreter-launched script named as itself."""
    low = cmd.lower()
    if "waagent" in low or "walinuxagent" in low:
        role = "exthandler" if "run-exthandlers" in low else ("daemon" if "-daemon" in low else None)
        return "waagent", role
    first = cmd.split()[0] if cmd.split() else cmd
    first = first.strip("[]")
    return re.split(r"[\\/]", first)[-1].removesuffix(".exe").removesuffix(".EXE") or first, None


def parse(f: SourceFile) -> Parsed:
    text = f.text
    h = HEADERS.search(text)
    columns = text[h.start() : text.find("\n", h.start()) if "\n" in text[h.start():] else len(text)].split() if h else ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    events, facts, seen = [], [], set()
    body_start = text.find("\n", h.start()) + 1 if h else 0
    for m in re.finditer(r"^.*\S.*$", text[body_start:], re.M):
        row = m.group(0)
        if re.match(r"^[ \t]*=+", row):
            continue
        pid, cmd = _command(row, columns)
        if not cmd or pid is None or not pid.isdigit():
            continue
        name, role = _name(cmd)
        line = line_of(text, body_start + m.start())
        subject = f"process:{name}"
        if (name, role) not in seen:
            seen.add((name, role))
            facts += [fact(SPEC.name, f, line, subject, "running", "yes"), fact(SPEC.name, f, line, subject, "pid", pid)]
            if role:
                facts.append(fact(SPEC.name, f, line, subject, "role", role))
        if RELEVANT.search(cmd):
            events.append(event(SPEC.name, f, line, f"process {name} (pid {pid}): {cmd}", row, "INFO", process=name))
    return parsed(events, facts)


SPEC = SourceSpec(
    name="process_list",
    patterns=(r"(^|/)sos_commands/process/ps[_ ][^/]*$", r"(^|/)(?:ps[-_ ](?:ef|aux|axf\w*|-ef|-aux)|tasklist|get[-_]process)[^/]*$"),
    parse=parse,
    description="ps / tasklist / Get-Process listings: which agent and extension processes run",
    platform="any",
    priority=20,
    example_path="sos_commands/process/ps_-ef",
)
SPECS = [SPEC]
