"""Backup error codes written in the bundle itself (a pasted job error, an ARM status message).

When a text names a code (``ExtensionSnapshotFailedCOM``, ``UserErrorFsFreezeFailed``), the
code is a fact about the failure even without ``--error-code``: its documented causes become
leads. A code with one documented cause points at it (``likely``: the service said so); a code
with several gives each a weak lead (``possible``), so the guest evidence decides between
them. The codes seen are listed in the report's coverage.
"""

from __future__ import annotations

import re

import polars as pl

from ..rules.checks import HIT_SCHEMA

SINGLE_CAUSE_WEIGHT = 0.6
SHARED_CAUSE_WEIGHT = 0.3


def code_mentions(events: pl.DataFrame, kb) -> pl.DataFrame:
    """Rows of ``events`` naming a known code: file, line, time, source, text, code."""
    if not events.height or not kb.codes:
        return pl.DataFrame()
    names = sorted(kb.codes, key=len, reverse=True)
    rx = r"\b(" + "|".join(re.escape(n) for n in names) + r")\b"
    text = pl.coalesce(pl.col("message"), pl.col("text"), pl.lit(""))
    found = events.filter(text.str.contains(rx)).with_columns(code=text.str.extract(rx, 1))
    return found.select("file", "line", "time", "source", "text", "code")


def code_hits(events: pl.DataFrame, kb) -> tuple[pl.DataFrame, list[str]]:
    """(hits for the causes of every code the bundle names, the codes in order seen)."""
    found = code_mentions(events, kb)
    if not found.height:
        return pl.DataFrame(schema=HIT_SCHEMA), []
    seen = list(dict.fromkeys(found["code"].to_list()))
    rows = []
    for code_name in seen:
        code = kb.codes[code_name]
        causes = list(code.candidates) or list(code.all_candidates)
        weight = SINGLE_CAUSE_WEIGHT if len(causes) == 1 else SHARED_CAUSE_WEIGHT
        first = found.filter(pl.col("code") == code_name).row(0, named=True)
        for cause in causes:
            rows.append(
                {
                    "signature": f"error-code-named:{code_name}",
                    "cause": cause,
                    "weight": weight,
                    "file": first["file"],
                    "line": first["line"],
                    "time": first["time"],
                    "source": first["source"],
                    "text": first["text"],
                    "note": f"the text names the backup error code {code_name}",
                }
            )
    return pl.DataFrame(rows, schema=HIT_SCHEMA), seen
