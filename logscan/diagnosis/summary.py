"""The "what is this VM" box of a report, read from the facts layer (never recomputed)."""

from __future__ import annotations

from ..facts import Facts

#: waagent.conf keys worth showing in a report (the others stay in the facts frame).
CONF_KEYS = (
    "Extensions.Enabled",
    "Extensions.Enable",
    "Provisioning.Agent",
    "AutoUpdate.Enabled",
    "AutoUpdate.UpdateToLatestVersion",
    "OS.EnableFirewall",
    "HttpProxy.Host",
    "HttpProxy.Port",
    "Logs.Verbose",
)


def facts_summary(facts: Facts) -> dict:
    """Agent version(s), OS, extensions with version/state/status, notable conf values."""
    if not facts.values:
        return {}
    agent = dict(facts.values.get("agent", {}))
    if facts.agent.version:
        agent["effective_version"] = facts.agent.version
    agent["versions_seen"] = facts.agent.seen
    conf = facts.values.get("conf", {})
    return {
        "agent": agent,
        "os": dict(facts.values.get("os", {})),
        "extensions": facts.extensions,
        "conf": {k: conf[k] for k in CONF_KEYS if k in conf},
        "platform": facts.identity.platform,
        "distro": facts.identity.distro,
    }
