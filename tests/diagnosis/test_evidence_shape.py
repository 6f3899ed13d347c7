"""Evidence near-duplicates: a line's shape squeezes whitespace exactly as ``\\s+`` -> " " does."""

from __future__ import annotations

import polars as pl

from logscan.diagnosis.evidence import _VARIABLE, _shape


def test_shape_squeezes_whitespace_like_the_plain_rule() -> None:
    texts = ["a  b", "a\tb", " a \t b ", "a\u00a0b", "a \u2003 b", "x\x0by", "a   ", "   a", "a b c", None, "", "\t",
             "a \n b  c", "a\r\nb", "Error 0x80070005 at 12:30  on\tdisk 3", "id 5f0c2a9e-3b1d-4a7e-9c1f-2d8e6b4a7c30  x"]
    df = pl.DataFrame({"text": texts}, schema={"text": pl.String})
    reference = (
        pl.col("text").fill_null("").str.split("\n").list.first().str.replace_all(_VARIABLE, "#")
        .str.replace_all(r"\s+", " ").str.strip_chars()
    )
    got = df.select(new=_shape("text"), ref=reference)
    assert got["new"].to_list() == got["ref"].to_list()
    assert got["new"][14] == "Error # at #:# on disk #"
