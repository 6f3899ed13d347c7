"""``/etc/netplan/*.yaml``: how each interface gets its address (Ubuntu).

Facts ``netconf:<interface>`` (its ``set-name`` when given) keys ``dhcp4`` (yes/no: netplan's
default is no, so an interface without ``dhcp4: true`` takes no DHCP address), ``method``
(``dhcp4`` as written, else ``static`` with ``addresses``, else ``(none)``), ``address`` (the
first of ``addresses``) and ``config`` (``netplan``), on the ``dhcp4:`` line (else the
interface's own line), with that line as an event (cause ``dhcp-disabled`` when no).
"""

from __future__ import annotations

import yaml

from ..errors import IngestError
from .base import Parsed, SourceFile, SourceSpec
from .commands._common import event, fact, parsed

KINDS = ("ethernets", "bonds", "bridges", "vlans", "wifis")
TRUE = {"true", "yes", "on", "y"}


def _map(node: yaml.Node | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def parse(f: SourceFile) -> Parsed:
    text = f.text
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise IngestError("parse", f"netplan file is not YAML: {str(exc)[:200]}") from exc
    network = _map(root).get("network", (None, None))[1]
    lines = text.splitlines()
    events, facts = [], []
    for kind in KINDS:
        for name, (knode, body) in _map(_map(network).get(kind, (None, None))[1]).items():
            conf = _map(body)
            shown = conf["set-name"][1].value if "set-name" in conf and isinstance(conf["set-name"][1], yaml.ScalarNode) else name
            dhcp_node = conf.get("dhcp4", (None, None))[1]
            written = str(dhcp_node.value) if isinstance(dhcp_node, yaml.ScalarNode) else None
            addrs = conf.get("addresses", (None, None))[1]
            first = addrs.value[0].value if isinstance(addrs, yaml.SequenceNode) and addrs.value and isinstance(addrs.value[0], yaml.ScalarNode) else ""
            dhcp = "yes" if (written or "").lower() in TRUE else "no"
            method = written if written is not None else ("static" if first else "(none)")
            line = (conf["dhcp4"][0] if written is not None else knode).start_mark.line + 1
            subject = f"netconf:{shown}"
            facts += [fact(SPEC.name, f, line, subject, k, v) for k, v in
                      (("dhcp4", dhcp), ("method", method), ("address", first), ("config", "netplan"))]
            row = lines[line - 1].strip() if line <= len(lines) else name
            events.append(event(SPEC.name, f, line, f"{shown}: dhcp4 {method} (dhcp4={dhcp})", row, "INFO" if dhcp == "yes" else "WARNING"))
    return parsed(events, facts)


SPEC = SourceSpec(
    name="netplan",
    patterns=(r"(^|/)etc/netplan/[^/]+\.ya?ml$",),
    parse=parse,
    description="netplan configuration: dhcp4 per interface",
    platform="linux",
    priority=20,
    example_path="etc/netplan/50-cloud-init.yaml",
)
