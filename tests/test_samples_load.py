"""Every sample bundle loads cleanly, and samples/EXPECTED.toml describes them truthfully.

The samples are hand-made synthetic bundles (samples/_src holds the sources of the archive
forms). These tests do not check diagnosis; they check that the samples are usable as
fixtures: every one parses without parse errors, EXPECTED.toml names real causes and codes,
and its ``key_evidence`` points at lines that exist, so signature authors can rely on it.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest

import logscan
from logscan.io.bundle import Bundle
from logscan.knowledge import load_knowledge

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def _samples() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted(
        p
        for p in SAMPLES.iterdir()
        if not p.name.startswith(("_", ".")) and (p.is_dir() or p.name.endswith((".zip", ".tar.gz", ".tgz")))
    )


@pytest.fixture(scope="module")
def expected() -> dict:
    return tomllib.loads((SAMPLES / "EXPECTED.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name)
def test_sample_loads_without_parse_errors(sample: Path) -> None:
    b = logscan.load(sample)
    assert b.events.height > 0
    bad = b.ingest_errors.filter(b.ingest_errors["kind"].is_in(["parse", "parser-bug"]))
    assert bad.height == 0, bad.to_dicts()
    # Every sample tells its story in the agent's log (waagent.log, or WaAppAgent.log on Windows).
    assert {"waagent_log", "waappagent_log"} & set(b.coverage["sources"])


def test_every_sample_has_an_expectation(expected: dict) -> None:
    names = {p.name for p in _samples()}
    assert names, "no samples found"
    assert names == set(expected)


def test_expectations_use_known_causes_and_codes(expected: dict) -> None:
    k = load_knowledge()
    causes = set()
    for name, e in expected.items():
        assert e["top_cause"] == "none" or e["top_cause"] in k.causes, name
        assert e["story"].strip(), name
        if e["top_cause"] == "none":
            assert not e.get("error_code"), name
            continue
        causes.add(e["top_cause"])
        code = k.code(e["error_code"])
        assert code is not None, (name, e["error_code"])
        assert e["top_cause"] in code.all_candidates, (
            f"{name}: {e['top_cause']} is not a candidate of {code.code}"
        )
    assert len(causes) >= 10
    assert "none" in {e["top_cause"] for e in expected.values()}


def _member_lines(sample: Path) -> dict[str, list[str]]:
    """Logical path -> lines, for every member of a sample (archives and .gz included)."""
    out: dict[str, list[str]] = {}
    with Bundle.open(sample) as bundle:
        for m in bundle.members():
            data = bundle.read(m)
            if m.path.endswith(".gz"):
                data = gzip.decompress(data)
            out[m.path] = data.decode("utf-8", "replace").split("\n")
    return out


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name)
def test_key_evidence_points_at_real_lines(sample: Path, expected: dict) -> None:
    keys = expected[sample.name]["key_evidence"]
    assert keys
    members = _member_lines(sample)
    for ref in keys:
        path, _, line = ref.rpartition(":")
        assert path in members, f"{sample.name}: no member {path}"
        n = int(line)
        assert 1 <= n <= len(members[path]), ref
        assert members[path][n - 1].strip(), f"{ref} is a blank line"


def test_committed_archives_match_their_sources() -> None:
    sys.path.insert(0, str(SAMPLES))
    try:
        import build_archives
    finally:
        sys.path.remove(str(SAMPLES))
    built = build_archives.build()
    assert built
    for name, data in built.items():
        assert (SAMPLES / name).read_bytes() == data, f"{name} is stale: run python samples/build_archives.py"
