"""Each real case of ``../shared/corpus`` (read from there, never copied) is read alone, as
``case.txt`` and on stdin, as the kind its place in a bundle gives it, with the same events and
the same findings as at its place. Skips when the shared corpus is absent."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

import logscan
from logscan.diagnosis import diagnose
from logscan.io.bundle import Bundle
from logscan.sources.ingest import load_bundle

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def _cases() -> list[tuple[str, str]]:
    if not (CORPUS / "cases.tsv").is_file():
        return []
    rows = []
    for line in (CORPUS / "cases.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            file, place = line.split("\t")[:2]
            rows.append((file, place))
    return rows


CASES = _cases()
pytestmark = pytest.mark.skipif(not CASES, reason="../shared/corpus is absent")


def _kinds(b) -> set[str]:
    return {f["kind"] for f in b.coverage["files"] if f["kind"]}


def _findings(b) -> list[tuple[str, str]]:
    d = diagnose(b).as_dict()
    return [(f["cause"], f.get("confidence", "")) for f in d["findings"]]


@pytest.mark.parametrize(("file", "place"), CASES, ids=[c[0] for c in CASES] or None)
def test_case_alone_reads_as_at_its_place(tmp_path: Path, file: str, place: str) -> None:
    data = (CORPUS / file).read_bytes()
    bundle = tmp_path / "bundle"
    (bundle / place).parent.mkdir(parents=True)
    (bundle / place).write_bytes(data)
    at_place = logscan.load(bundle)
    single = tmp_path / "case.txt"
    single.write_bytes(data)
    alone = logscan.load(single)
    with Bundle.from_stream(io.BytesIO(data)) as b:
        piped = load_bundle(b, path="-")
    kinds = _kinds(at_place)
    assert kinds, f"{file}: read as nothing at {place}: {at_place.coverage['files']}"
    assert _kinds(alone) == kinds and _kinds(piped) == kinds
    assert at_place.events.height > 0
    assert alone.events.height == at_place.events.height == piped.events.height
    assert _findings(alone) == _findings(at_place) == _findings(piped)
    shutil.rmtree(bundle)
