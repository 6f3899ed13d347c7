"""``df -h`` / ``df -P`` / ``df -i`` output: how full each file system is.

Facts ``disk:<mountpoint>`` keys ``used_percent`` (the ``Use%`` number, no sign), ``size``,
``avail`` and ``device`` as written; with ``-i``, ``inodes_used_percent`` instead. A full
``/``, ``/var`` or ``/var/log`` stops the agent writing its state, logs and extension status
(a report note, not a cause: the article names none). One event per row (WARNING at 95 % or
more), so a note or hit can quote the row. A device name too long for its column, which
``df`` without ``-P`` puts alone on its own line, is joined to the numbers below it.
"""

from __future__ import annotations

import re

from ..base import Parsed, SourceFile, SourceSpec
from ._common import event, fact, line_of, parsed

ROW = re.compile(r"^(?P<dev>\S+)\s+(?P<size>\S+)\s+(?P<used>\S+)\s+(?P<avail>\S+)\s+(?P<pct>\d{1,3})%\s+(?P<mp>/\S*)[ \t]*$", re.M)
INODES = re.compile(r"^\s*Filesystem\s+Inodes\b", re.M)


def parse(f: SourceFile) -> Parsed:
    text = f.text
    inodes = INODES.search(text) is not None
    events, facts = [], []
    for m in ROW.finditer(text):
        line = line_of(text, m.start("pct"))  # the numbers' line, also when the device wrapped
        subject = f"disk:{m['mp']}"
        if inodes:
            facts.append(fact(SPEC.name, f, line, subject, "inodes_used_percent", m["pct"]))
        else:
            facts += [fact(SPEC.name, f, line, subject, k, m[g]) for k, g in
                      (("used_percent", "pct"), ("size", "size"), ("avail", "avail"), ("device", "dev"))]
        what = "inodes" if inodes else "space"
        level = "WARNING" if int(m["pct"]) >= 95 else "INFO"
        row = text[text.rfind("\n", 0, m.start("pct")) + 1 : m.end()].strip()
        events.append(event(SPEC.name, f, line, f"{m['mp']} {what} {m['pct']}% used ({m['dev']})", row, level))
    return parsed(events, facts)


SPEC = SourceSpec(
    name="df",
    patterns=(r"(^|/)sos_commands/filesys/df[^/]*$", r"(^|/)df[-_ ]-?[a-z]+(?:[-_ ]-?[a-z]+)*(?:\.txt)?$"),
    parse=parse,
    description="df -h / df -i: how full each file system is (a full /var stops the agent)",
    platform="linux",
    priority=20,
    example_path="sos_commands/filesys/df_-h",
)
SPECS = [SPEC]
