"""Agent and VM identity outputs: ``waagent --version``, the Instance Metadata Service's
``compute`` document (the sosreport azure plugin's ``instance_metadata.json``) and the
"Microsoft Azure VM Health Report" JSON.

``waagent_version``: facts ``agent/version`` (the installed agent, where: this file),
``agent/goal_state_agent_version``, ``agent/python``, ``os/name``, ``os/version`` (from
``OSUtil``/distro lines when present).

``instance_metadata``: facts ``vm/vm_name``, ``vm/vm_id``, ``vm/location``, ``vm/vm_size``,
``vm/subscription_id``, ``vm/resource_group``, ``vm/os_type``, ``os/name``/``os/version`` from the
image reference when given.

``vm_health_report``: every scalar leaf becomes a fact ``vm_health`` with its dotted path as key;
leaves whose key says status/state/health and whose value is not healthy become WARNING
events. Its layout is not documented, so nothing more is assumed.
"""

from __future__ import annotations

import json
import re

from ...errors import IngestError
from ..base import Parsed, SourceFile, SourceSpec
from ._common import event, fact, line_of, parsed


def parse_version(f: SourceFile) -> Parsed:
    text = f.text
    rows = (
        ("agent", "version", r"^WALinuxAgent - (\d+(?:\.\d+)+)"),
        ("agent", "goal_state_agent_version", r"^Goal state agent: (\d+(?:\.\d+)+)"),
        ("agent", "python", r"^Python: (\d+(?:\.\d+)+)"),
        ("os", "name", r"running on (\w+) "),
        ("os", "version", r"running on \w+ (\S+)"),
    )
    facts, events = [], []
    for subject, key, rx in rows:
        m = re.search(rx, text, re.M)
        if m:
            line = line_of(text, m.start())
            facts.append(fact(SPEC_VERSION.name, f, line, subject, key, m.group(1)))
    for m in re.finditer(r"^.*\S.*$", text, re.M):
        events.append(event(SPEC_VERSION.name, f, line_of(text, m.start()), m.group(0).strip(), m.group(0), "INFO"))
    return parsed(events[:50], facts)


def _json(f: SourceFile) -> object:
    text = f.text.strip().lstrip("\ufeff")
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise IngestError("parse", "no JSON document found")
    try:
        return json.loads(text[start:])
    except (ValueError, RecursionError) as exc:
        raise IngestError("parse", f"JSON could not be read: {str(exc)[:200]}") from exc


IMDS_KEYS = {
    "name": "vm_name", "vmId": "vm_id", "location": "location", "vmSize": "vm_size",
    "subscriptionId": "subscription_id", "resourceGroupName": "resource_group", "osType": "os_type",
}


def parse_imds(f: SourceFile) -> Parsed:
    doc = _json(f)
    compute = doc.get("compute", doc) if isinstance(doc, dict) else None
    if not isinstance(compute, dict):
        raise IngestError("parse", "no instance metadata 'compute' document")
    facts = [fact(SPEC_IMDS.name, f, 1, "vm", key, compute.get(src)) for src, key in IMDS_KEYS.items() if isinstance(compute.get(src), (str, int))]
    image = compute.get("storageProfile", {}).get("imageReference", {}) if isinstance(compute.get("storageProfile"), dict) else {}
    if isinstance(image, dict) and image.get("offer"):
        facts.append(fact(SPEC_IMDS.name, f, 1, "vm", "image", f"{image.get('publisher', '')}:{image.get('offer')}:{image.get('sku', '')}"))
    msg = ", ".join(f"{f_['key']}={f_['value']}" for f_ in facts)
    return parsed([event(SPEC_IMDS.name, f, 1, f"instance metadata: {msg}", msg, "INFO")], facts)


HEALTHY = re.compile(r"(?i)^(?:ok|healthy|ready|running|success(?:ful)?|succeeded|pass(?:ed)?|true|enabled|available|none|n/?a|)$")


def _leaves(node: object, path: str, out: list[tuple[str, object]], depth: int = 0) -> None:
    if depth > 20 or len(out) > 2000:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            _leaves(v, f"{path}.{k}" if path else str(k), out, depth + 1)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _leaves(v, f"{path}[{i}]", out, depth + 1)
    else:
        out.append((path, node))


def parse_health(f: SourceFile) -> Parsed:
    doc = _json(f)
    leaves: list[tuple[str, object]] = []
    _leaves(doc, "", leaves)
    facts = [fact(SPEC_HEALTH.name, f, 1, "vm_health", k, v) for k, v in leaves if v is not None and not isinstance(v, (dict, list))]
    events = []
    for k, v in leaves:
        last = re.split(r"[.\[]", k)[-1].lower()
        if any(w in last for w in ("status", "state", "health", "result")) and isinstance(v, str) and not HEALTHY.match(v.strip()):
            events.append(event(SPEC_HEALTH.name, f, 1, f"{k} = {v}", f"{k}: {v}", "WARNING"))
    return parsed(events, facts)


SPEC_VERSION = SourceSpec(
    name="waagent_version",
    patterns=(r"(^|/)sos_commands/azure/waagent[_ ]-?-version[^/]*$", r"(^|/)waagent[-_ ]-?-version[^/]*$"),
    parse=parse_version,
    description="waagent --version: installed and goal-state agent versions, Python",
    platform="linux",
    priority=20,
    example_path="sos_commands/azure/waagent_--version",
)
SPEC_IMDS = SourceSpec(
    name="instance_metadata",
    patterns=(r"(^|/)sos_commands/azure/instance_metadata\.json$", r"(^|/)instance[-_]metadata\.json$"),
    parse=parse_imds,
    description="Instance Metadata Service compute document (sosreport azure plugin): the VM's identity",
    platform="any",
    priority=20,
    example_path="sos_commands/azure/instance_metadata.json",
)
SPEC_HEALTH = SourceSpec(
    name="vm_health_report",
    patterns=(r"(^|/)[^/]*health[-_ ]?report[^/]*\.json$",),
    parse=parse_health,
    description="Microsoft Azure VM Health Report JSON: every value as a fact, unhealthy states as events",
    platform="any",
    priority=20,
    example_path="vm_health_report.json",
)
SPECS = [SPEC_VERSION, SPEC_IMDS, SPEC_HEALTH]
