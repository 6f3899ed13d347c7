"""DHCP lease files: dhclient (``*.leases``/``*.lease``), NetworkManager and systemd-networkd
(``KEY=VALUE``) and wicked (``lease-*.xml``).

Facts ``dhcp_lease:<interface>`` (the interface the lease names, else the one in the file
name, else the file name) keys ``present`` (yes), ``address``, ``server`` and
``option_245`` (the Azure fabric address DHCP hands out; dhclient writes it as
``option unknown-245``, networkd as ``OPTION_245``), from the last lease in the file, each
with an event. A lease on the VM says DHCP ran; no lease at all is only a weak hint that it
is off (the files may have been cleaned or kept elsewhere).
"""

from __future__ import annotations

import re

from .base import Parsed, SourceFile, SourceSpec
from .commands._common import event, fact, line_of, parsed

IP = r"\d{1,3}(?:\.\d{1,3}){3}"
#: (key, regex with one group): dhclient's lease block, the KEY=VALUE form, wicked's XML.
FIELDS = (
    ("interface", r'^[ \t]*interface[ \t]+"([^"]+)"'),
    ("address", rf"^[ \t]*fixed-address[ \t]+({IP})"),
    ("server", rf"^[ \t]*option[ \t]+dhcp-server-identifier[ \t]+({IP})"),
    ("option_245", r"^[ \t]*option[ \t]+(?:unknown-245|rfc3442-245|azure-\S+)[ \t]+([^;\n]+)"),
    ("address", rf"^ADDRESS=({IP})"),
    ("server", rf"^SERVER_ADDRESS=({IP})"),
    ("option_245", r"^OPTION_245=(\S+)"),
    ("address", rf"<address>({IP})"),
    ("server", rf"<server-id>({IP})"),
)


def _interface_from_name(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    m = re.search(r"(?:dhclient[.-]+|internal-[\w-]*?-|lease-)(?P<i>[a-z][\w]*?)(?:[.-](?:dhcp|leases?|ipv4|xml)\b|$)", base)
    return m["i"] if m else base


def parse(f: SourceFile) -> Parsed:
    text = f.text
    last = text.rfind("lease {")
    body_start = last if last >= 0 else 0
    found: dict[str, tuple[str, int]] = {}
    for key, pattern in FIELDS:
        for m in re.finditer(pattern, text[body_start:], re.M):
            found[key] = (m.group(1).strip(), line_of(text, body_start + m.start()))
    name = found.pop("interface", (_interface_from_name(f.path), 0))[0]
    subject = f"dhcp_lease:{name}"
    facts = [fact(SPEC.name, f, line_of(text, body_start), subject, "present", "yes")]
    facts += [fact(SPEC.name, f, line, subject, k, v) for k, (v, line) in found.items()]
    summary = ", ".join(f"{k}={v}" for k, (v, _) in found.items()) or "no address read"
    return parsed([event(SPEC.name, f, line_of(text, body_start), f"DHCP lease for {name}: {summary}", summary, "INFO")], facts)


SPEC = SourceSpec(
    name="dhcp_lease",
    patterns=(
        r"(^|/)var/lib/dhcp/[^/]*\.leases?$",
        r"(^|/)var/lib/dhclient/[^/]*\.leases?[^/]*$",
        r"(^|/)var/lib/NetworkManager/[^/]*\.lease$",
        r"(^|/)var/lib/wicked/lease-[^/]*\.xml$",
        r"(^|/)run/systemd/netif/leases/[^/]+$",
    ),
    parse=parse,
    description="DHCP lease files (dhclient, NetworkManager, networkd, wicked): address, server, option 245",
    platform="linux",
    priority=20,
    example_path="var/lib/dhcp/dhclient.eth0.leases",
)
