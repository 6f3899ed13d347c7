"""Which lines to show for a cause, and how: the ones a person would pick.

- The decisive line first: strongest signature, then nearest the failure; one line per
  signature before any repeat, so repeats cannot crowd out a second kind of evidence.
- No near-duplicates: lines that differ only in numbers, times, ids or hex are one line.
- No rows without text.
- A Python traceback is shown as its first line, its last frame and its exception.
- An umbrella cause is not repeated when a specific cause already holds the same lines.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from .model import Evidence, Finding

MAX_EVIDENCE = 8
EVIDENCE_TEXT_MAX = 2000

#: Variable parts masked before comparing two lines for near-duplication.
_VARIABLE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|0x[0-9a-fA-F]+|\d+"


def _shape(col: str) -> pl.Expr:
    """A line's shape: first line, variable parts masked, spaces squeezed."""
    return (
        pl.col(col)
        .fill_null("")
        .str.split("\n")
        .list.first()
        .str.replace_all(_VARIABLE, "#")
        # Squeezes whitespace like ``\s+`` -> " ", but matches only runs that change (two or
        # more characters, or any whitespace but a space): a log line's single spaces between
        # words are no match, which halves the cost on thousands of hits.
        .str.replace_all(r"\s*[^\S ]\s*|  +", " ")
        .str.strip_chars()
    )


def traceback_summary(text: str) -> str:
    """``Traceback …`` records cut to: the record's first line, the last ``File`` frame (and
    its code line) and the exception; other text is returned unchanged."""
    if "Traceback (most recent call last)" not in text:
        return text
    lines = text.split("\n")
    frames = [i for i, ln in enumerate(lines) if ln.lstrip().startswith('File "')]
    if not frames:
        return text
    last = frames[-1]
    keep = [lines[0]]
    tb = next((i for i, ln in enumerate(lines) if "Traceback (most recent call last)" in ln), 0)
    if tb and tb != 0:
        keep.append(lines[tb])
    keep.append(lines[last])
    rest = [ln for ln in lines[last + 1 :] if ln.strip()]
    # The code line under the frame is indented deeper; the exception line is not.
    if rest and rest[0].startswith((" ", "\t")) and not rest[0].lstrip().startswith('File "'):
        keep.append(rest[0])
        rest = rest[1:]
    exc = next((ln for ln in rest if not ln.startswith((" ", "\t"))), None)
    if exc:
        keep.append(exc)
    return "\n".join(dict.fromkeys(keep))


def pick(grp: pl.DataFrame, ref: datetime | None) -> list[Evidence]:
    """The best evidence rows of one cause's hits, decisive first."""
    df = grp.filter(pl.col("text").is_not_null() & (pl.col("text").str.strip_chars() != ""))
    if not df.height:
        return []
    df = df.unique(subset=["file", "line", "text"], keep="first", maintain_order=True)
    if ref is not None:
        df = df.with_columns(_d=(pl.col("time") - pl.lit(ref)).dt.total_seconds().abs().fill_null(1e12))
    else:
        df = df.with_columns(_d=pl.lit(0.0))
    # A check's conclusion from a fact (``note`` set: a config value, a status code) is the
    # decisive line when it weighs as much as a log line: it says *why*, the log says *that*.
    df = df.with_columns(_fact=pl.col("note").is_not_null() & (pl.col("weight") >= 0.5))
    df = df.sort(["_fact", "weight", "_d"], descending=[True, True, False])
    # Near-duplicates: the same shape of line for the same signature is shown once.
    df = df.with_columns(_shape=_shape("text")).unique(subset=["signature", "_shape"], keep="first", maintain_order=True)
    df = df.with_columns(_k=pl.int_range(pl.len()).over("signature"))
    df = df.sort(["_k", "_fact", "weight", "_d"], descending=[False, True, True, False]).head(MAX_EVIDENCE)
    out = []
    for rank, r in enumerate(df.iter_rows(named=True), 1):
        text = traceback_summary(r["text"])
        if len(text) > EVIDENCE_TEXT_MAX:
            text = text[:EVIDENCE_TEXT_MAX] + " …"
        out.append(Evidence(r["file"], r["line"], r["time"], text, r["source"], r["signature"], rank, r.get("note")))
    return out


def drop_repeated_umbrellas(findings: list[Finding], kb) -> list[Finding]:
    """Remove an umbrella finding whose evidence lines a specific (child) finding already
    shows: the same lines under two causes read as two problems."""
    by_cause = {f.cause: f for f in findings}
    keep = []
    for f in findings:
        children = [by_cause[c.id] for c in kb.causes.values() if c.parent == f.cause and c.id in by_cause]
        if children and f.evidence:
            held = {(e.file, e.line) for ch in children for e in ch.evidence}
            if all((e.file, e.line) in held for e in f.evidence):
                continue
        keep.append(f)
    return keep
