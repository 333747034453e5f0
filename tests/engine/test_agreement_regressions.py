"""Counterexamples the agreement search found, kept so they stay fixed (one test each)."""

from __future__ import annotations

from test_agreement import check_agreement


def test_numeric_test_on_an_event_property_no_file_has() -> None:
    # PostgreSQL typed the missing property's NULL as text: "operator does not exist: text >= double"
    model = {
        "threshold": 0,
        "dimensions": {"fit": {"rules": [
            {"name": "r", "event": "view", "where": {"ä": {"between": [-3, 0.5]}}, "points": 3},
            {"name": "c", "events": {"type": "view", "where": {"not": {"ä": {"gt": 5}}}}, "points": 2},
        ]}},
    }  # fmt: skip
    check_agreement(model, [{"title": "x"}], [(0, "view", 60, 0, {"url": "/a"})])


def test_check_names_and_segments_with_quotes_and_semicolons() -> None:
    model = {
        "threshold": 5,
        "dimensions": {'we"ird dim': {"rules": [{"name": "r0 '\"", "when": {"it's": {"exists": True}}, "points": 7}]}},
        "require": [{"name": "o'reilly; -- 0", "when": {"semi;colon": {"ne": "select"}}}],
        "segments": [{"name": "o'brien; --", "when": {"DROP TABLE leads": {"contains": "--"}}, "threshold": 1}],
    }  # fmt: skip
    profiles = [
        {"it's": "1", "semi;colon": "acme", "DROP TABLE leads": "a--b"},
        {"semi;colon": "select"},
    ]
    check_agreement(model, profiles, [])


def test_text_with_a_trailing_newline_is_not_a_number() -> None:
    # Python's `$` matched before a final newline, so the Python executor read "12\n" as 12
    model = {
        "threshold": 0,
        "dimensions": {"fit": {"rules": [
            {"name": "big", "when": {"size": {"gte": 10}}, "points": 5},
            {"name": "not big", "when": {"not": {"size": {"gte": 10}}}, "points": 1},
        ]}},
    }  # fmt: skip
    check_agreement(model, [{"size": "12\n"}, {"size": "12"}, {"size": " 12"}], [])


def test_event_types_padded_with_any_whitespace() -> None:
    # The reader strips a type as str.strip() does; SQL TRIM(x) removes spaces only, so DuckDB
    # and Spark (which read the files themselves) missed "open\t" and "\u00a0open".
    model = {
        "threshold": 0,
        "dimensions": {"act": {"rules": [
            {"name": "o", "event": "open", "points": 3},
            {"name": "c", "events": {"type": "click", "min_count": 2}, "points": 1},
        ]}},
    }  # fmt: skip
    events = [
        (0, "open\t", 60, 0, {}), (0, " open ", 70, 0, {}), (0, "\u00a0open\u3000", 80, 0, {}),
        (1, "click\n", 60, 0, {}), (1, "\x0bclick", 60, 0, {}), (1, "open", 90, 0, {}),
    ]  # fmt: skip
    check_agreement(model, [{"title": "a"}, {"title": "b"}], events)


def test_sql_whitespace_is_what_str_strip_removes() -> None:
    import sys

    from leadgate.engine.targets import WHITESPACE

    python = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert python == WHITESPACE
