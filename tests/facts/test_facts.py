"""The facts layer: one precedence for the agent version, latest values, identity, span."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest

from logscan.facts import decide, decide_agent, distro_family, latest_values
from logscan.frames import FACT_SCHEMA, events_from_records
from logscan.sources.ingest import LoadedBundle

T = [datetime(2024, 5, d, tzinfo=timezone.utc) for d in range(1, 6)]


def facts(*rows: tuple) -> pl.DataFrame:
    keys = ("subject", "key", "value", "time")
    return pl.DataFrame(
        [{"source": "s", "file": "f", "line": i + 1, **dict(zip(keys, r, strict=True))} for i, r in enumerate(rows)],
        schema=FACT_SCHEMA,
    )


def test_goal_state_agent_beats_reported_version_beats_daemon() -> None:
    f = facts(
        ("agent", "daemon_version", "2.2.45", T[3]),
        ("agent", "version", "2.9.1.1", T[2]),
        ("agent", "goal_state_agent_version", "2.11.1.4", T[1]),
    )
    a = decide_agent(f)
    assert (a.version, a.key, a.daemon) == ("2.11.1.4", "goal_state_agent_version", "2.2.45")
    assert a.row["line"] == 3 and set(a.seen) == {"2.2.45", "2.9.1.1", "2.11.1.4"}


def test_within_a_key_the_newest_wins_and_nulls_are_ignored() -> None:
    f = facts(
        ("agent", "goal_state_agent_version", "2.10.0.8", T[1]),
        ("agent", "goal_state_agent_version", "2.11.1.4", T[3]),
        ("agent", "goal_state_agent_version", None, T[4]),
    )
    assert decide_agent(f).version == "2.11.1.4"


def test_daemon_only_and_none() -> None:
    assert decide_agent(facts(("agent", "daemon_version", "2.2.10", None))).version == "2.2.10"
    assert decide_agent(facts()).version is None


def test_log_prefix_version_is_the_last_resort() -> None:
    ev = events_from_records(
        [{"source": "waagent_log", "file": "w", "line": 1, "message": "WALinuxAgent-2.2.15 waiting for orphan process 7585 to terminate"}]
    )
    assert decide_agent(facts(), ev).version == "2.2.15"
    # any stated version outranks it
    assert decide_agent(facts(("agent", "daemon_version", "2.2.53", None)), ev).version == "2.2.53"


def test_latest_value_per_subject_and_key() -> None:
    f = facts(
        ("extension:X", "status", "error", T[1]),
        ("extension:X", "status", "success", T[3]),
        ("extension:X", "status", "transitioning", None),  # no time: oldest
        ("os", "name", "ubuntu", None),
    )
    latest = latest_values(f)
    got = {(r["subject"], r["key"]): r["value"] for r in latest.iter_rows(named=True)}
    assert got == {("extension:X", "status"): "success", ("os", "name"): "ubuntu"}


@pytest.mark.parametrize(
    ("name", "family"),
    [("ubuntu", "debian"), ("Red Hat Enterprise Linux", "rhel"), ("SLES", "suse"), ("azurelinux", "azurelinux"), ("Windows Server 2022 Datacenter", "windows"), (None, None), ("plan9", None)],
)
def test_distro_family(name: str | None, family: str | None) -> None:
    assert distro_family(name) == family


def test_decide_identity_span_and_cache() -> None:
    f = facts(("vm", "hostname", "vm-a", T[1]), ("vm", "hostname", "vm-b", T[2]), ("os", "name", "ubuntu", None), ("vm", "vm_id", "1234", None))
    ev = events_from_records([{"source": "waagent_log", "file": "w", "line": i, "time": t, "message": "m"} for i, t in enumerate(T[1:4])])
    b = LoadedBundle("bundle", "p", ev, f, pl.DataFrame(), {"platform": "linux"})
    d = decide(b)
    assert d.identity.hostname == "vm-a"  # first stated (bundle order), names do not change
    assert d.identity.name == "vm-a" and d.identity.distro == "debian" and d.identity.vm_id == "1234"
    assert (d.span.first, d.span.last) == (T[1], T[3]) and d.span.covers(T[2]) and not d.span.covers(T[4])
    assert decide(b) is d
    assert d.get("os", "name") == "ubuntu"
