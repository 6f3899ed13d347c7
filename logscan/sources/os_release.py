"""``/etc/os-release`` and ``/etc/hostname``: the VM's OS and name for the identity columns.

os-release gives facts ``os/name`` (``ID``, e.g. ``ubuntu``: the same word the agent logs
after ``OS:``), ``os/version`` (``VERSION_ID``) and ``os/pretty_name``; hostname gives
``vm/hostname``. No events: these files say what the VM is, not what happened.
"""

from __future__ import annotations

import re

from ..errors import IngestError
from ..frames import facts_from_records
from .base import Parsed, SourceFile, SourceSpec

KEYS = {"ID": ("os", "name"), "VERSION_ID": ("os", "version"), "PRETTY_NAME": ("os", "pretty_name")}


def _row(f: SourceFile, source: str, line: int, subject: str, key: str, value: str) -> dict:
    return {"source": source, "file": f.display, "line": line, "subject": subject, "key": key, "value": value}


def parse_os_release(f: SourceFile) -> Parsed:
    rows = []
    for i, line in enumerate(f.text.splitlines()[:200], 1):
        m = re.match(r"^\s*([A-Z_]+)=(.*?)\s*$", line)
        if m and m.group(1) in KEYS:
            value = m.group(2).strip().strip("\"'")
            if value:
                rows.append(_row(f, SPEC.name, i, *KEYS[m.group(1)], value))
    if not rows:
        raise IngestError("parse", "no ID/VERSION_ID/PRETTY_NAME lines")
    return Parsed(facts=facts_from_records(rows))


def parse_hostname(f: SourceFile) -> Parsed:
    names = [x.strip() for x in f.text.splitlines() if x.strip() and not x.lstrip().startswith("#")]
    if not names or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}", names[0]):
        raise IngestError("parse", "not a host name")
    return Parsed(facts=facts_from_records([_row(f, HOSTNAME.name, 1, "vm", "hostname", names[0])]))


SPEC = SourceSpec(
    name="os_release",
    patterns=(r"(^|/)(?:etc|usr/lib)/os-release$",),
    parse=parse_os_release,
    description="/etc/os-release: OS name and version",
    platform="linux",
    priority=30,
    example_path="etc/os-release",
)
HOSTNAME = SourceSpec(
    name="hostname",
    patterns=(r"(^|/)etc/hostname$", r"(^|/)sos_commands/(?:host|general)/hostname(?:_-f)?$"),
    parse=parse_hostname,
    description="/etc/hostname: the VM's host name",
    platform="linux",
    priority=30,
    example_path="etc/hostname",
)
SPECS = [SPEC, HOSTNAME]
