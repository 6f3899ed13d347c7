"""Network command output: ``ip route``, firewall rules (``iptables -S``/``iptables-save``/
``iptables -L``/``nft list ruleset``) and logscan's own WireServer connection test.

``ip_route``: facts ``route`` keys ``default_gateway``, ``default_interface``,
``wireserver_route`` (the route line for 168.63.129.16, when one is listed); events for the
default route and routes naming the WireServer (a missing default route is an ERROR event).

``firewall_rules``: facts ``firewall`` keys ``rules`` (count), ``wireserver_rule`` (the first
rule naming 168.63.129.16), ``wireserver_drop`` (``yes`` when such a rule drops or rejects),
``default_policy:<chain>``; one event per rule naming the WireServer (DROP/REJECT → ERROR).

``connectivity`` (``sos_commands/logscan/connect_<ip>_<port>``): facts ``wireserver:<port>`` key
``reachable`` (yes/no by the words of the output), one event per non-blank line.
"""

from __future__ import annotations

import re

from ..base import Parsed, SourceFile, SourceSpec
from ._common import event, fact, line_of, parsed

WIRESERVER = "168.63.129.16"


def parse_route(f: SourceFile) -> Parsed:
    text = f.text
    events, facts = [], []
    default = re.search(r"^default via (?P<gw>\S+)(?: dev (?P<dev>\S+))?.*$", text, re.M)
    if default:
        line = line_of(text, default.start())
        facts += [fact(SPEC_ROUTE.name, f, line, "route", "default_gateway", default["gw"]),
                  fact(SPEC_ROUTE.name, f, line, "route", "default_interface", default["dev"])]
        events.append(event(SPEC_ROUTE.name, f, line, f"default route via {default['gw']}", default.group(0), "INFO"))
    elif text.strip():
        events.append(event(SPEC_ROUTE.name, f, 1, "no default route listed", text.strip().split("\n", 1)[0], "ERROR"))
    for m in re.finditer(rf"^.*{re.escape(WIRESERVER)}.*$", text, re.M):
        line = line_of(text, m.start())
        facts.append(fact(SPEC_ROUTE.name, f, line, "route", "wireserver_route", m.group(0).strip()))
        events.append(event(SPEC_ROUTE.name, f, line, f"route to the WireServer: {m.group(0).strip()}", m.group(0), "INFO"))
    return parsed(events, facts)


RULE = re.compile(r"^(?:-A .*|[ \t]*(?:ip(?:6)? [sd]addr|meta|tcp|udp|oifname|iifname|ct )\S*.*(?:drop|reject|accept)\b.*|(?:DROP|REJECT|ACCEPT)[ \t]+\S+.*)$", re.M | re.I)


def parse_firewall(f: SourceFile) -> Parsed:
    text = f.text
    events, facts = [], []
    rules = list(RULE.finditer(text))
    facts.append(fact(SPEC_FW.name, f, 1, "firewall", "rules", len(rules)))
    for m in re.finditer(r"^(?:-P (?P<c1>\S+) (?P<p1>\S+)|Chain (?P<c2>\S+) \(policy (?P<p2>\w+)|[ \t]*type filter hook (?P<c3>\w+) .*policy (?P<p3>\w+))", text, re.M):
        chain, policy = m["c1"] or m["c2"] or m["c3"], m["p1"] or m["p2"] or m["p3"]
        facts.append(fact(SPEC_FW.name, f, line_of(text, m.start()), "firewall", f"default_policy:{chain}", policy))
    first = True
    for m in rules:
        rule = m.group(0).strip()
        if WIRESERVER not in rule:
            continue
        line = line_of(text, m.start())
        drop = re.search(r"(?i)\b(?:DROP|REJECT)\b", rule) is not None
        if first:
            facts.append(fact(SPEC_FW.name, f, line, "firewall", "wireserver_rule", rule))
            first = False
        if drop:
            facts.append(fact(SPEC_FW.name, f, line, "firewall", "wireserver_drop", "yes"))
        verdict = "drops" if drop else "names"
        events.append(event(SPEC_FW.name, f, line, f"firewall rule {verdict} the WireServer {WIRESERVER}: {rule}", rule, "ERROR" if drop else "INFO"))
    return parsed(events, facts)


def parse_connect(f: SourceFile) -> Parsed:
    text = f.text
    port = re.search(r"connect_[\d.]+_(\d+)", f.path)
    subject = f"wireserver:{port.group(1) if port else 'port'}"
    ok = re.search(r"(?i)\b(?:connected|succeeded|open|HTTP/1\.[01] 200|reachable)\b", text)
    bad = re.search(r"(?i)timed? ?out|refused|unreachable|no route|failed|closed|error", text)
    reach = "no" if bad else ("yes" if ok else None)
    events = [event(SPEC_CONN.name, f, line_of(text, m.start()), m.group(0).strip(), m.group(0), "ERROR" if bad else "INFO")
              for m in re.finditer(r"^.*\S.*$", text, re.M)][:200]
    return parsed(events, [fact(SPEC_CONN.name, f, 1, subject, "reachable", reach)])


SPEC_ROUTE = SourceSpec(
    name="ip_route",
    patterns=(r"(^|/)sos_commands/networking/ip_(?:-\d_)?route[^/]*$", r"(^|/)ip[-_ ](?:-\d[-_ ])?route[^/]*$"),
    parse=parse_route,
    description="ip route: default gateway and routes to the WireServer",
    platform="linux",
    priority=20,
    example_path="sos_commands/networking/ip_route",
)
SPEC_FW = SourceSpec(
    name="firewall_rules",
    patterns=(
        r"(^|/)sos_commands/firewall_tables/[^/]+$",
        r"(^|/)sos_commands/(?:networking|nftables|firewalld)/(?:iptables|ip6tables|nft)[^/]*$",
        r"(^|/)(?:iptables|nft)[-_ ][^/]*$",
    ),
    parse=parse_firewall,
    description="iptables / nft rules: rules touching the WireServer 168.63.129.16",
    platform="linux",
    priority=20,
    example_path="sos_commands/firewall_tables/iptables_-S",
)
SPEC_CONN = SourceSpec(
    name="connectivity",
    patterns=(r"(^|/)sos_commands/logscan/connect_[^/]+$",),
    parse=parse_connect,
    description="logscan collect's connection tests to the WireServer (168.63.129.16 ports 80/32526)",
    platform="any",  # both collectors (Linux and the Windows script) write it
    priority=20,
    example_path="sos_commands/logscan/connect_168.63.129.16_80",
)
SPECS = [SPEC_ROUTE, SPEC_FW, SPEC_CONN]
