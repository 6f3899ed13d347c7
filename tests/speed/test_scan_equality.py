"""Issue 13: the planned signature pass finds exactly what evaluating every predicate on every
row finds, on every sample, a generated fleet of both agent eras and a mixed-era bundle.

Compared: the hits frame of :func:`evaluate` (every column, every row) and the whole scan
report (the JSON document minus its generation time), with the planned path and with the
reference path (``planned=False``, each flag on every candidate row as before issue 13).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

import logscan
from logscan.diagnosis import diagnose
from logscan.diagnosis import hits as hits_mod
from logscan.reports import json_report
from logscan.rules.signatures import evaluate, load_signatures

from ._support import SAMPLES, bench_module


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    """20 fleet bundles (every fault, both eras, folder/zip/tar.gz) and a 2 MB mixed-era bundle."""
    out = tmp_path_factory.mktemp("fleet")
    bench_module("gen_fleet").generate(out, 20, seed=13, lines=300)
    big = tmp_path_factory.mktemp("mixed")
    bench_module("gen_bundle").generate(big, mb=2.0)
    return [*sorted((out / "bundles").iterdir()), big]


def _report(bundle, monkeypatch, planned: bool) -> dict:
    monkeypatch.setattr(hits_mod, "evaluate", functools.partial(evaluate, planned=planned))
    doc = json.loads(json_report.render([diagnose(bundle)]))
    doc.pop("generated")
    return doc


def _same(path: Path, monkeypatch) -> logscan.LoadedBundle:
    bundle = logscan.load(path)
    sigs = load_signatures()
    assert evaluate(sigs, bundle.events).equals(evaluate(sigs, bundle.events, planned=False)), path.name
    assert _report(bundle, monkeypatch, True) == _report(bundle, monkeypatch, False), path.name
    return bundle


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_samples_find_the_same(sample: Path, monkeypatch) -> None:
    _same(sample, monkeypatch)


def test_generated_fleet_finds_the_same(generated: list[Path], monkeypatch) -> None:
    bases: set[str] = set()
    for path in generated:
        bases |= set(_same(path, monkeypatch).events["time_basis"].drop_nulls().unique().to_list())
    assert {"utc", "local-assumed-utc"} <= bases  # both agent eras were compared


def test_words_hidden_in_other_words_and_non_ascii_rows_are_not_lost() -> None:
    """Overlapping prefilter words and Unicode case folding: both paths agree."""
    import polars as pl

    from logscan.frames import EVENT_SCHEMA, conform

    texts = [
        "Failed to FIFREEZE: timed out of memory",
        "freeze took longer than timeout \u212a",  # Kelvin sign folds to k under (?i)
        "ERROR failed for some mount: [DhcpError] no lease",
        "nothing here",
    ]
    ev = conform(
        pl.DataFrame({"source": ["waagent_log", "vmsnapshot_log", "waagent_log", "evtx"], "file": "f", "line": [1, 2, 3, 4],
                      "message": texts, "text": texts, "level": "ERROR"}),
        EVENT_SCHEMA,
    )
    sigs = load_signatures()
    assert evaluate(sigs, ev).equals(evaluate(sigs, ev, planned=False))



PICKY = """
id: picky-regex
title: A regex with a rare run
level: high
causes: [agent-crash-loop]
logsource: {sources: [waagent_log]}
condition: 'message ~ /Agent WALinuxAgent-\\S+ crashed|Daemon \\d+ gave up on (?:restart|retry)/'
tests: {match: ["Agent WALinuxAgent-2.9.1 crashed: boom", "Daemon 3 gave up on retry"], nomatch: [calm]}
"""


def test_a_regex_is_keyed_on_its_rarest_run_not_its_longest(monkeypatch) -> None:
    """Each alternative of a regex may be keyed on any of its literal runs: on a frame where
    the longest run ("agent walinuxagent-") is on every row, the planner keys the condition on
    the rare, shorter " crashed" (and the rarest run of the other alternative) rather than running it on every row,
    and finds every match the reference finds."""
    import polars as pl

    from logscan.frames import EVENT_SCHEMA, conform
    from logscan.rules import plan
    from logscan.rules.loader import parse_signatures
    from logscan.rules.requirements import requirement
    from logscan.sources.grep import leaves

    sigs = parse_signatures(PICKY)
    assert {"agent walinuxagent-", " crashed", "daemon ", " gave up on "} <= leaves(requirement(sigs[0].parts[0], ""))
    texts = [f"Agent WALinuxAgent-2.9.{i} is running" for i in range(200)]
    texts[17] = "Agent WALinuxAgent-2.9.17 crashed: [Errno 28] No space left"
    texts[90] = "Daemon 4 gave up on restart"
    texts[91] = "Daemon 4 gave up on nothing"
    ev = conform(
        pl.DataFrame({"source": "waagent_log", "file": "f", "line": list(range(1, 201)), "message": texts, "text": texts, "level": "INFO"}),
        EVENT_SCHEMA,
    )
    keyed: list[frozenset[str]] = []
    holding = plan._rows_holding
    monkeypatch.setattr(plan, "_rows_holding", lambda by_word, words: keyed.append(frozenset(words)) or holding(by_word, words))
    planned = evaluate(sigs, ev)
    assert len(keyed) == 1 and " crashed" in keyed[0] and "agent walinuxagent-" not in keyed[0]
    assert planned.equals(evaluate(sigs, ev, planned=False))
    assert sorted(planned["line"].to_list()) == [18, 91]
