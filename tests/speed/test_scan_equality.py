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
