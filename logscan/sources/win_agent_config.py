"""``WindowsAzure/config/*.xml``: the Windows agent's goal state and extensions config → facts.

Goal state / extensions config: plugin names, versions, states, settings seqNo, the VM's
location and (from ``RuntimeSettings``) the public settings. The documents are the ones the
Linux agent caches, so they are read by the shared :mod:`._goal_state` reader; this module only
writes the Windows facts. These files carry protected settings and SAS URLs, which are never
stored. XML only via defusedxml.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from ..errors import IngestError
from ._goal_state import hosting_vm_name, read_extensions_config, read_goal_state
from ._structured import RedactedRows as Rows
from ._structured import line_of, local
from ._structured import parse_xml as safe_xml
from .base import Parsed, SourceFile, SourceSpec
from .win_agent_state import public_settings


def parse_xml(text: str) -> ET.Element:
    """Untrusted XML via defusedxml (DTDs/entities → ``unsafe-xml``), in this parser's wording."""
    return safe_xml(
        text, refused="XML refused: {exc} (DTDs and entities are not allowed)", malformed="invalid XML: {exc}"
    )


def _extensions_config(root: ET.Element, text: str, rows: Rows) -> None:
    doc = read_extensions_config(root)
    rows.fact("goal_state", "incarnation", doc.incarnation, 1)
    created = doc.created
    if created is not None:
        rows.fact("goal_state", "created", created.isoformat(), None, created)
    rows.fact("vm", "location", doc.location, None, created)
    pos = 0
    for p in doc.plugins:
        name = p.name or "unknown"
        line, pos = line_of(text, f'"{name}"', pos, after=True)
        subject = f"extension:{name}"
        rows.fact(subject, "version", p.version, line, created)
        rows.fact(subject, "state", p.state, line, created)
        rows.fact(subject, "auto_upgrade", p.auto_upgrade, line, created)
    pos = max(text.find("<PluginSettings"), 0)
    for ps in doc.settings:
        name = ps.name or "unknown"
        line, pos = line_of(text, f'"{name}"', pos, after=True)
        for seq, body in ps.runtime:
            rows.fact(f"extension:{name}", "sequence", seq, line, created)
            if body and body.strip():
                try:
                    public_settings(rows, name, json.loads(body), line, created)
                except ValueError:
                    rows.fact(f"extension:{name}", "settings_error", "RuntimeSettings is not valid JSON", line, created)


def _goal_state(root: ET.Element, rows: Rows) -> None:
    doc = read_goal_state(root)
    rows.fact("goal_state", "incarnation", doc.incarnation, None)
    rows.fact("goal_state", "container_id", doc.container_id, None)
    for instance in doc.role_instances:
        rows.fact("goal_state", "role_instance", instance, None)


def parse_agent_config(f: SourceFile) -> Parsed:
    """``WindowsAzure/config/*.xml``: extensions config, goal state, hosting environment."""
    rows = Rows(AGENT_CONFIG.name, f.display)
    text = f.text
    if not text.strip():
        raise IngestError("empty", "file holds no XML (only whitespace)")
    root = parse_xml(text)
    kind = local(root.tag).lower()
    if kind == "extensions":
        _extensions_config(root, text, rows)
    elif kind == "goalstate":
        _goal_state(root, rows)
    elif kind == "hostingenvironmentconfig":
        rows.fact("vm", "vm_name", hosting_vm_name(root)[0], None)
    # Other config documents (RDConfig, SharedConfig...) carry nothing logscan uses yet.
    return rows.parsed()


AGENT_CONFIG = SourceSpec(
    name="win_agent_config",
    patterns=(r"(^|/)WindowsAzure/config/[^/]+\.xml$", r"(^|/)config/WireServerRole[^/]*\.xml$"),
    parse=parse_agent_config,
    description="Windows agent goal state / extensions config XML (plugin names, versions, states)",
    platform="windows",
    priority=15,
    example_path="WindowsAzure/config/WireServerRoleExtensionsConfig_00000000-0000-0000-0000-000000000000._vm1.xml",
)

SPECS = [AGENT_CONFIG]
