"""Issue 13's grep-first scan: parsing only the records a scan reads gives the same scan
report (the JSON document minus its generation time) as the full parse, on every sample, a
generated fleet of every agent era, a mixed-era bundle and, when present, the shared corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import logscan
from logscan.diagnosis import diagnose
from logscan.reports import json_report
from logscan.rules.grep import grep_plan

from ._support import ROOT, SAMPLES, bench_module

CORPUS = ROOT.parent / "shared" / "corpus"



def _doc(bundle: logscan.LoadedBundle) -> dict:
    doc = json.loads(json_report.render([diagnose(bundle)]))
    doc.pop("generated")
    return doc


def _same(path: Path) -> logscan.LoadedBundle:
    full = logscan.load(path)
    grep = logscan.load(path, grep=grep_plan())
    assert _doc(grep) == _doc(full), path.name
    assert grep.facts.equals(full.facts), path.name
    return full


def test_the_plan_covers_the_agent_log() -> None:
    assert "waagent_log" in grep_plan()


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_samples_grep_first_find_the_same(sample: Path) -> None:
    _same(sample)


def test_generated_fleet_and_mixed_bundle_grep_first_find_the_same(tmp_path: Path) -> None:
    bench_module("gen_fleet").generate(tmp_path / "fleet", 24, seed=31, lines=400)
    bench_module("gen_bundle").generate(tmp_path / "mixed", mb=2.0)
    bases: set[str] = set()
    for path in [*sorted((tmp_path / "fleet" / "bundles").iterdir()), tmp_path / "mixed"]:
        bases |= set(_same(path).events["time_basis"].drop_nulls().unique().to_list())
    assert {"utc", "local-assumed-utc"} <= bases  # both agent eras were compared


def _corpus_cases() -> list[tuple[str, str]]:
    if not (CORPUS / "cases.tsv").is_file():
        return []
    rows = [line.split("\t") for line in (CORPUS / "cases.tsv").read_text(encoding="utf-8").splitlines()]
    return [(r[0], r[1]) for r in rows if len(r) > 1 and r[0].strip() and not r[0].startswith("#")]


@pytest.mark.skipif(not _corpus_cases(), reason="no ../shared/corpus")
def test_corpus_cases_grep_first_find_the_same(tmp_path: Path) -> None:
    """Each labelled case at its place in a bundle, and alone (read by content)."""
    for n, (file, place) in enumerate(_corpus_cases()):
        bundle = tmp_path / f"b{n}"
        (bundle / place).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / file, bundle / place)
        _same(bundle)
        single = tmp_path / f"c{n}" / "case.txt"
        single.parent.mkdir()
        shutil.copyfile(CORPUS / file, single)
        _same(single)


def test_edge_records_are_kept(tmp_path: Path) -> None:
    """Records no word selects but a scan reads: lines before the first header, untimed
    (pasted) records inheriting a dropped record's time, ties in the last second, and the
    silence check's last line when LogCollector lines come after it."""
    log = tmp_path / "b" / "var" / "log" / "waagent.log"
    log.parent.mkdir(parents=True)
    lines = [
        "  continuation before any header",
        "2024-01-01T00:00:00.500000Z INFO Daemon nothing to see",
        "2024-01-01T00:00:00.100000Z INFO Daemon earlier but later in the file",
        "2024-01-01T01:00:00.000000Z INFO ExtHandler quiet line",
        "INFO ExtHandler pasted without a stamp",
        "ERROR ExtHandler pasted error without a stamp",
        "  Traceback (most recent call last):",
        "2024-01-01T02:00:00.000000Z INFO ExtHandler quiet again",
        "2024-01-01T09:00:00.250000Z INFO ExtHandler last agent line",
        "2024-01-01T09:00:00.750000Z INFO ExtHandler same second",
        "2024-01-01T09:00:00.750000Z INFO ExtHandler same instant",
        "2024-01-02T09:00:00.000000Z INFO LogCollector collecting logs",
        "2024-01-02T09:00:00.000000Z INFO LogCollector done",
        "INFO LogCollector untimed after the end",
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    full = _same(log.parent.parent.parent)
    grep = logscan.load(log.parent.parent.parent, grep=grep_plan())
    assert grep.events.height < full.events.height
    assert grep.events.height + grep.unparsed_events == full.events.height


def test_a_condition_without_words_parses_the_source_fully() -> None:
    """A part that needs no word (``level == INFO``) could hold on any record: no plan."""
    import dataclasses

    from logscan.rules.language import Predicate
    from logscan.rules.signatures import load_signatures

    sigs = load_signatures()
    plain = next(s for s in sigs if s.sources and "waagent_log" in s.sources and not s.temporal)
    wordless = dataclasses.replace(plain, tree=Predicate(field="level", op="==", value="INFO"), id="t-wordless")
    assert "waagent_log" in grep_plan(sigs)
    assert "waagent_log" not in grep_plan([*sigs, wordless])


def test_vmsnapshot_log_records_are_kept(tmp_path: Path) -> None:
    """The VMSnapshot extension.log is parsed whole and then filtered: every writer's form,
    py2 continuation lines (same stamp), the freeze buffer and its markers, an outcome line
    whose level comes from its status and not from a word, and quiet lines to drop."""
    log = tmp_path / "b" / "var/log/azure/Microsoft.Azure.RecoveryServices.VMSnapshotLinux/extension.log"
    log.parent.mkdir(parents=True)
    ext = "[Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0.9200.0]"
    lines = [
        "    leftover before any header",
        f"2023-05-02 10:00:00.000001 {ext}T:S starting daemon initially",
        *[f"2023-05-02 10:00:{i:02d}.000001 {ext}T:S quiet progress line {i}" for i in range(1, 40)],
        f"2023-05-02 10:01:00.000001 {ext}T:S freeze, timeout value 60",
        "================== Logs during Freeze Start ==============",
        "2023-05-02 10:01:01.000001  Info  ****** 1. Starting Freeze Binary",
        "2023-05-02 10:01:02.000001  Error  ****** 7. Error Occured in Freeze: FIFREEZE failed",
        "================== Logs during Freeze End ==============",
        f"2023-05-02 10:02:00.000001 {ext}T:S Enable,transitioning,1,snapshot in progress",
        f"2023-05-02 10:02:30.000001 {ext}Enable,failed,2,thawed after the time out",
        f"2017/11/14 03:06:52 ERROR:{ext}Enable failed with exception in safe freeze",
        "2017/11/14 03:06:52  StatusCode.FailedRetryableSnapshotFailedNoNetwork,",
        f"2017/11/14 03:06:53 {ext} quiet py2 line",
        *[f"2023-05-02 10:03:{i:02d}.000001 {ext}T:S quiet tail line {i}" for i in range(0, 30)],
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bundle = tmp_path / "b"
    full = _same(bundle)
    grep = logscan.load(bundle, grep=grep_plan())
    assert "vmsnapshot_log" in grep_plan()
    assert grep.events.height < full.events.height
    assert grep.events.height + grep.unparsed_events == full.events.height
    kept = set(grep.events["message"].to_list())
    assert any(m.startswith("Enable,failed,2") for m in kept)  # an outcome line (ERROR by its status)
    assert not any("quiet progress line 7" in m for m in kept)


def test_the_cached_plan_is_the_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The startup cache gives the plan the signatures make, and a damaged entry is rebuilt."""
    from logscan.rules import grep as plan_module
    from logscan.rules.signatures import load_signatures

    monkeypatch.setenv("LOGSCAN_CACHE_DIR", str(tmp_path))
    fresh = plan_module._plan(load_signatures())
    plan_module._default_plan.cache_clear()
    assert plan_module.grep_plan() == fresh  # built and stored
    plan_module._default_plan.cache_clear()
    assert plan_module.grep_plan() == fresh  # read back
    (entry,) = tmp_path.glob("grep-plan-*.json")
    entry.write_text('{"format": 1, "key": "x", "value": [["waagent_log", [["nope", []]], null]]}', encoding="utf-8")
    plan_module._default_plan.cache_clear()
    assert plan_module.grep_plan() == fresh
    plan_module._default_plan.cache_clear()
