"""A signature's own examples (``tests: match / nomatch``), run the way a bundle's file would be."""

from __future__ import annotations

import polars as pl

from ..errors import SignatureError
from ..frames import EVENT_SCHEMA, conform, empty
from .evaluate import evaluate
from .model import Example, Signature


def example_events(sig: Signature, ex: Example) -> pl.DataFrame:
    """The events of one test item, read the way a bundle's file would be."""
    from ..frames import events_from_records
    from ..io import redact
    from ..sources import SourceFile, registry

    if ex.text is not None:
        spec = next((s for s in registry() if s.name == ex.source), None)
        if spec is None:
            raise SignatureError(f"unknown source {ex.source!r}", file=sig.path, line=ex.line)
        path = spec.example_path or f"example/{spec.name}"
        parsed = spec.parse(SourceFile(path, path, ex.text.encode("utf-8")))
        ev = parsed.events if parsed.events is not None else empty(EVENT_SCHEMA)
        ev = conform(ev, EVENT_SCHEMA)
    else:
        rows = []
        for k, r in enumerate(ex.events):
            rows.append({"source": ex.source, "file": "example", "line": k + 1, **r})
        ev = events_from_records(rows)
    ev = redact.events(ev)
    return ev.sort("time", nulls_last=True, maintain_order=True)


def run_tests(signature: Signature) -> list[str]:
    """Run a signature's own examples; the failures as ``file:line: id: what`` (empty = pass).

    A ``match`` item must give at least one hit, a ``nomatch`` item none.
    """
    failures: list[str] = []
    for ex in signature.tests:
        where = f"{signature.path}:{ex.line}: {signature.id}: {ex.expect} example"
        try:
            hits = evaluate([signature], example_events(signature, ex))
        except Exception as exc:  # a parser bug or bad example must show up as a failure, not a crash
            failures.append(f"{where} could not be evaluated: {type(exc).__name__}: {exc}")
            continue
        if ex.expect == "match" and not hits.height:
            failures.append(f"{where} gave no hit")
        elif ex.expect == "nomatch" and hits.height:
            first = hits.row(0, named=True)
            text = (first["text"] or "").splitlines()[0][:160] if first["text"] else ""
            failures.append(f"{where} hit line {first['line']}: {text!r}")
    return failures
