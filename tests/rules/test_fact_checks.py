"""The live-state checks (fact_value / fact_absent kinds) and the fact notes: match and no match."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest

from logscan.errors import SignatureError
from logscan.frames import events_from_records, facts_from_records
from logscan.rules.checks import load_checks, report_notes, run_checks
from logscan.rules.checks.loader import parse_checks
from logscan.rules.checks.notes import parse_notes
from logscan.rules.validate import cause_ids, source_names

from ._support import Bundle

BY_ID = {c.id: c for c in load_checks()}
COLLECTED = datetime(2024, 6, 10, 2, 0, tzinfo=timezone.utc)




def f(subject: str, key: str, value: str, line: int = 1, file: str = "out", source: str = "cmd", t=None) -> dict:
    return {"source": source, "file": file, "line": line, "time": t, "subject": subject, "key": key, "value": value}


def c(key: str, value: str) -> dict:
    """A fact of the collector's manifest (its time is the collection's)."""
    return f("collect", key, value, file="sos_commands/logscan/manifest.json", source="collect_manifest", t=COLLECTED)


def run(check_id: str, facts: list[dict], events: list[dict] | None = None, platform: str = "linux") -> pl.DataFrame:
    b = Bundle(facts_from_records(facts), events_from_records(events or []), coverage={"platform": platform})
    return run_checks(b, None, [BY_ID[check_id]])


def notes_of(text: str) -> list[str]:
    return parse_notes(text, "n.yaml")  # type: ignore[return-value]


NOT_INSTALLED = [c("agent_installed", "no"), c("probe:usr/sbin/waagent", "no"), c("probe:var/lib/waagent", "no"),
                 c("probe:var/lib/waagent/disable_agent", "no"), c("command:azure/waagent_--version", "missing"),
                 c("command:process/ps_-ef", "ok")]

#: (check id, facts, platform, note fragment when it holds, or None when it must not).
CASES = [
    ("collect-agent-not-installed", NOT_INSTALLED, "linux",
     "not installed: none of usr/sbin/waagent, var/lib/waagent exists (commands not found: azure/waagent_--version)"),
    ("collect-agent-not-installed", [c("agent_installed", "yes")], "linux", None),
    ("collect-agent-disabled", [c("agent_disabled", "yes")], "linux", "disable_agent exists"),
    ("collect-agent-disabled", [c("agent_disabled", "no")], "linux", None),
    ("agent-service-down", [f("service:walinuxagent", "loaded", "loaded"), f("service:walinuxagent", "active", "failed")], "linux",
     "the walinuxagent service is failed"),
    ("agent-service-down", [f("service:waagent", "active", "inactive")], "linux", "the waagent service is inactive"),
    ("agent-service-down", [f("service:waagent", "loaded", "not-found"), f("service:waagent", "active", "inactive")], "linux", None),
    ("agent-service-down", [f("service:waagent", "active", "active")], "linux", None),
    ("agent-service-down", [f("service:cron", "active", "failed")], "linux", None),
    ("agent-service-restarting", [f("service:waagent", "active", "activating"), f("service:waagent", "sub", "auto-restart"),
                                  f("service:waagent", "restarts", "5")], "linux", "waiting to restart"),
    ("agent-service-restarting", [f("service:waagent", "active", "activating"), f("service:waagent", "sub", "start")], "linux", None),
    ("agent-service-start-limit", [f("service:waagent", "result", "start-limit-hit")], "linux", "start-limit-hit"),
    ("agent-service-start-limit", [f("service:waagent", "result", "exit-code")], "linux", None),
    ("win-agent-service-stopped", [f("service:RdAgent", "state", "STOPPED")], "windows", "the RdAgent service is STOPPED"),
    ("win-agent-service-stopped", [f("service:WindowsAzureGuestAgent", "state", "Running")], "windows", None),
    ("agent-process-absent", [f("process:systemd", "running", "yes"), f("process:sshd", "running", "yes")], "linux", "no waagent process"),
    ("agent-process-absent", [f("process:systemd", "running", "yes"), f("process:waagent", "running", "yes")], "linux", None),
    ("agent-process-absent", [], "linux", None),  # no process list, no conclusion
    ("agent-process-absent", [f("process:svchost", "running", "yes")], "windows", None),
    ("win-agent-process-absent", [f("process:svchost", "running", "yes")], "windows", "no WindowsAzureGuestAgent"),
    ("win-agent-process-absent", [f("process:WaAppAgent", "running", "yes")], "windows", None),
    ("collect-wireserver-connect", [c("connect:168.63.129.16:80", "timed-out"), c("as_root", "yes")], "linux",
     "168.63.129.16:80 did not connect (timed-out)"),
    ("collect-wireserver-connect", [c("connect:168.63.129.16:32526", "refused")], "windows", "32526 did not connect (refused)"),
    ("collect-wireserver-connect", [c("connect:168.63.129.16:80", "timed-out"), c("as_root", "no")], "linux", None),
    ("collect-wireserver-connect", [c("connect:168.63.129.16:80", "ok")], "linux", None),
    ("wireserver-connect-output", [f("wireserver:80", "reachable", "no")], "linux", "168.63.129.16:80 did not connect"),
    ("wireserver-connect-output", [f("wireserver:80", "reachable", "yes")], "linux", None),
    ("netconf-dhcp-off-eth0", [f("netconf:eth0", "dhcp4", "no")], "linux", "eth0 takes no address by DHCP"),
    ("netconf-dhcp-off-eth0", [f("netconf:eth0", "dhcp4", "yes"), f("netconf:eth1", "dhcp4", "no")], "linux", None),
    ("netconf-dhcp-off", [f("netconf:eth1", "dhcp4", "no")], "linux", "eth1 takes no address"),
    ("dhcp-lease-absent", [c("live", "yes")], "linux", "no DHCP lease file"),
    ("dhcp-lease-absent", [c("live", "yes"), f("dhcp_lease:eth0", "present", "yes")], "linux", None),
    ("dhcp-lease-absent", [c("live", "no")], "linux", None),  # a mounted disk: leases under /run are gone
    ("vss-writer-failed", [f("vss_writer:SqlServerWriter", "state", "Failed")], "windows", "VSS writer 'SqlServerWriter' is Failed"),
    ("vss-writer-failed", [f("vss_writer:SqlServerWriter", "state", "Stable")], "windows", None),
    ("vss-writer-error", [f("vss_writer:System Writer", "last_error", "Timed out")], "windows", "last error: Timed out"),
    ("vss-writer-error", [f("vss_writer:System Writer", "last_error", "No error")], "windows", None),
    ("var-noexec", [f("mount:/var", "noexec", "yes")], "linux", "/var is mounted noexec"),
    ("var-noexec", [f("mount:/var", "noexec", "no"), f("mount:/tmp", "noexec", "yes")], "linux", None),
    ("python-missing", [c("command:python/python3_--version", "missing"), c("command:python/python_--version", "missing")], "linux",
     "neither python3 nor python"),
    ("python-missing", [c("command:python/python3_--version", "ok"), c("command:python/python_--version", "missing")], "linux", None),
    ("python-missing", [c("command:python/python3_--version", "missing")], "linux", None),  # python not tried
    ("collect-reboot-pending", [c("reboot_pending", "yes")], "linux", "reboot is pending"),
    ("collect-reboot-pending", [c("reboot_pending", "no")], "linux", None),
]


@pytest.mark.parametrize(("check_id", "facts", "platform", "note"), CASES, ids=[f"{x[0]}-{i}" for i, x in enumerate(CASES)])
def test_live_state_check(check_id, facts, platform, note):
    hits = run(check_id, facts, platform=platform)
    if note is None:
        assert hits.height == 0
    else:
        assert hits.height == 1 and note in hits["note"][0], hits["note"].to_list()
        assert hits["cause"][0] == BY_ID[check_id].cause


def test_collected_state_does_not_carry_the_collection_time():
    """The collection's time would become the diagnosis' reference time and age the logs."""
    assert run("collect-agent-not-installed", NOT_INSTALLED)["time"][0] is None
    assert run("dhcp-lease-absent", [c("live", "yes")])["time"][0] is None


FW = "sos_commands/firewall_tables/iptables_-S"
AGENT_RULES = [
    "-A OUTPUT -d 168.63.129.16/32 -p tcp -m tcp --dport 53 -j ACCEPT",
    "-A OUTPUT -d 168.63.129.16/32 -p tcp -m owner --uid-owner 0 -j ACCEPT",
    "-A OUTPUT -d 168.63.129.16/32 -p tcp -m conntrack --ctstate INVALID,NEW -j DROP",
    "-A OUTPUT -d 168.63.129.16/32 -p tcp -m owner ! --uid-owner 0 -j DROP",
]


def _firewall(rules: list[str]) -> tuple[list[dict], list[dict]]:
    facts, events = [], []
    for i, r in enumerate(rules, 1):
        events.append({"source": "firewall_rules", "file": FW, "line": i, "message": r, "text": r})
        if "DROP" in r or "REJECT" in r:
            facts.append(f("firewall", "wireserver_drop", "yes", i, FW, "firewall_rules"))
    return facts, events


def test_a_firewall_drop_of_the_wireserver_is_a_block_but_the_agents_own_rules_are_not():
    facts, events = _firewall(AGENT_RULES)
    assert run("firewall-drops-wireserver", facts, events).height == 0
    facts, events = _firewall([*AGENT_RULES, "-A OUTPUT -d 168.63.129.16/32 -j REJECT --reject-with icmp-port-unreachable"])
    hits = run("firewall-drops-wireserver", facts, events)
    assert hits.select("line", "cause").rows() == [(5, "wireserver-blocked")]
    assert hits["text"][0].startswith("-A OUTPUT -d 168.63.129.16/32 -j REJECT")  # the rule as written


FACT_NOTE = """\
- note: facts
  subject: "disk:(?P<mount>/|/var)"
  key: used_percent
  matches: "9[89]|100"
  text: "{mount} is {value}% full"
- note: facts
  subject: collect
  key: "command:(?P<command>.+)"
  matches: missing
  item: "{command}"
  max_items: 2
  text: "missing ({count}): {items}"
"""


def test_fact_notes_each_and_listed():
    from logscan.rules.checks.notes import fact_notes

    facts = facts_from_records([
        f("disk:/", "used_percent", "100", 2, "df"), f("disk:/var", "used_percent", "97", 3, "df"), f("disk:/boot", "used_percent", "99", 4, "df"),
        c("command:a/x", "missing"), c("command:b/y", "ok"), c("command:c/z", "missing"), c("command:d/w", "missing"),
    ])
    assert fact_notes(facts, tuple(notes_of(FACT_NOTE))) == ["df:2: / is 100% full", "missing (3): a/x, c/z and 1 more"]
    assert fact_notes(facts_from_records([f("disk:/", "used_percent", "50")]), tuple(notes_of(FACT_NOTE))) == []


def test_shipped_notes_tell_disk_full_missing_commands_and_no_commands():
    facts = facts_from_records([
        f("disk:/var/log", "used_percent", "99", 3, "sos_commands/filesys/df_-h"), c("command:azure/waagent_--version", "missing"),
        c("commands_run", "no"), f("conf", "Extensions.Enabled", "maybe", 5, "etc/waagent.conf"),
    ])
    notes = report_notes(facts)
    assert notes[0].startswith("etc/waagent.conf:5:")  # conf notes first
    assert any(n.startswith("sos_commands/filesys/df_-h:3: /var/log is 99% full") for n in notes)
    assert any("Commands not installed" in n and "azure/waagent_--version" in n for n in notes)
    assert any("--no-commands" in n for n in notes)
    assert report_notes(facts_from_records([c("commands_run", "yes"), f("disk:/", "used_percent", "97")])) == []


BASE = """\
- id: x
  title: t
  kind: fact_value
  subject: "service:(?P<unit>waagent)"
  key: active
  matches: failed
  cause: agent-not-running
  weight: 0.5
  note: "{unit} {value}"
  why: w
  source: https://example.invalid/doc
"""


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (('  note: "{unit} {value}"', '  note: "{svc}"'), "unknown field"),
        (("  matches: failed", '  matches: "(unclosed"'), "not a usable regex"),
        (("  matches: failed", "  matches: no"), "must be a non-empty regex string"),  # YAML's `no` is false: quote it
        (("  matches: failed", ""), "takes one of matches: or not_matches:"),
        (("  matches: failed", '  matches: failed\n  when: [{key: sub}]'), "a when: item is"),
        (("  matches: failed", '  matches: "(?<=x)failed"'), "not a usable regex"),  # polars cannot prefilter it
    ],
)
def test_fact_value_load_errors(change, fragment):
    assert parse_checks(BASE, "c.yaml", cause_ids(), source_names())[0].params["subject"] == "service:(?P<unit>waagent)"
    with pytest.raises(SignatureError, match=r"^c\.yaml:\d+:\d+: ") as exc:
        parse_checks(BASE.replace(*change), "c.yaml", cause_ids(), source_names())
    assert fragment in str(exc.value)


def test_bad_fact_notes_fail_at_load():
    with pytest.raises(SignatureError, match=r"^n\.yaml:1:3: a note's text uses an unknown field 'nope'"):
        notes_of(FACT_NOTE.replace("{mount} is", "{nope} is"))
    with pytest.raises(SignatureError, match="a note is"):
        notes_of("- note: facts\n  subject: x\n")
