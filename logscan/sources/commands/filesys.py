"""``mount`` output (and ``/proc/mounts``): facts ``mount:<mountpoint>`` keys ``options``,
``type``, ``device`` and ``noexec`` (yes/no) for the mount points the agent and extensions
use (``/``, ``/var``, ``/var/lib``, ``/var/lib/waagent``, ``/var/log``, ``/tmp``, ``/mnt``,
``/mnt/resource``); a ``noexec`` mount of one of them is a WARNING event (extensions run
from ``/var/lib/waagent``)."""

from __future__ import annotations

import re

from ..base import Parsed, SourceFile, SourceSpec
from ._common import event, fact, line_of, parsed

WATCHED = {"/", "/var", "/var/lib", "/var/lib/waagent", "/var/log", "/tmp", "/mnt", "/mnt/resource", "/boot"}
MOUNT = re.compile(r"^(?P<dev>\S+) on (?P<mp>/\S*) type (?P<type>\S+) \((?P<opts>[^)]*)\)[ \t]*$", re.M)
PROC = re.compile(r"^(?P<dev>\S+) (?P<mp>/\S*) (?P<type>\S+) (?P<opts>\S+) \d+ \d+[ \t]*$", re.M)


def parse(f: SourceFile) -> Parsed:
    text = f.text
    events, facts = [], []
    for m in [*MOUNT.finditer(text), *PROC.finditer(text)]:
        mp = m["mp"]
        if mp not in WATCHED:
            continue
        line = line_of(text, m.start())
        opts = m["opts"].split(",")
        noexec = "noexec" in opts
        subject = f"mount:{mp}"
        facts += [fact(SPEC.name, f, line, subject, k, v) for k, v in
                  (("options", m["opts"]), ("type", m["type"]), ("device", m["dev"]), ("noexec", "yes" if noexec else "no"))]
        level = "WARNING" if noexec else "INFO"
        events.append(event(SPEC.name, f, line, f"{mp} mounted {m['type']} ({m['opts']})", m.group(0), level))
    return parsed(events, facts)


SPEC = SourceSpec(
    name="mount",
    patterns=(r"(^|/)sos_commands/filesys/(?:mount|findmnt)[^/]*$", r"(^|/)mount(?:\.txt)?$", r"(^|/)proc/mounts$"),
    parse=parse,
    description="mount: options of /, /var, /var/lib/waagent, /tmp (noexec stops extensions)",
    platform="linux",
    priority=20,
    example_path="sos_commands/filesys/mount",
)
SPECS = [SPEC]
