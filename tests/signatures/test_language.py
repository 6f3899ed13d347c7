"""The signature language: parse trees, errors with file:line:col, compilation, evaluation."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscan.errors import SignatureError
from logscan.frames import EVENT_SCHEMA, events_from_records
from logscan.rules.language import (
    And,
    Count,
    Duration,
    Not,
    Or,
    Predicate,
    Regex,
    Sequence,
    compile_expr,
    parse_condition,
)
from logscan.rules.signatures import (
    HIT_SCHEMA,
    LEVEL_WEIGHTS,
    evaluate,
    load_signatures,
    parse_signatures,
    run_tests,
)

T0 = datetime(2024, 5, 30, 13, 0, tzinfo=timezone.utc)


def P(field: str, op: str, value=None) -> Predicate:
    return Predicate(field, op, value)


def msg(text: str) -> Predicate:
    return Predicate("message", "contains", text)


def events(*rows: dict) -> pl.DataFrame:
    """Event rows; ``t`` is seconds after T0, file defaults to one file, line to the index."""
    out = []
    for i, r in enumerate(rows):
        r = dict(r)
        if "t" in r:
            t = r.pop("t")
            r["time"] = None if t is None else T0 + timedelta(seconds=t)
        if isinstance(r.get("data"), dict):
            r["data"] = [{"name": k, "value": v} for k, v in r["data"].items()]
        out.append({"source": "waagent_log", "file": "f.log", "line": i + 1, **r})
    return events_from_records(out)


SIG_TEMPLATE = """\
title: {id}
id: {id}
level: {level}
causes: [agent-not-running]
condition: '{condition}'
tests:
  match: [{{events: [{{message: x}}]}}]
  nomatch: [{{events: [{{message: y}}]}}]
"""


def sig(condition: str, id: str = "s", level: str = "medium", **_):
    return parse_signatures(SIG_TEMPLATE.format(id=id, level=level, condition=condition.replace("'", "''")), "t.yaml")[0]


def hit_rows(signatures, ev) -> list[tuple]:
    h = evaluate(signatures, ev)
    return list(zip(h["signature"], h["line"], h["role"], h["group"], strict=True))


# ---------------------------------------------------------------------------------------
# Parse trees
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, tree",
    [
        ('message contains "a b"', P("message", "contains", "a b")),
        ('message contains ["a", "b",]', P("message", "contains", ("a", "b"))),
        ("message icontains 'Failed'", P("message", "icontains", "Failed")),
        ('message startswith "Snap"', P("message", "startswith", "Snap")),
        ('text endswith ["x", "y"]', P("text", "endswith", ("x", "y"))),
        ("message ~ /fs\\/freeze\\s+\\d+/is", P("message", "~", Regex("fs/freeze\\s+\\d+", "is"))),
        ("message !~ /ok/", P("message", "!~", Regex("ok"))),
        ('level == "ERROR"', P("level", "==", "ERROR")),
        ('level != "INFO"', P("level", "!=", "INFO")),
        ("event_id == 1000", P("event_id", "==", 1000)),
        ('event_id == "1000"', P("event_id", "==", 1000)),  # a number in a string, for a number column
        ("event_duration < 5", P("event_duration", "<", 5)),
        ("event_duration <= 5.5", P("event_duration", "<=", 5.5)),
        ("line > -1", P("line", ">", -1)),
        ("line >= 10", P("line", ">=", 10)),
        ('level in ["ERROR", "CRITICAL"]', P("level", "in", ("ERROR", "CRITICAL"))),
        ("event_id in [1000, 1026]", P("event_id", "in", (1000, 1026))),
        ("extension exists", P("extension", "exists")),
        ('data.AppName == "vssvc.exe"', P("data.AppName", "==", "vssvc.exe")),
        ('data["Faulting module"] contains "x"', P("data.Faulting module", "contains", "x")),
        ("data.Code > 3", P("data.Code", ">", 3)),
        ("data.Code exists", P("data.Code", "exists")),
        ('"Snapshot failed"', msg("Snapshot failed")),
        ('"say \\"hi\\""', msg('say "hi"')),
        ("/freeze (start|end)/i", P("message", "~", Regex("freeze (start|end)", "i"))),
        ('time >= "2024-05-30T13:00:00Z"', P("time", ">=", "2024-05-30T13:00:00Z")),
    ],
)
def test_every_operator_parses_to_its_tree(text, tree):
    assert parse_condition(text) == tree


def test_precedence_not_over_and_over_or():
    a, b, c = msg("a"), msg("b"), msg("c")
    assert parse_condition('"a" or "b" and not "c"') == Or((a, And((b, Not(c)))))
    assert parse_condition('not "a" and "b"') == And((Not(a), b))
    assert parse_condition('not ("a" or "b") and "c"') == And((Not(Or((a, b))), c))
    assert parse_condition('("a" or "b") and "c"') == And((Or((a, b)), c))
    assert parse_condition('"a" and "b" and "c" or "a"') == Or((And((a, b, c)), a))
    assert parse_condition('not not "a"') == Not(Not(a))


def test_temporal_forms_parse():
    assert parse_condition('count("x") >= 3 within 10m by file, source') == Count(msg("x"), 3, Duration("10m"), ("file", "source"))
    assert parse_condition('count("x") > 2') == Count(msg("x"), 3, None, ("file",))
    assert parse_condition('"a" followed_by "b" within 30s') == Sequence(msg("a"), msg("b"), Duration("30s"), ("file",))
    assert parse_condition('"a" not  followed_by "b" within 2h by none') == Sequence(
        msg("a"), msg("b"), Duration("2h"), (), absent=True
    )
    assert Duration("1d").delta == timedelta(days=1)
    assert Duration("500ms").delta == timedelta(milliseconds=500)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('mesage contains "x"', "did you mean 'message'"),
        ('message contains 5', "expected '[', a string"),
        ('message contains ["a", 5]', "needs strings"),
        ('message contains ""', "non-empty"),
        ("message ~ /(?<=a)b/", "bad regex"),
        ("message ~ /a/x", "unknown regex flag"),
        ('event_id == "abc"', "is a number"),
        ('line < "abc"', "compares numbers"),
        ('time > "yesterday"', "ISO 8601"),
        ('data == "x"', "data.NAME"),
        ('count("x") == 3', "count supports"),
        ('count("x") >= 0', "between 1"),
        ('"a" and count("x") >= 3', "unexpected"),
        ('("a" followed_by "b" within 1m)', "unexpected"),
        ('"a" followed_by "b"', "ends too early"),
        ('"a" followed_by "b" within 0s', "longer than 0"),
        ('count("x") >= 2 by nosuch', "unknown field"),
        ('"a" AND "b"', "unexpected"),
        ("", "empty"),
        ('message contains "x" )', "unexpected"),
    ],
)
def test_bad_conditions_raise_signature_errors(text, fragment):
    with pytest.raises(SignatureError) as exc:
        parse_condition(text)
    assert fragment in str(exc.value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.one_of(
        st.text(max_size=80),
        st.lists(
            st.sampled_from(
                ['"a"', "message", "contains", "and", "or", "not", "(", ")", "[", "]", ",", "~", "/x/i", "==", "<",
                 "1", "count", "within", "10m", "by", "followed_by", "data.X", "exists", "in", ">=", "'b'", "file"]
            ),
            max_size=14,
        ).map(" ".join),
    )
)
def test_random_text_only_ever_raises_signature_error(text):
    try:
        tree = parse_condition(text)
    except SignatureError:
        return
    # What parses also compiles and evaluates.
    s = parse_signatures(SIG_TEMPLATE.format(id="fuzz", level="low", condition=text.replace("'", "''")), "f.yaml")
    assert s[0].tree == tree
    evaluate(s, events({"message": "a x", "t": 0}, {"message": "b", "t": 5}))


# ---------------------------------------------------------------------------------------
# Errors point into the YAML file
# ---------------------------------------------------------------------------------------


def test_condition_error_is_reported_at_its_line_and_column_in_the_file(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(
        "title: Bad\n"
        "id: bad\n"
        "level: high\n"
        "causes: [agent-not-running]\n"
        "tests: {match: [x], nomatch: [y]}\n"
        "logsource: {sources: [waagent_log]}\n"
        'condition: "x" ! "y"\n'  # the '!' is line 7, column 16
    )
    with pytest.raises(SignatureError) as exc:
        load_signatures([f])
    e = exc.value
    assert (e.file, e.line, e.col) == (str(f), 7, 16)
    assert str(e).startswith(f"{f}:7:16: ")


def test_a_bad_token_on_line_7_col_12_is_reported_as_file_7_12(tmp_path):
    f = tmp_path / "bad.yaml"
    lines = ["title: Bad", "id: bad", "level: high", "causes: [agent-not-running]", "tests: {match: [x], nomatch: [y]}",
             "logsource: {sources: [waagent_log]}", "condition: ) and x"]
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(SignatureError, match=r"bad\.yaml:7:12: unexpected"):
        load_signatures([f])


def test_error_positions_in_block_and_quoted_scalars():
    body = textwrap.dedent(
        """\
        - title: Block
          id: block
          level: low
          causes: [c]
          tests: {match: [{events: [{message: x}]}], nomatch: [{events: [{message: y}]}]}
          condition: |
            message contains "x"
              and levle == "ERROR"
        """
    )
    with pytest.raises(SignatureError) as exc:
        parse_signatures(body, "b.yaml")
    assert (exc.value.line, exc.value.col) == (8, 11)
    assert "unknown field 'levle'" in str(exc.value)

    quoted = body.replace('|\n    message contains "x"\n      and levle == "ERROR"', "'\"x\" and levle == 1'")
    with pytest.raises(SignatureError) as exc:
        parse_signatures(quoted, "q.yaml")
    assert (exc.value.line, exc.value.col) == (6, 23)


@pytest.mark.parametrize(
    "change, fragment, line, col",
    [
        (("level: high", "level: severe"), "level must be one of", 3, 8),
        (("sources: [waagent_log]", "sources: [waagent_log, nosuch_log]"), "unknown source 'nosuch_log'", 6, 36),
        (("causes: [c]", "causes: []"), "at least one cause", 4, 9),
        (("id: good", "id: Not_Kebab"), "kebab-case", 2, 5),
        (("tests:", "conditon: x\ntests:"), "unknown key 'conditon'; did you mean 'condition'?", 8, 1),
        (("status: stable", "status: done"), "status must be one of", 5, 9),
        (("  nomatch: [y]\n", "  nomatch: []\n"), "tests.nomatch must be a non-empty list", 10, 12),
        (("  nomatch: [y]\n", "  nomatch: [y]\nevidence: 3\n"), "unknown key 'evidence'", 11, 1),
    ],
)
def test_metadata_errors_point_at_the_value(change, fragment, line, col):
    good = (
        "title: Good\nid: good\nlevel: high\ncauses: [c]\nstatus: stable\n"
        "logsource: {sources: [waagent_log]}\ncondition: '\"x\"'\ntests:\n  match: [x]\n  nomatch: [y]\n"
    )
    assert parse_signatures(good, "g.yaml")[0].id == "good"
    with pytest.raises(SignatureError) as exc:
        parse_signatures(good.replace(*change), "g.yaml")
    assert fragment in str(exc.value)
    assert (exc.value.line, exc.value.col) == (line, col)


def test_missing_keys_yaml_errors_and_duplicate_ids(tmp_path):
    with pytest.raises(SignatureError, match="missing required key 'causes'"):
        parse_signatures("title: a\nid: a\nlevel: low\ncondition: x\ntests: {}\n")
    with pytest.raises(SignatureError) as exc:
        parse_signatures("title: a\nid: [a\n", "y.yaml")
    assert exc.value.file == "y.yaml" and exc.value.line == 3
    with pytest.raises(SignatureError, match=r"needs logsource\.sources"):
        parse_signatures("title: a\nid: a\nlevel: low\ncauses: [c]\ncondition: '\"x\"'\ntests: {match: [x], nomatch: [y]}\n")
    one = SIG_TEMPLATE.format(id="same", level="low", condition='"x"')
    (tmp_path / "a.yaml").write_text(one)
    (tmp_path / "b.yaml").write_text(one)
    with pytest.raises(SignatureError, match=r"duplicate id 'same' \(first at .*a\.yaml:1\)") as e:
        load_signatures([tmp_path])
    assert e.value.file.endswith("b.yaml")


def test_families_documents_weights_and_caching(tmp_path):
    family = "- " + SIG_TEMPLATE.format(id="one", level="low", condition='"x"').replace("\n", "\n  ")
    family += "\n- " + SIG_TEMPLATE.format(id="two", level="critical", condition='"y"').replace("\n", "\n  ")
    (tmp_path / "fam.yaml").write_text(family + "\n---\n" + SIG_TEMPLATE.format(id="three", level="high", condition='"z"'))
    sigs = load_signatures([tmp_path])
    assert [s.id for s in sigs] == ["one", "two", "three"]
    assert [s.weight for s in sigs] == [LEVEL_WEIGHTS["low"], 1.0, 0.8]
    assert [s.line for s in sigs] == [1, 10, 20]
    assert load_signatures([tmp_path])[0] is sigs[0]  # cached
    assert load_signatures() == load_signatures()  # the package's own set loads (may be empty)


# ---------------------------------------------------------------------------------------
# Row predicates
# ---------------------------------------------------------------------------------------


def matching_lines(condition: str, ev: pl.DataFrame) -> list[int]:
    return ev.filter(compile_expr(parse_condition(condition)))["line"].to_list()


def test_row_predicates_select_the_right_rows():
    ev = events(
        {"message": "Snapshot FAILED for disk", "level": "ERROR", "event_id": 1000, "t": 0},
        {"message": "snapshot ok", "level": "INFO", "event_id": 1026, "t": 60},
        {"message": None, "level": None, "t": 120},
        {"message": "fsfreeze: timed out", "level": "WARNING", "event_duration": 70000, "t": 180},
    )
    assert matching_lines('"Snapshot"', ev) == [1]
    assert matching_lines('message icontains "snapshot"', ev) == [1, 2]
    assert matching_lines('message contains ["ok", "timed"]', ev) == [2, 4]
    assert matching_lines('message startswith ["snap", "fs"]', ev) == [2, 4]
    assert matching_lines('message endswith "out"', ev) == [4]
    assert matching_lines("message ~ /fail(ed)?/i", ev) == [1]
    assert matching_lines("message !~ /ok/", ev) == [1, 3, 4]  # null: the negation holds
    assert matching_lines('level != "INFO"', ev) == [1, 3, 4]
    assert matching_lines('not message contains "ok"', ev) == [1, 3, 4]
    assert matching_lines('level in ["ERROR", "WARNING"]', ev) == [1, 4]
    assert matching_lines("event_id in [1026, 7]", ev) == [2]
    assert matching_lines("event_id >= 1000 and event_id < 1026", ev) == [1]
    assert matching_lines("event_duration > 60000", ev) == [4]
    assert matching_lines("message exists", ev) == [1, 2, 4]
    assert matching_lines('time > "2024-05-30T13:01:30Z"', ev) == [3, 4]
    assert matching_lines('time == "2024-05-30 13:01:00"', ev) == [2]
    assert matching_lines('level == "ERROR" or "ok" and not level == "INFO"', ev) == [1]
    assert matching_lines('message contains "a\\"b"', ev) == []


def test_data_name_predicates_read_windows_event_data():
    ev = events(
        {"data": {"AppName": "VSSVC.exe", "Code": "0x8", "Count": "12"}, "t": 0},
        {"data": [{"name": "AppName", "value": "other.exe"}, {"name": "Count", "value": "3"}], "t": 1},
        {"data": None, "t": 2},
        {"data": {"Faulting module": "ntdll.dll"}, "t": 3},
    )
    assert matching_lines('data.AppName == "VSSVC.exe"', ev) == [1]
    assert matching_lines("data.AppName ~ /^vss/i", ev) == [1]
    assert matching_lines("data.Count > 5", ev) == [1]
    assert matching_lines("data.Count exists", ev) == [1, 2]
    assert matching_lines("not data.Count exists", ev) == [3, 4]
    assert matching_lines('data["Faulting module"] icontains "NTDLL"', ev) == [4]
    assert matching_lines('data.AppName in ["other.exe", "x"]', ev) == [2]
    assert matching_lines("data exists", ev) == [1, 2, 4]


def test_sources_scope_a_signature():
    s = parse_signatures(
        "title: a\nid: a\nlevel: low\ncauses: [c]\nlogsource: {sources: [command_execution_log]}\n"
        "condition: '\"boom\"'\ntests: {match: [{events: [{message: boom}]}], nomatch: [{events: [{message: x}]}]}\n"
    )
    ev = events({"message": "boom", "t": 0}, {"message": "boom", "source": "command_execution_log", "t": 1})
    assert evaluate(s, ev)["line"].to_list() == [2]
    assert run_tests(s[0]) == []  # events rows take the signature's first source


# ---------------------------------------------------------------------------------------
# Evaluation: hits frame, temporal forms
# ---------------------------------------------------------------------------------------


def test_hits_frame_shape_and_plain_matches():
    ev = events({"message": "boom", "text": "T boom", "level": "ERROR", "t": 5}, {"message": "quiet", "t": 6},
                {"message": "boom again", "t": 1})
    h = evaluate([sig('"boom"', id="b", level="high"), sig('"never"', id="n")], ev)
    assert h.schema == pl.Schema(HIT_SCHEMA)
    assert h.select("signature", "level", "role", "group", "line", "text", "event_level", "row").rows() == [
        ("b", "high", "match", 1, 3, "boom again", None, 2),
        ("b", "high", "match", 2, 1, "T boom", "ERROR", 0),
    ]
    assert evaluate([], ev).schema == pl.Schema(HIT_SCHEMA)
    assert evaluate([sig('"boom"')], ev.clear()).height == 0


def test_count_within_marks_every_row_of_each_window_that_reaches_n():
    s = sig('count("boom") >= 3 within 1m')
    ev = events(
        {"message": "boom", "t": 0},  # 1: alone, more than 1m before the next two
        {"message": "boom", "t": 100},  # 2 ┐ 100,130,160: one window of 3
        {"message": "calm", "t": 110},
        {"message": "boom", "t": 130},  # 4 │
        {"message": "boom", "t": 160},  # 5 ┘ 130,160,190 overlaps → same group
        {"message": "boom", "t": 190},  # 6
        {"message": "boom", "t": 400},  # 7 ┐ a second, separate burst
        {"message": "boom", "t": 401},  # 8 │
        {"message": "boom", "t": 460},  # 9 ┘ exactly 60 s after 7: the window is closed
        {"message": "boom", "t": 700},  # 10: two rows only
        {"message": "boom", "t": 710},
        {"message": "boom", "t": None},  # no time: cannot be in a window
    )
    assert hit_rows([s], ev) == [("s", n, "match", 1) for n in (2, 4, 5, 6)] + [("s", n, "match", 2) for n in (7, 8, 9)]


def test_count_windows_include_rows_at_equal_times_and_both_ends():
    s = sig('count("b") >= 3 within 1m')
    assert len(hit_rows([s], events({"message": "b", "t": 0}, {"message": "b", "t": 0}, {"message": "b", "t": 60}))) == 3
    assert hit_rows([s], events({"message": "b", "t": 0}, {"message": "b", "t": 0}, {"message": "b", "t": 61})) == []


def test_count_groups_by_file_by_default_and_by_none():
    ev = events(
        {"message": "boom", "file": "a", "t": 0},
        {"message": "boom", "file": "b", "t": 1},
        {"message": "boom", "file": "a", "t": 2},
    )
    assert evaluate([sig('count("boom") >= 3 within 1m')], ev).height == 0
    assert evaluate([sig('count("boom") >= 3 within 1m by none')], ev)["line"].to_list() == [1, 2, 3]
    assert evaluate([sig('count("boom") >= 2 within 1m by file')], ev)["file"].to_list() == ["a", "a"]
    # Without within: every match of each group whose total reaches N.
    h = evaluate([sig('count("boom") >= 2')], ev.vstack(events({"message": "boom", "file": "b", "t": 9000})))
    assert h.select("file", "group").rows() == [("a", 1), ("a", 1), ("b", 2), ("b", 2)]
    assert evaluate([sig('count("boom") > 2')], ev).height == 0


def test_followed_by_pairs_each_first_with_its_first_then_in_the_window():
    s = sig('"freeze start" followed_by "freeze end" within 10m')
    ev = events(
        {"message": "freeze start", "t": 0},  # 1 → 3
        {"message": "noise", "t": 10},
        {"message": "freeze end", "t": 100},  # 3
        {"message": "freeze end", "t": 110},  # 4: not the first end
        {"message": "freeze start", "t": 1000},  # 5: its end comes after 11 minutes
        {"message": "freeze end", "t": 1000 + 660},  # 6
        {"message": "freeze start", "t": 2000, "file": "other"},  # 7: the end below is in another file
        {"message": "freeze end", "t": 2001},
    )
    assert hit_rows([s], ev) == [("s", 1, "first", 1), ("s", 3, "then", 1)]
    across = sig('"freeze start" followed_by "freeze end" within 10m by none')
    assert ("s", 7, "first", 2) in hit_rows([across], ev)


def test_followed_by_needs_a_later_row_and_deduplicates_shared_thens():
    s = sig('"retry" followed_by "retry" within 1m')
    ev = events({"message": "retry", "t": 0}, {"message": "retry", "t": 10}, {"message": "retry", "t": 100})
    # 1→2 is a pair; 2→3 is 90 s: too late. A row used twice is listed once.
    assert hit_rows([s], ev) == [("s", 1, "first", 1), ("s", 2, "then", 1)]
    two_starts = events({"message": "start", "t": 0}, {"message": "start", "t": 5}, {"message": "end", "t": 10})
    rows = hit_rows([sig('"start" followed_by "end" within 1m')], two_starts)
    assert rows == [("s", 1, "first", 1), ("s", 3, "then", 1), ("s", 2, "first", 2)]


def test_absent_reports_starts_without_an_end_including_one_that_never_ends():
    s = sig('"freeze start" not followed_by "freeze end" within 10m')
    ev = events(
        {"message": "freeze start", "t": 0},  # ended in time
        {"message": "freeze end", "t": 60},
        {"message": "freeze start", "t": 1000},  # ended too late
        {"message": "freeze end", "t": 1000 + 601},
        {"message": "freeze start", "t": 3000},  # never ends: the log stops 30 s later
        {"message": "noise", "t": 3030},
    )
    assert hit_rows([s], ev) == [("s", 3, "start", 1), ("s", 5, "start", 2)]
    only_start = events({"message": "freeze start", "t": 0})
    assert hit_rows([s], only_start) == [("s", 1, "start", 1)]


def test_one_pass_over_the_frame_gives_the_same_hits_as_one_signature_at_a_time(monkeypatch):
    words = ["alpha", "beta", "gamma", "delta", "error", "retry", "freeze"]
    ev = events(*[{"message": f"{words[i % 7]} {words[(i * 3) % 7]} n{i}", "level": ["INFO", "ERROR"][i % 2], "t": i * 7}
                  for i in range(400)])
    conds = []
    for i in range(50):
        a, b = words[i % 7], words[(i + 2) % 7]
        conds.append([
            f'"{a} {b}"', f'message icontains "{a.upper()}" and level == "ERROR"', f"message ~ /^{a} (beta|{b})/",
            f'count("{a}") >= 3 within 1m', f'"{a}" followed_by "{b}" within 30s', f'"{a}" not followed_by "{b}" within 20s',
            f'message startswith ["{a}", "{b}"] and not message endswith "n{i}"',
        ][i % 7])
    sigs = [sig(c, id=f"s{i}") for i, c in enumerate(conds)]
    separately = pl.concat([evaluate([s], ev) for s in sigs]).drop("row")
    together = evaluate(sigs, ev)
    assert together.height > 100
    assert together.drop("row").equals(separately)

    calls = []
    real = pl.LazyFrame.collect

    def spy(self, *a, **k):
        out = real(self, *a, **k)
        calls.append(out.height)
        return out

    monkeypatch.setattr(pl.LazyFrame, "collect", spy)
    plain = [s for s in sigs if not s.temporal]
    evaluate(plain, ev)
    assert len(calls) == 1  # one query over the frame for all plain signatures


# ---------------------------------------------------------------------------------------
# Self-tests
# ---------------------------------------------------------------------------------------

WAAGENT_SIG = """\
title: Extension install failed
id: ext-install-failed
level: high
logsource: {sources: [waagent_log]}
causes: [extension-install-failed]
condition: 'level == "ERROR" and message icontains "failed to install"'
tests:
  match:
    - |
      2023-03-13T15:44:04.906673Z INFO ExtHandler ExtHandler starting
      2023-03-13T15:44:05.906673Z ERROR ExtHandler ExtHandler Extension FAILED to install
  nomatch:
    - "2023-03-13T15:44:04.906673Z INFO ExtHandler ExtHandler failed to install? no, fine"
    - {source: command_execution_log, text: "2023-03-13T15:44:04.906673Z INFO ExtHandler ok"}
"""


def test_run_tests_passes_good_examples_parsed_by_the_source_parser():
    s = parse_signatures(WAAGENT_SIG, "w.yaml")[0]
    assert [(e.expect, e.source, e.line) for e in s.tests] == [
        ("match", "waagent_log", 9), ("nomatch", "waagent_log", 13), ("nomatch", "command_execution_log", 14)
    ]
    assert run_tests(s) == []


def test_run_tests_reports_an_example_that_does_not_match_and_one_that_does():
    bad = WAAGENT_SIG.replace("Extension FAILED to install", "Extension installed").replace(
        "INFO ExtHandler ExtHandler failed", "ERROR ExtHandler ExtHandler failed"
    )
    failures = run_tests(parse_signatures(bad, "w.yaml")[0])
    assert len(failures) == 2
    assert failures[0] == "w.yaml:9: ext-install-failed: match example gave no hit"
    assert failures[1].startswith("w.yaml:13: ext-install-failed: nomatch example hit line 1: ")


def test_cli_lists_and_tests_signatures(tmp_path):
    from typer.testing import CliRunner

    from logscan.cli import app

    (tmp_path / "good.yaml").write_text(WAAGENT_SIG)
    runner = CliRunner()
    listed = runner.invoke(app, ["signatures", "list", str(tmp_path)])
    assert listed.exit_code == 0 and "ext-install-failed" in listed.output
    ok = runner.invoke(app, ["signatures", "test", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "1 passed, 0 failed" in ok.output
    (tmp_path / "bad.yaml").write_text(
        WAAGENT_SIG.replace("id: ext-install-failed", "id: other").replace("FAILED to install", "installed")
    )
    failed = runner.invoke(app, ["signatures", "test", str(tmp_path)])
    assert failed.exit_code == 1
    assert "FAIL " in failed.output and "bad.yaml:9: other: match example gave no hit" in failed.output
    broken = tmp_path / "broken" / "x.yaml"
    broken.parent.mkdir()
    broken.write_text("title: x\n")
    assert runner.invoke(app, ["signatures", "test", str(broken)]).exit_code == 1


def test_event_schema_fields_are_all_usable_in_conditions():
    for name, dtype in EVENT_SCHEMA.items():
        cond = f"{name} exists"
        assert parse_condition(cond) == P(name, "exists")
        if dtype == pl.String:
            parse_condition(f'{name} contains "x"')


def test_the_package_signature_set_passes_its_own_tests():
    sigs = load_signatures()
    failures = [f for s in sigs for f in run_tests(s)]
    assert failures == []


def test_grammar_file_is_where_authors_look():
    root = Path(__file__).resolve().parents[2]
    assert (root / "grammars" / "signature.lark").is_file()
