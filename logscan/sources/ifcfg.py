"""``ifcfg-<interface>`` (Red Hat ``network-scripts``, SUSE ``sysconfig/network``): how an
interface gets its address.

Facts ``netconf:<interface>`` keys ``dhcp4`` (yes/no: ``BOOTPROTO`` is dhcp/dhcp4/bootp, or
SUSE's ``dhcp``/``dhcp4``/``dhcp+autoip``), ``method`` (``BOOTPROTO`` as written, ``(not set)``
when missing, which Red Hat reads as none), ``address`` (``IPADDR``) and ``config`` (``ifcfg``),
all on the ``BOOTPROTO`` line, with that line as an event. Azure VMs must take their address by
DHCP: the fabric's address (option 245) comes with it (cause ``dhcp-disabled``).
"""

from __future__ import annotations

import re

from .base import Parsed, SourceFile, SourceSpec
from .commands._common import event, fact, line_of, parsed

ASSIGN = re.compile(r"^[ \t]*(?P<k>[A-Z][A-Z0-9_]*)=(?P<v>.*?)[ \t]*$", re.M)
DHCP = re.compile(r"(?i)^(?:dhcp\S*|bootp)$")


def parse(f: SourceFile) -> Parsed:
    text = f.text
    values: dict[str, tuple[str, int]] = {}
    for m in ASSIGN.finditer(text):
        values[m["k"]] = (m["v"].strip().strip("\"'"), line_of(text, m.start()))
    name = values.get("DEVICE", (re.sub(r"^.*ifcfg-", "", f.path), 0))[0]
    if name in ("lo", "") or name.endswith((".bak", ".orig")):
        return parsed([], [])
    method, line = values.get("BOOTPROTO", ("(not set)", 1))
    dhcp = "yes" if DHCP.match(method) else "no"
    subject = f"netconf:{name}"
    facts = [fact(SPEC.name, f, line, subject, k, v) for k, v in
             (("dhcp4", dhcp), ("method", method), ("address", values.get("IPADDR", ("", 0))[0]), ("config", "ifcfg"))]
    row = text.splitlines()[line - 1].strip() if "BOOTPROTO" in values else f"{f.path}: no BOOTPROTO"
    level = "INFO" if dhcp == "yes" else "WARNING"
    return parsed([event(SPEC.name, f, line, f"{name}: address by {method} (dhcp4={dhcp})", row, level)], facts)


SPEC = SourceSpec(
    name="ifcfg",
    patterns=(r"(^|/)etc/sysconfig/network(?:-scripts)?/ifcfg-[^/]+$", r"(^|/)ifcfg-[^/]+$"),
    parse=parse,
    description="ifcfg-<interface>: BOOTPROTO (DHCP or static address)",
    platform="linux",
    priority=20,
    example_path="etc/sysconfig/network-scripts/ifcfg-eth0",
)
