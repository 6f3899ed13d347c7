"""The shipped signature set: it loads, every signature passes its own examples, and every
cause it names exists in the knowledge base.

The per-signature examples are the signature's contract (real-shaped lines from the format
docs, plus the benign look-alikes of linux-agent.md §9 as ``nomatch``), so each signature is
its own test case here: a failure names the signature id and the example's file:line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from logscan.rules.signatures import PACKAGE_DIR, load_signatures, parse_signatures, run_tests
from logscan.sources import registry

REPO = Path(__file__).resolve().parents[2]
CAUSES_FILE = REPO / "logscan" / "content" / "knowledge" / "causes.yaml"
LINUX_DIR = PACKAGE_DIR / "linux"

SIGNATURES = load_signatures()
BY_ID = {s.id: s for s in SIGNATURES}


def _cause_ids() -> set[str]:
    data = yaml.safe_load(CAUSES_FILE.read_text(encoding="utf-8"))
    entries = data["causes"] if isinstance(data, dict) and "causes" in data else data
    return {e["id"] for e in entries}


def test_the_set_is_not_empty_and_has_the_linux_families() -> None:
    files = {Path(s.path).name for s in SIGNATURES if Path(s.path).parent == LINUX_DIR}
    assert {"agent.yaml", "config.yaml", "network.yaml", "extensions.yaml", "vmsnapshot.yaml"} <= files


def test_ids_are_unique_across_files() -> None:
    ids = [s.id for s in SIGNATURES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    # The raw files agree (load_signatures would raise on a duplicate; count independently).
    raw = []
    for f in sorted(PACKAGE_DIR.rglob("*.yaml")):
        raw.extend(s.id for s in parse_signatures(f.read_text(encoding="utf-8"), str(f)))
    assert sorted(raw) == sorted(ids)


def test_every_cause_exists_in_the_knowledge_base() -> None:
    known = _cause_ids()
    unknown = {(s.id, c) for s in SIGNATURES for c in s.causes if c not in known}
    assert not unknown, sorted(unknown)


def test_every_source_named_is_a_registered_parser() -> None:
    names = {s.name for s in registry()}
    bad = {(s.id, src) for s in SIGNATURES for src in (s.sources or ()) if src not in names}
    assert not bad, sorted(bad)


def test_every_signature_has_match_and_nomatch_examples() -> None:
    for s in SIGNATURES:
        kinds = {ex.expect for ex in s.tests}
        assert kinds == {"match", "nomatch"}, s.id


@pytest.mark.parametrize("sig_id", sorted(BY_ID))
def test_signature_examples(sig_id: str) -> None:
    failures = run_tests(BY_ID[sig_id])
    assert failures == [], "\n".join(failures)


# The benign lines of linux-agent.md §9 (the agent team's ignore list) and other look-alikes:
# none may produce a hit from any shipped signature, alone or repeated.
TRAPS: list[tuple[str, str]] = [
    ("waagent_log", "2023-06-28T09:31:38.903835Z WARNING EnvHandler ExtHandler Dhcp client is not running."),
    ("waagent_log", "2023-06-28T09:31:38.903835Z INFO ExtHandler ExtHandler Move rules file 70-persistent-net.rules to /var/lib/waagent/70-persistent-net.rules"),
    ("waagent_log", "2023-06-28T09:31:38.903835Z WARNING ExtHandler ExtHandler Error fetching the goal state: [ProtocolError] Fetched goal state without a RoleInstance [incarnation 3]"),
    ("waagent_log", "2023-06-28T09:31:38.903835Z ERROR ExtHandler Fetching the goal state failed: [ProtocolError] GET vmSettings [correlation ID: 2bed9b62-188e-4668-b1a8-87c35cfa4927 eTag: 7031887032544600793]: Timeout"),
    ("waagent_log", "2023-06-28T09:31:38.903835Z ERROR ExtHandler ExtHandler Error fetching the goal state: [ProtocolError] GET vmSettings [correlation ID: 2bed9b62-188e-4668-b1a8-87c35cfa4927 eTag: 7031887032544600793]: [Internal error in HostGAPlugin] [HTTP Failed] [502: Bad Gateway] b'{  \"errorCode\": \"VMArtifactsProfileBlobContentNotFound\",  \"message\": \"VM artifacts profile blob has no content in it.\",  \"details\": \"\"}'"),
    ("waagent_log", "2023-06-28T09:31:38.903835Z WARNING ExtHandler ExtHandler Error fetching the goal state: [ProtocolError] Error fetching goal state Inner error: [ResourceGoneError] [HTTP Failed] [410: Gone] The page you requested was removed."),
    ("waagent_log", "2023-06-28T09:31:38.903835Z WARNING ExtHandler ExtHandler Error in SendHostPluginHeartbeat: [HttpError] [HTTP Failed] GET http://168.63.129.16:32526/health -- IOError timed out -- 1 attempts made --- [NOTE: Will not log the same error for the next hour]"),
    ("waagent_log", "2023-06-28T09:31:38.903835Z INFO ExtHandler ExtHandler [CGW] The agent's process is not within a memory cgroup"),
    ("waagent_log", "2023-06-28T09:31:38.903835Z INFO Daemon Daemon Daemon is already running: 812"),
    ("waagent_log", "2023-06-28T09:31:38.903835Z ERROR ExtHandler ExtHandler Error fetching the goal state: [ProtocolError] [Wireserver Exception] [HttpError] [HTTP Failed] GET http://168.63.129.16/machine/ -- IOError timed out -- 6 attempts made"),
    ("waagent_log", "2023-06-28T09:31:38.903835Z INFO ExtHandler ExtHandler Event: name=Microsoft.Azure.RecoveryServices.VMSnapshotLinux, op=Enable, message=Enable succeeded, duration=0"),
    ("vmsnapshot_log", "2024-01-14 22:17:59.796446 [Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0]Enable,success,1,Enable Succeeded,False"),
    ("vmsnapshot_log", "2024-01-14 22:17:59.796446 [Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0]Enable,success,0,Enable Succeeded with App Consistent Snapshot,False"),
    ("shell_log", "Mon Nov 18 00:05:10 UTC 2019- 0 returned from handle.py"),
]


@pytest.mark.parametrize(("source", "text"), TRAPS, ids=[f"{s}:{t[27:70]}" for s, t in TRAPS])
def test_benign_lines_give_no_hit(source: str, text: str) -> None:
    from logscan.rules.signatures import Example, evaluate, example_events

    # Repeated five times a few minutes apart: still benign (below the count thresholds).
    lines = [text] * 5
    ex = Example("nomatch", 0, source=source, text="\n".join(lines))
    ev = example_events(SIGNATURES[0], ex)
    hits = evaluate(SIGNATURES, ev)
    assert hits.height == 0, hits.select("signature", "text").rows()
