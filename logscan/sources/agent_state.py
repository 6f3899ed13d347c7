"""The Linux agent's goal-state cache under ``/var/lib/waagent`` → facts and goal-state events.

Which files, and why they matter for a Backup failure (format doc ``linux-agent.md`` §4):

* ``GoalState.N.xml`` / ``ExtensionsConfig.N.xml`` (agents ≤ 2.7, in Lib.Dir) and
  ``history/<dir>/GoalState.xml`` / ``ExtensionsConfig.xml`` / ``VmSettings.json`` (2.8+, the
  older dirs zipped; ``bundle.py`` shows a zip as a folder named after it). They say which
  extension versions the platform asked for, in which state, with which settings ``seqNo``:
  a Backup job is a new VMSnapshotLinux ``seqNo``. Several goal states usually sit side by
  side, so every fact carries its file and the goal state's time (``createdOnTicks``, else the
  history dir's name) and the newest can be chosen later.
* ``HostingEnvironmentConfig.xml`` / ``SharedConfig.xml``: the VM (role instance) name.
* ``VmSettings*.json`` ``inVMMetadata``: VM id, subscription, resource group, location, size.
* ``Incarnation``, ``WireServerEndpoint``, ``ovf-env.xml`` (only ``ProvisionGuestAgent`` and
  the host name; the file also holds the provisioning password, which is never read out).

2.8+ agents leave ``GoalState.1.xml`` = ``<xml>empty placeholder file</xml>`` behind; it is
read without error and yields nothing.

All XML goes through ``defusedxml`` with DTDs refused: a bundle is untrusted input, and an
entity bomb or an external entity (which would read files of the machine running logscan)
becomes an ``unsafe-xml`` ingest error. Settings (``RuntimeSettings``), status-upload and
artifacts-profile URLs are never read: they carry protectedSettings and SAS tokens.

One INFO event per extension per goal state ("Goal state incarnation 12:
Microsoft.Azure.RecoveryServices.VMSnapshotLinux 1.0.9217.0 enabled, seqNo 5") puts goal
states on the timeline next to the logs that acted on them.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone

from ..errors import IngestError
from ._goal_state import fabric_vm_name, hosting_vm_name, read_extensions_config, read_goal_state
from ._structured import Rows, find_all, first, kind_of, line_of, local, parse_xml, text_of, ticks_to_datetime
from .base import Parsed, SourceFile, SourceSpec

NAME = "agent_state"

# Where the agent keeps its state: directly in a waagent/ folder, in a history/<dir>/ folder
# (a zipped history dir shows as a folder), or at the bundle root (a flattened Lib.Dir copy).
_WHERE = r"(?:^|(?:^|/)waagent/|(?:^|/)history/[^/]+/)"

_KINDS: tuple[tuple[str, str], ...] = (
    ("goal_state", r"GoalState(?:\.\d+)?\.xml$"),
    ("extensions_config", r"ExtensionsConfig(?:\.\d+)?\.xml$"),
    ("hosting_env", r"HostingEnvironmentConfig(?:\.\d+)?\.xml$"),
    ("shared_config", r"SharedConfig(?:\.\d+)?\.xml$"),
    ("vm_settings", r"VmSettings(?:\.\d+)?\.json$"),
    ("incarnation", r"Incarnation$"),
    ("ovf_env", r"ovf-env\.xml$"),
    ("wireserver_endpoint", r"WireServerEndpoint$"),
)
_KIND_RE = [(k, re.compile(_WHERE + p, re.IGNORECASE)) for k, p in _KINDS]

# history/<dir>/...: 2.8+ "2024-05-30T13-15-40__3[-etag]", ≤ 2.7 "2019-05-01T12:34:56.123456[_incarnation_3]".
HISTORY_RE = re.compile(
    r"(?:^|/)history/(?P<dir>(?P<date>\d{4}-\d{2}-\d{2})T(?P<h>\d{2})[-:](?P<m>\d{2})[-:](?P<s>\d{2})(?:\.(?P<frac>\d{1,6}))?"
    r"(?:__(?P<inc>\d+)(?:-[^/]*)?|_incarnation_(?P<inc_old>\d+))?)/[^/]+$",
    re.IGNORECASE,
)
_FILE_N_RE = re.compile(r"\.(\d+)\.(?:xml|json)$", re.IGNORECASE)
_PLACEHOLDER = "xml"  # root element of "<xml>empty placeholder file</xml>"


# ---------------------------------------------------------------------------------------
# History dir names (also used by ext_status)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryInfo:
    """What a history dir's name says about the goal state inside it."""

    dir: str
    time: datetime  # when the agent archived it (its own utcnow)
    incarnation: str | None


def history_info(path: str) -> HistoryInfo | None:
    """The history dir a file sits in, with the time and incarnation its name encodes."""
    m = HISTORY_RE.search(path)
    if not m:
        return None
    frac = (m["frac"] or "0").ljust(6, "0")
    try:
        t = datetime.fromisoformat(f"{m['date']}T{m['h']}:{m['m']}:{m['s']}.{frac}").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return HistoryInfo(m["dir"], t, m["inc"] or m["inc_old"])


# ---------------------------------------------------------------------------------------
# Per-file readers
# ---------------------------------------------------------------------------------------


def _goal_state(root: ET.Element, text: str, rows: Rows) -> None:
    doc = read_goal_state(root)
    rows.fact("goal_state", "incarnation", doc.incarnation, line_of(text, "<Incarnation>")[0])
    rows.fact("goal_state", "container_id", doc.container_id, line_of(text, "<ContainerId>")[0])
    start = 0
    for instance in doc.role_instances:
        line, start = line_of(text, "<InstanceId>", start)
        rows.fact("goal_state", "role_instance", instance, line)
        start += 1


def _extensions_config(root: ET.Element, text: str, rows: Rows, hist: HistoryInfo | None) -> None:
    doc = read_extensions_config(root)
    inc = doc.incarnation or (hist.incarnation if hist else None)
    created = doc.created
    time_raw = doc.created_raw if created is not None else (hist.dir if hist else None)
    if created is not None:
        rows.time = created
    rows.fact("goal_state", "incarnation", inc, line_of(text, "goalStateIncarnation")[0])
    if created is not None:
        rows.fact("goal_state", "created", created.isoformat(), line_of(text, "createdOnTicks")[0])

    pos = 0
    for fam_name, fam_version in doc.ga_families:
        line, pos = line_of(text, "<GAFamily>", pos)
        pos += 1
        rows.fact("agent", "ga_family", fam_name, line)
        rows.fact("agent", "ga_family_version", fam_version, line)

    pos = max(text.find("<Plugins"), 0)
    for p in doc.plugins:
        name, version, state, seq, multi = p.name, p.version, p.state, p.seq, p.multi
        line, pos = line_of(text, f'name="{name}"', pos)
        pos += 1
        subject = f"extension:{name}"
        rows.fact(subject, "version", version, line)
        rows.fact(subject, "state", state, line)
        rows.fact(subject, "sequence", seq, line)
        for ext_name, ext_seq, ext_state in multi:
            rows.fact(f"{subject}.{ext_name}", "sequence", ext_seq, line)
            rows.fact(f"{subject}.{ext_name}", "state", ext_state, line)
        what = _plugin_summary(name, version, state, seq, multi)
        excerpt = f'<Plugin name="{name}" version="{version}" state="{state}" autoUpgrade="{p.auto_upgrade}" />'
        if seq is not None:
            excerpt += f'\n<RuntimeSettings seqNo="{seq}">'
        rows.event(
            line=line, time_raw=time_raw, level="INFO", extension=name, ext_version=version,
            message=f"Goal state incarnation {inc}: {what}", text=excerpt,
        )
    if not doc.plugins:
        rows.event(line=1, time_raw=time_raw, level="INFO", message=f"Goal state incarnation {inc}: no extensions",
                   text=f'<Extensions goalStateIncarnation="{inc}">')


def _plugin_summary(name: str, version: object, state: object, seq: object, multi: list) -> str:
    what = f"{name} {version} {state}"
    if seq is not None:
        what += f", seqNo {seq}"
    if multi:
        what += "; " + "; ".join(f"{n} {st} seqNo {sq}" for n, sq, st in multi)
    if seq is None and not multi:
        what += ", no settings"
    return what


def _hosting_env(root: ET.Element, text: str, rows: Rows) -> None:
    name, where = hosting_vm_name(root)
    line = line_of(text, f"<{where}")[0] if name else None
    rows.fact("vm", "vm_name", name, line)


def _shared_config(root: ET.Element, text: str, rows: Rows) -> None:
    inc = first(root, "Incarnation")
    if inc is not None:
        rows.fact("vm", "vm_name", fabric_vm_name(inc.get("instance")), line_of(text, "<Incarnation")[0])
    pos = 0
    for inst in find_all(root, "Instance"):
        line, pos = line_of(text, "<Instance ", pos)
        pos += 1
        rows.fact("vm", "private_ip", inst.get("address"), line)


def _ovf_env(root: ET.Element, text: str, rows: Rows) -> None:
    # Only these two elements are read: the same file carries UserPassword and SSH keys.
    rows.fact("vm", "hostname", text_of(next(find_all(root, "HostName"), None)), line_of(text, "HostName>")[0])
    pga = text_of(next(find_all(root, "ProvisionGuestAgent"), None))
    rows.fact("agent", "provision_guest_agent", pga.lower() if pga else None, line_of(text, "ProvisionGuestAgent>")[0])


def _vm_settings(f: SourceFile, rows: Rows, hist: HistoryInfo | None) -> None:
    try:
        doc = json.loads(f.text)
    except json.JSONDecodeError as exc:
        raise IngestError("parse", f"invalid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise IngestError("parse", "VmSettings is not a JSON object")
    text = f.text
    modified = ticks_to_datetime(doc.get("extensionsLastModifiedTickCount"))
    if rows.time is None and modified is not None:
        rows.time = modified
    time_raw = hist.dir if hist else (str(doc.get("extensionsLastModifiedTickCount")) if modified else None)

    meta = doc.get("inVMMetadata")
    if isinstance(meta, dict):
        for src, key in (("vmName", "vm_name"), ("vmId", "vm_id"), ("subscriptionId", "subscription_id"),
                         ("resourceGroupName", "resource_group"), ("location", "location"), ("vmSize", "vm_size")):
            rows.fact("vm", key, meta.get(src) if isinstance(meta.get(src), str) else None, line_of(text, f'"{src}"')[0])
    pos = max(text.find('"gaFamilies"'), 0)
    for fam in doc.get("gaFamilies") or []:
        if isinstance(fam, dict):
            line, pos = line_of(text, '"name"', pos)
            pos += 1
            rows.fact("agent", "ga_family", fam.get("name"), line)
            rows.fact("agent", "ga_family_version", fam.get("version"), line)

    inc = hist.incarnation if hist else None
    m = _FILE_N_RE.search(f.path)
    if inc is None and m:
        inc = m.group(1)
    label = f"incarnation {inc}" if inc else f"vmSettings inSvdSeqNo {doc.get('inSvdSeqNo')}"
    source = doc.get("extensionGoalStatesSource") or "vmSettings"
    if inc:
        rows.fact("goal_state", "incarnation", inc)
    pos = max(text.find('"extensionGoalStates"'), 0)
    goal_states = [g for g in doc.get("extensionGoalStates") or [] if isinstance(g, dict)]
    for g in goal_states:
        name, version, state = str(g.get("name") or ""), g.get("version"), g.get("state")
        line, pos = line_of(text, f'"{name}"', pos)
        pos += 1
        seq = g.get("settingsSeqNo")
        subject = f"extension:{name}"
        rows.fact(subject, "version", version, line)
        rows.fact(subject, "state", state, line)
        rows.fact(subject, "sequence", seq, line)
        what = _plugin_summary(name, version, state, seq, [])
        excerpt = json.dumps({"name": name, "version": version, "state": state, "settingsSeqNo": seq})
        rows.event(line=line, time_raw=time_raw, level="INFO", extension=name, ext_version=version,
                   message=f"Goal state {label} ({source}): {what}", text=excerpt)
    if not goal_states:
        rows.event(line=1, time_raw=time_raw, level="INFO", message=f"Goal state {label} ({source}): no extensions",
                   text=json.dumps({"inSvdSeqNo": doc.get("inSvdSeqNo"), "extensionGoalStates": []}))


def _single_value(f: SourceFile, pattern: str, what: str) -> str:
    value = f.text.strip()
    if not re.fullmatch(pattern, value):
        raise IngestError("parse", f"{what} expected, found {value[:40]!r}")
    return value


def parse(f: SourceFile) -> Parsed:
    """Read one agent state file into facts (and goal-state events)."""
    kind = kind_of(f.path, _KIND_RE)
    hist = history_info(f.path)
    rows = Rows(NAME, f.display, hist.time if hist else None)
    if kind == "incarnation":
        rows.fact("goal_state", "incarnation", _single_value(f, r"\d+", "an incarnation number"), 1)
        return rows.parsed()
    if kind == "wireserver_endpoint":
        rows.fact("agent", "wireserver_endpoint", _single_value(f, r"[0-9A-Za-z.:\-\[\]]+", "an address"), 1)
        return rows.parsed()
    if kind == "vm_settings":
        _vm_settings(f, rows, hist)
        return rows.parsed()
    if kind is None:
        raise IngestError("unsupported", "not an agent state file this parser knows")

    text = f.text
    root = parse_xml(text)
    if local(root.tag) == _PLACEHOLDER:
        return rows.parsed()  # 2.8+ leaves "<xml>empty placeholder file</xml>" behind
    readers = {
        "goal_state": lambda: _goal_state(root, text, rows),
        "extensions_config": lambda: _extensions_config(root, text, rows, hist),
        "hosting_env": lambda: _hosting_env(root, text, rows),
        "shared_config": lambda: _shared_config(root, text, rows),
        "ovf_env": lambda: _ovf_env(root, text, rows),
    }
    readers[kind]()
    return rows.parsed()


SPEC = SourceSpec(
    name=NAME,
    patterns=tuple(_WHERE + p for _, p in _KINDS),
    parse=parse,
    description="Agent goal-state cache: GoalState/ExtensionsConfig/HostingEnvironmentConfig/SharedConfig XML, "
    "VmSettings, Incarnation, ovf-env.xml, WireServerEndpoint (Lib.Dir and history/)",
    platform="linux",
    priority=30,
    example_path="var/lib/waagent/history/2024-05-30T13-15-40__3/ExtensionsConfig.xml",
)
