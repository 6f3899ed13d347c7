"""Tell what a text is by its content, when its name does not say (one file, stdin, a paste).

Bundles name their files (``var/log/waagent.log``), but a file attached to a ticket is called
``case.txt`` and a paste has no name at all. Each kind here has a *content signature*: a few
line-anchored regexes with weights, counted over the first :data:`HEAD_CHARS` characters, so
a text's score for a kind is how many of its lines look like that kind. The best score wins
when it passes :data:`MIN_SCORE`; a tie goes to the kind listed first (the more specific).

The chosen kind also gives the *implied path*: the path the file would have in a collected
bundle (``var/log/waagent.log``), which parsers and signatures scoped to a source see, so a
file read alone behaves as it would at its place.
"""

from __future__ import annotations

import re
from functools import cache

#: How much of a text is looked at.
HEAD_CHARS = 32 * 1024
#: Below this score a text is not claimed by any kind.
MIN_SCORE = 2.0

_TS_ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"
_TS_OLD = r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d"
_LVL = r"(?:VERBOSE|INFO|WARNING|ERROR)"

#: kind → ((regex, weight per matching line), ...). Order matters for ties: specific first.
SIGNATURES: dict[str, tuple[tuple[str, float], ...]] = {
    "vm_health_report": ((r"Microsoft Azure VM Health Report", 20),),
    "instance_metadata": ((r'"compute"\s*:\s*\{', 4), (r'"vmId"\s*:', 4), (r'"azEnvironment"\s*:', 2)),
    "waagent_version": ((r"^WALinuxAgent - \d", 6), (r"^Goal state agent: \d", 6), (r"^Python: \d", 1)),
    "systemctl_status": (
        (r"^\s*(?:●|\*|×|○)?\s*[\w@.\\-]+\.(?:service|socket|timer)\s+-\s", 3),
        (r"^\s+Loaded: (?:loaded|not-found|masked|error|bad-setting)", 5),
        (r"^\s+Active: (?:active|inactive|failed|activating|deactivating|reloading)", 5),
        (r"^\s+Main PID: \d+", 2),
        (r"^\s+Process: \d+ Exec", 2),
    ),
    "vssadmin_writers": ((r"^\s*Writer name: ", 5), (r"^\s+State: \[\d+\]", 4), (r"^\s+Last error: ", 2), (r"vssadmin \d", 2)),
    "service_query": (
        (r"^\s*SERVICE_NAME: ", 5),
        (r"^\s+STATE\s+: \d+\s+\w+", 4),
        (r"^\s*Status\s+Name\s+DisplayName", 6),
        (r"^\s*(?:Running|Stopped|StartPending|StopPending|Paused)\s+\S+\s+\S", 1),
    ),
    "process_list": (
        (r"^\s*UID\s+PID\s+PPID", 6),
        (r"^\s*USER\s+PID\s+%CPU", 6),
        (r"^\s*PID\s+TTY\s+", 5),
        (r"^Image Name\s+PID\s+Session Name", 6),
        (r"^\s*Handles\s+NPM\(K\)", 6),
    ),
    "ip_route": ((r"^default via \d", 5), (r"^\d{1,3}(?:\.\d{1,3}){3}(?:/\d+)? (?:via|dev) ", 2)),
    "firewall_rules": (
        (r"^-[PAN] [A-Za-z_][\w-]*", 3),
        (r"^\*(?:filter|nat|mangle|security|raw)\s*$", 3),
        (r"^table (?:inet|ip|ip6|arp|bridge|netdev) \S+ \{", 5),
        (r"^Chain [A-Z_]+ \(policy", 3),
    ),
    "mount": ((r"^\S+ on /\S* type \S+ \(", 3),),
    "os_release": ((r'^NAME="?', 2), (r"^VERSION_ID=", 3), (r"^ID=", 2), (r"^PRETTY_NAME=", 2)),
    "portal_error": (
        (r"^\s*Error Code\s*\|", 6),
        (r"^\s*Error Message\s*\|", 3),
        (r"^\s*Recommended Action\s*\|", 3),
        (r"statusMessage\s*:", 4),
        (r'"code"\s*:\s*\\?"(?:VMExtensionProvisioningError|ResourceDeploymentFailure|DeploymentFailed)', 4),
    ),
    "waappagent_log": (
        (r"^\[\d{8}\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", 5),
        (r"^\[\d+\] \[\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", 5),
        (r"^\[(?:INFO|WARN|WARNING|ERROR|TRACE|VERBOSE)\]\s", 1),
    ),
    "win_plugin_log": (
        (r"^\[\d\d/\d\d/\d{4} \d\d:\d\d:\d\d(?:\.\d+)?\] Execut", 6),
        (r"^Execution (?:Output|Error):", 4),
        (r"^\d{4}-\d\d-\d\dT[\d:.]+Z?\t\[\w+\]:\t", 5),
        (r"^VERBOSE: \[\d{4}-\d\d-\d\d", 5),
        (r"^\[\d+\+\d+\] \[", 5),
        (r"\bsequence number\b.*\b(?:not greater|most recently executed)", 3),
    ),
    "waagent_log": (
        (rf"^{_TS_ISO} {_LVL} ", 3),
        (rf"^{_TS_OLD}\.\d{{6}} {_LVL} ", 3),
        (rf"^{_TS_OLD} (?:ERROR:|WARNING:|\[)", 2),
        (r"^(?:ERROR|WARNING):", 1),
        (rf"^{_LVL} (?:Daemon|ExtHandler|\[)", 2),
        (r"\[Extension(?:Operation)?Error\]|Non-zero exit code: \d+", 3),
        (r"^\s+File \"[^\"]*(?:azurelinuxagent|waagent)", 1),
        (r"HttpError: \[\d+\]|\(0000\d\d\)|\[0000\d\d\]", 1),
        (r"^Waagent - ", 2),
        (r"^\[(?:stdout|stderr)\]\s*$", 1),
    ),
    "syslog": (
        (r"^[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d{1,2} ", 2),
        (r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* \S+ [^\s:\[]+(?:\[\d+\])?: ", 2),
        (r"^-- (?:Logs begin at|No entries|Journal begins|Reboot)", 4),
        (r"^(?:waagent|python[\d.]*|WALinuxAgent)\[\d+\]: ", 2),
    ),
    "ext_status": (
        (r'^\s*\[?\s*\{\s*"version"', 2),
        (r'"formattedMessage"\s*:', 3),
        (r'"substatus"\s*:', 2),
        (r'"status"\s*:\s*\{', 2),
    ),
}

#: What an echoed command's output is.
COMMANDS: tuple[tuple[str, str], ...] = (
    (r"^(?:sudo\s+)?systemctl\s+(?:--\S+\s+)*status\b", "systemctl_status"),
    (r"^(?:sudo\s+)?journalctl\b", "syslog"),
    (r"^(?:sudo\s+)?(?:cat|tail|head|less|more|grep|zcat|zgrep|egrep)\b.*\bwaagent\.log", "waagent_log"),
    (r"^(?:sudo\s+)?(?:cat|tail|head|less|more|grep|zcat)\b.*/var/log/(?:messages|syslog)", "syslog"),
    (r"^(?:sudo\s+)?(?:cat|less|more)\b.*os-release", "os_release"),
    (r"^(?:sudo\s+)?(?:ps|pgrep)\b|^tasklist\b|^Get-Process\b", "process_list"),
    (r"^(?:sudo\s+)?ip\s+(?:-\d\s+)?r(?:oute)?\b|^route\b", "ip_route"),
    (r"^(?:sudo\s+)?(?:iptables|ip6tables)(?:-save)?\b|^(?:sudo\s+)?nft\b", "firewall_rules"),
    (r"^(?:sudo\s+)?(?:mount|findmnt)\b|^cat /proc/mounts", "mount"),
    (r"^(?:sudo\s+)?waagent\s+-?-version\b", "waagent_version"),
    (r"^vssadmin\s+list\s+writers\b", "vssadmin_writers"),
    (r"^(?:sc(?:\.exe)?\s+(?:query|queryex|qc)\b|Get-Service\b)", "service_query"),
    (r"^(?:Get-EventLog|Get-WinEvent|wevtutil)\b", "event_export"),
)

#: A part of a paste of the first kind keeps following blocks of these kinds (``systemctl
#: status`` ends with the unit's journal lines).
ABSORBS: dict[str, tuple[str, ...]] = {
    "systemctl_status": ("syslog", "waagent_log"),
    "syslog": ("waagent_log",),
    "waagent_log": ("ext_status",),
    "event_export": ("waagent_log", "syslog"),
}

#: Where a file of each kind sits in a collected bundle (parsers and signatures see this path).
IMPLIED_PATHS: dict[str, str] = {
    "waagent_log": "var/log/waagent.log",
    "syslog": "var/log/syslog",
    "systemctl_status": "sos_commands/systemd/systemctl_status_--all",
    "vssadmin_writers": "vssadmin_list_writers.txt",
    "service_query": "sc_query.txt",
    "process_list": "sos_commands/process/ps_-ef",
    "ip_route": "sos_commands/networking/ip_route",
    "firewall_rules": "sos_commands/firewall_tables/iptables_-S",
    "mount": "sos_commands/filesys/mount",
    "waagent_version": "sos_commands/azure/waagent_--version",
    "vm_health_report": "vm_health_report.json",
    "instance_metadata": "sos_commands/azure/instance_metadata.json",
    "os_release": "etc/os-release",
    "portal_error": "portal-error.txt",
    "waappagent_log": "WindowsAzure/Logs/WaAppAgent.log",
    "ext_status": "var/lib/waagent/Unknown.Extension-0.0/status/0.status",
    "event_export": "events/{name}",
}


@cache
def _compiled() -> dict[str, tuple[tuple[re.Pattern[str], float], ...]]:
    return {k: tuple((re.compile(rx, re.MULTILINE), w) for rx, w in sigs) for k, sigs in SIGNATURES.items()}


def scores(text: str) -> dict[str, float]:
    """Each kind's score over the head of ``text``: the weighted count of matching lines."""
    head = text[:HEAD_CHARS]
    out: dict[str, float] = {}
    for kind, sigs in _compiled().items():
        total = sum(w * min(len(rx.findall(head)), 50) for rx, w in sigs)
        if total:
            out[kind] = total
    from .event_exports import detect  # event exports have their own detector (many forms)

    form = detect(head)
    if form is not None:
        out["event_export"] = out.get("event_export", 0) + (3 if form == "description" else 40)
    return out


def sniff_text(text: str) -> str | None:
    """The kind ``text`` is, or None when no kind scores at least :data:`MIN_SCORE`."""
    sc = scores(text)
    if not sc:
        return None
    order = [*SIGNATURES, "event_export"]
    best = max(sc, key=lambda k: (sc[k], -order.index(k)))
    return best if sc[best] >= MIN_SCORE else None


def command_kind(command: str) -> str | None:
    """The kind of output an echoed command produces (``systemctl status waagent``)."""
    cmd = command.strip().replace("\u2013", "-").replace("\u2014", "-")
    for rx, kind in COMMANDS:
        if re.search(rx, cmd, re.IGNORECASE):
            return kind
    return None


_EXT_V20 = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(?P<name>[A-Za-z][\w.]+)-(?P<ver>\d+(?:\.\d+)+)\]", re.MULTILINE)
_AGENT_STAMP = re.compile(rf"^(?:{_TS_ISO}|{_TS_OLD}\.\d{{6}}) ", re.MULTILINE)
_WIN_PLUGIN = re.compile(r"Plugins\\+(?P<name>[A-Za-z][\w.]+)\\+(?P<ver>\d+(?:\.\d+)+)")


def implied_path(kind: str, text: str, name: str = "") -> tuple[str, str]:
    """``(kind, path)``: the path a file of ``kind`` would have in a bundle.

    Two kinds are refined by content: waagent-format lines that are all a HandlerUtil
    extension's own (``YYYY/MM/DD hh:mm:ss [Name-Ver]`` and no agent stamps) are that
    extension's ``extension.log``; Windows handler logs go under the plugin they name.
    """
    head = text[:HEAD_CHARS]
    if kind == "waagent_log":
        ext = _EXT_V20.search(head)
        if ext and not _AGENT_STAMP.search(head):
            return "extension_log", f"var/log/azure/{ext['name']}/extension.log"
    if kind == "win_plugin_log":
        m = _WIN_PLUGIN.search(head)
        ext, ver = (m["name"], m["ver"]) if m else ("Unknown.Extension", "0.0")
        file = "CommandExecution.log" if re.search(r"^Execution (?:Output|Error):|\] Executing:", head, re.M) else "Handler.log"
        return kind, f"WindowsAzure/Logs/Plugins/{ext}/{ver}/{file}"
    if kind == "firewall_rules" and re.search(r"^table ", head, re.M):
        return kind, "sos_commands/nftables/nft_list_ruleset"
    if kind == "process_list" and re.search(r"^Image Name|^\s*Handles\s+NPM", head, re.M):
        return kind, "tasklist.txt"
    path = IMPLIED_PATHS.get(kind, f"{kind}/{name or 'input'}")
    return kind, path.format(name=_safe_name(name))


def _safe_name(name: str) -> str:
    base = re.sub(r"[^\w.-]+", "_", name.rsplit("/", 1)[-1]) or "input.txt"
    return base if base.lower().endswith((".txt", ".xml", ".csv", ".tsv", ".log")) else base + ".txt"
