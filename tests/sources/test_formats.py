"""content/formats/*.yaml: every format's samples give their fields; bad files name file:line:col."""

from __future__ import annotations

import polars as pl
import pytest

from logscan.sources._formats import FormatError, check_sample, format_facts, formats, parse_format


def _all_samples():
    return [pytest.param(s, id=f"{f.name}:{s.at[0]}") for f in formats().values() for s in f.samples]


@pytest.mark.parametrize("sample", _all_samples())
def test_every_format_sample_gives_its_fields(sample):
    check_sample(sample)  # raises FormatError naming file:line when a field differs


def test_every_text_format_has_samples_and_windows_levels_are_complete():
    found = formats()
    assert {"windows_agent_logs", "vmsnapshot_log", "shell_log", "syslog", "windows_events"} <= set(found)
    assert all(f.samples for name, f in found.items() if name != "windows_events")
    assert format_facts("windows_events").level_numbers["2"] == "ERROR"
    assert format_facts("windows_events").level_names["FEHLER"] == "ERROR"


def test_a_sample_that_does_not_give_its_fields_is_an_error_at_its_line():
    text = (
        "format: t\n"
        "samples:\n"
        "  - source: shell_log\n"
        "    line: 'Mon Nov 18 00:05:10 UTC 2019- python version unknown'\n"
        "    fields: {level: INFO}\n"
    )
    fmt = parse_format("content/formats/t.yaml", text)
    with pytest.raises(FormatError) as exc:
        check_sample(fmt.samples[0])
    assert str(exc.value).startswith("content/formats/t.yaml:3:5: sample level is 'ERROR'")


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("format: t\nkeyword_levels:\n  - {level: LOUD, pattern: x}\n", ":3:5:", "level 'LOUD'"),
        ("format: t\npatterns:\n  bad: '(unclosed'\n", ":3:8:", "invalid regex"),
        ("format: t\ncolour: red\n", ":2:1:", "unknown key 'colour'"),
        ("format: t\nsamples:\n  - {source: shell_log}\n", ":3:5:", "a sample is"),
        ("format: [\n", ":2:1:", ""),
    ],
)
def test_invalid_files_name_file_line_col(text, where, words):
    with pytest.raises(FormatError) as exc:
        parse_format("f.yaml", text)
    assert str(exc.value).startswith("f.yaml" + where) and words in str(exc.value)


def test_keyword_levels_first_match_wins_and_none_is_null():
    fmt = parse_format("f.yaml", "format: t\nkeyword_levels:\n  - {level: ERROR, pattern: fail}\n  - {level: WARNING, pattern: warn}\n")
    df = pl.DataFrame({"text": ["warn then fail", "a warning", "fine"]})
    assert df.select(fmt.keyword_level("text"))["literal"].to_list() == ["ERROR", "WARNING", None]


def test_the_continuation_rule_joins_unheaded_lines_to_the_record_above():
    from logscan.sources.base import join_continuation_lines, lines_frame

    df = lines_frame("stray\n2024 A first\n  at x\n  at y\n2024 B second\n").with_columns(
        is_header=pl.col("raw").str.starts_with("2024"),
    )
    df = df.with_columns(message=pl.when(pl.col("is_header")).then(pl.col("raw").str.slice(5)))
    rec = join_continuation_lines(df, keep=["message"])
    assert rec["line"].to_list() == [1, 2, 5]
    assert rec["message"].to_list() == ["stray", "A first\n  at x\n  at y", "B second"]
    tidy = join_continuation_lines(df, keep=["message"], tidy=lambda rest: rest.str.replace_all("  at ", " "))
    assert tidy["message"][1] == "A first\n x\n y"
