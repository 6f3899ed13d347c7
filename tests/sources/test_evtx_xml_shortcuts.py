"""The cheaper reads in ``_evtx_xml`` against the regexes they replaced, on hostile text.

UserData is cut by literal finds and byte slices instead of ``(?s)<UserData>(.*?)</UserData>``;
message parts are tidied with a regex that skips single spaces instead of ``\\s+`` → ``" "``.
Both must give exactly what the originals gave, including closing tags before opening ones,
multi-byte characters before the cut (``str.find`` counts bytes) and Unicode whitespace.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from logscan.sources._evtx_xml import _tidy, _user_data

PIECES = ["<UserData>", "</UserData>", "<UserData", "</User", "é", "日本", "a", "<", ">", "\n", " ", "  ", "\t", "\u00a0", "\u3000", ";", "x y"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(TEXT, st.none()), min_size=1, max_size=8))
def test_user_data_is_the_lazy_regex(texts: list[str | None]) -> None:
    frame = pl.DataFrame({"x": texts}, schema={"x": pl.String})
    got = frame.select(_user_data(pl.col("x"))).to_series()
    want = frame.select(pl.col("x").str.extract(r"(?s)<UserData>(.*?)</UserData>", 1)).to_series()
    assert got.to_list() == want.to_list()


def test_user_data_after_multibyte_text_and_a_stray_closing_tag() -> None:
    texts = ["é日<UserData>ab</UserData>", "</UserData><UserData>q</UserData>", "<UserData>open", "x"]
    got = pl.DataFrame({"x": texts}).select(_user_data(pl.col("x"))).to_series().to_list()
    assert got == ["ab", "q", None, None]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(TEXT, st.none()), max_size=6))
def test_tidied_parts_join_to_the_collapsed_message(parts: list[str | None]) -> None:
    """Parts tidied one by one, joined with "; " and right-trimmed, equal the joined parts with
    every whitespace run made one space and both ends trimmed (what the message always was)."""
    series = pl.Series("p", parts, dtype=pl.String)
    tidied = series.to_frame().select(_tidy(pl.col("p"))).to_series()
    got = pl.Series([tidied.to_list()], dtype=pl.List(pl.String)).list.join("; ").str.strip_chars_end(" ")
    want = pl.Series([parts], dtype=pl.List(pl.String)).list.join("; ").str.replace_all(r"\s+", " ").str.strip_chars()
    # strip_chars() trims any whitespace, but after the collapse only a single space is left at either end.
    assert got.to_list() == want.to_list()
