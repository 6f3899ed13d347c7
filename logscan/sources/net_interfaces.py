"""``/etc/network/interfaces`` (and ``interfaces.d/*``, Debian ifupdown): how each interface
gets its IPv4 address.

Facts ``netconf:<interface>`` keys ``dhcp4`` (yes when ``iface <name> inet dhcp``), ``method``
(the word after ``inet``), ``address`` (an ``address`` line of that stanza) and ``config``
(``interfaces``), on the ``iface`` line, with that line as an event. ``inet6`` and loopback
stanzas are left out: DHCP option 245 is an IPv4 matter.
"""

from __future__ import annotations

import re

from .base import Parsed, SourceFile, SourceSpec
from .commands._common import event, fact, line_of, parsed

IFACE = re.compile(r"^[ \t]*iface[ \t]+(?P<name>\S+)[ \t]+inet[ \t]+(?P<method>\S+)[^\n]*$", re.M)
STANZA_END = re.compile(r"^[ \t]*(?:iface|auto|allow-\S+|mapping|source(?:-directory)?)\b", re.M)
ADDRESS = re.compile(r"^[ \t]*address[ \t]+(\S+)", re.M)


def parse(f: SourceFile) -> Parsed:
    text = f.text
    events, facts = [], []
    for m in IFACE.finditer(text):
        if m["method"] == "loopback" or m["name"] == "lo":
            continue
        end = STANZA_END.search(text, m.end())
        addr = ADDRESS.search(text, m.end(), end.start() if end else len(text))
        line, dhcp = line_of(text, m.start()), "yes" if m["method"] == "dhcp" else "no"
        subject = f"netconf:{m['name']}"
        facts += [fact(SPEC.name, f, line, subject, k, v) for k, v in
                  (("dhcp4", dhcp), ("method", m["method"]), ("address", addr.group(1) if addr else ""), ("config", "interfaces"))]
        events.append(event(SPEC.name, f, line, f"{m['name']}: inet {m['method']} (dhcp4={dhcp})", m.group(0).strip(),
                            "INFO" if dhcp == "yes" else "WARNING"))
    return parsed(events, facts)


SPEC = SourceSpec(
    name="net_interfaces",
    patterns=(r"(^|/)etc/network/interfaces$", r"(^|/)etc/network/interfaces\.d/[^/]+$"),
    parse=parse,
    description="/etc/network/interfaces: inet dhcp or static per interface",
    platform="linux",
    priority=20,
    example_path="etc/network/interfaces",
)
