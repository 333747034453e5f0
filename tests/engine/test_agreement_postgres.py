"""Invariant 1 on PostgreSQL: random models and the operator table, against a real server.

Marked ``postgres``: runs when LEADGATE_TEST_PG_URL points at a server (CI starts one), e.g.
``postgresql://postgres@127.0.0.1:55432/postgres``; skipped otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from agreement import inputs_st, measure_models, models
from hypothesis import HealthCheck, given, settings
from test_agreement import check_agreement
from test_sql import GOLDEN, _score_one

from factories import one_rule

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("LEADGATE_TEST_PG_URL"), reason="LEADGATE_TEST_PG_URL not set"
    ),
]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(models(), inputs_st)
def test_postgres_agrees_with_python(
    model: dict[str, Any], inputs: tuple[list[Any], list[Any]]
) -> None:
    profiles, events = inputs
    check_agreement(model, profiles, events, engines=["postgres"])


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(measure_models(), inputs_st)
def test_postgres_measures_agree_with_python(
    model: dict[str, Any], inputs: tuple[list[Any], list[Any]]
) -> None:
    profiles, events = inputs
    check_agreement(model, profiles, events, engines=["postgres"])


@pytest.mark.parametrize(("when", "cell", "expected"), GOLDEN)
def test_operator_golden_on_postgres(
    tmp_path: Path, when: dict[str, Any], cell: str, expected: bool
) -> None:
    total = _score_one(tmp_path, one_rule(when, points=10), {"v": cell}, "postgres")["total"]
    assert (total == 10) is expected


PATTERNS = [
    r"\bvp\b",
    r"^a.c$",
    r"\d{2}\s",
    r"[^\w.]",
    "[[:alpha:]]{3}",
    r"\Bx",
    r"é\b",
    "(?:x|y)z$",
]
TEXTS = [
    "VP sales",
    "mvp",
    "a\nc",
    "aXc",
    "12 x",
    "12\tx",
    "ab.",
    "abc",
    "éx",
    "café vp",
    "xyz",
    "xz\n",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_translated_regexes_match_what_re2_matches(pattern: str) -> None:
    import psycopg

    from leadgate.engine.sql_regex import translate_regex
    from leadgate.model.regex_safety import compile_regex

    translated = translate_regex(pattern, "postgres")
    with psycopg.connect(os.environ["LEADGATE_TEST_PG_URL"]) as con:
        for text in TEXTS:
            got = con.execute("SELECT %s ~* %s", (text, translated)).fetchone()
            assert got is not None
            assert got[0] == (compile_regex(pattern).search(text) is not None), (pattern, text)
