"""The one reader of the goal-state XML family (``GoalState``, ``ExtensionsConfig``,
``HostingEnvironmentConfig``), for the Linux agent's cache and the Windows agent's config.

The WireServer hands both agents the same documents, so what they say is read here once, into
plain values; ``agent_state`` (Linux) and ``win_agent_config`` (Windows) only decide which
facts and events they write and with which line. Element and attribute names are matched by
local name in any case (the .NET agent's copies vary the casing; the Linux ones never do, so
they read the same as before). The caller parses the XML safely (``_structured.parse_xml``).

Nothing here reads settings text except where a caller asks for the ``RuntimeSettings`` of a
plugin (Windows reads its public part; Linux never does).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from ._structured import attr, children, local, text_of, ticks_to_datetime


def _all(root: ET.Element, name: str) -> list[ET.Element]:
    """Every element named ``name`` (any case, any namespace) below and including ``root``."""
    low = name.lower()
    return [e for e in root.iter() if local(e.tag).lower() == low]


def _first(root: ET.Element, *path: str) -> ET.Element | None:
    found = children(root, *path, ignore_case=True)
    return found[0] if found else None


def child_text(el: ET.Element, *names: str) -> str | None:
    """Text of the first element down the path of local names, any case."""
    return text_of(_first(el, *names))


@dataclass
class GoalStateDoc:
    incarnation: str | None
    container_id: str | None
    role_instances: list[str | None]


def read_goal_state(root: ET.Element) -> GoalStateDoc:
    """``<GoalState>``: incarnation, container and its role instances, in document order."""
    return GoalStateDoc(
        incarnation=child_text(root, "Incarnation"),
        container_id=child_text(root, "Container", "ContainerId"),
        role_instances=[child_text(ri, "InstanceId") for ri in _all(root, "RoleInstance")],
    )


def fabric_vm_name(instance: str | None) -> str | None:
    """The VM name from a role instance name: the fabric names an ARM VM's instance ``_<vmName>``."""
    if not instance:
        return None
    return instance[1:] if instance.startswith("_") and len(instance) > 1 else instance


def hosting_vm_name(root: ET.Element) -> tuple[str | None, str]:
    """``HostingEnvironmentConfig``: (VM name, the element it came from: ``Incarnation`` or ``Role``)."""
    inc = _first(root, "Incarnation")
    name = attr(inc, "instance") if inc is not None else None
    if name:
        return fabric_vm_name(name), "Incarnation"
    role = _first(root, "Role")
    return (fabric_vm_name(attr(role, "name")), "Role") if role is not None else (None, "")


@dataclass
class PluginView:
    """One ``Plugins/Plugin`` with the settings sequence of its ``PluginSettings`` entry."""

    name: str
    version: str | None
    state: str | None
    auto_upgrade: str | None
    seq: str | None  # single-config RuntimeSettings@seqNo
    multi: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # (name, seqNo, state)


@dataclass
class PluginSettingsView:
    """One ``PluginSettings/Plugin``: its ``RuntimeSettings`` (seqNo, JSON text) in order."""

    name: str
    version: str | None
    runtime: list[tuple[str | None, str | None]]


@dataclass
class ExtensionsConfigDoc:
    incarnation: str | None
    created_raw: str | None
    created: datetime | None
    location: str | None
    ga_families: list[tuple[str | None, str | None]]
    plugins: list[PluginView]
    settings: list[PluginSettingsView]


def _plugin_settings(root: ET.Element) -> list[PluginSettingsView]:
    out = []
    for ps in _all(root, "PluginSettings"):
        for p in ps:
            if local(p.tag).lower() != "plugin":
                continue
            runtime = [(attr(rs, "seqNo"), rs.text) for rs in p if local(rs.tag).lower() == "runtimesettings"]
            out.append(PluginSettingsView(attr(p, "name") or "", attr(p, "version"), runtime))
    return out


def read_extensions_config(root: ET.Element) -> ExtensionsConfigDoc:
    """``<Extensions>``: incarnation, creation time, agent families, plugins and their seqNo."""
    meta = _first(root, "InVMGoalStateMetaData")
    created_raw = attr(meta, "createdOnTicks") if meta is not None else None
    settings = _plugin_settings(root)
    by_key: dict[tuple[str, str | None], ET.Element] = {}
    for ps in _all(root, "PluginSettings"):
        for p in ps:
            if local(p.tag).lower() == "plugin":
                by_key.setdefault((attr(p, "name") or "", attr(p, "version")), p)
                by_key.setdefault((attr(p, "name") or "", None), p)
    plugins = []
    for group in _all(root, "Plugins"):
        for p in group:
            if local(p.tag).lower() != "plugin":
                continue
            name, version = attr(p, "name") or "", attr(p, "version")
            ps = by_key.get((name, version)) or by_key.get((name, None))
            rs = next((e for e in ps if local(e.tag).lower() == "runtimesettings"), None) if ps is not None else None
            multi = [(attr(e, "name") or "", attr(e, "seqNo"), attr(e, "state")) for e in (_all(ps, "ExtensionRuntimeSettings") if ps is not None else [])]
            plugins.append(PluginView(name, version, attr(p, "state"), attr(p, "autoUpgrade"), attr(rs, "seqNo") if rs is not None else None, multi))
    return ExtensionsConfigDoc(
        incarnation=attr(root, "goalStateIncarnation"),
        created_raw=created_raw,
        created=ticks_to_datetime(created_raw) if created_raw is not None else None,
        location=child_text(root, "GuestAgentExtension", "Location"),
        ga_families=[(child_text(f, "Name"), child_text(f, "Version")) for f in _all(root, "GAFamily")],
        plugins=plugins,
        settings=settings,
    )
