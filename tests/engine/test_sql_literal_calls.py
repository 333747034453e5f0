"""The domain tests DuckDB runs as byte-wise calls instead of an RE2 search
(``SqlTarget.literal_calls``, ``sql_regex.literal_pattern``): the same truth as the Python
predicate (RE2, case-insensitive, on the folded domain) for every pattern and text."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from duckdb_conditions import run_on_emails
from leadgate.engine import ir
from leadgate.engine.python import predicate
from leadgate.engine.sql_regex import literal_pattern
from leadgate.model.regex_safety import compile_regex


def test_only_k_and_s_have_case_partners_beyond_ascii() -> None:
    """``literal_pattern``'s premise, over every code point: under RE2's case-insensitive
    matching the only non-ASCII characters equal to a printable ASCII one are the long s and the
    Kelvin sign (partners of s and k), on DuckDB's RE2 and on the ``re2`` module the Python
    engine uses. A pattern naming k or s must stay a regex."""
    with duckdb.connect() as con:
        found = con.execute(
            "SELECT i FROM (SELECT * FROM range(128, 55296) UNION ALL SELECT * FROM "
            "range(57344, 1114112)) AS t(i) WHERE regexp_full_match(chr(CAST(i AS INTEGER)), "
            "'(?i)[ -~]')"
        ).fetchall()
    partners = {chr(i): "".join(sorted(c for c in map(chr, range(32, 127))
                                       if re2.fullmatch(c if c.isalnum() else "\\" + c, chr(i),
                                                        options=_insensitive())))
                for (i,) in found}  # fmt: skip
    assert partners == {"\u017f": "Ss", "\u212a": "Kk"}
    for ch, ascii_partners in partners.items():
        for c in ascii_partners:
            assert compile_regex(c).search(ch) is not None
            assert literal_pattern(c) is None


def _insensitive() -> Any:
    opts = re2.Options()
    opts.case_sensitive = False
    return opts


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r"\.edu$", (".edu", False, True)),
        (r"^mail\.", ("mail.", True, False)),
        (r"^ACME\.IO$", ("acme.io", True, True)),
        ("corp", ("corp", False, False)),
        (r"\.co\-op$", (".co-op", False, True)),
        (r"\.uk$", None),  # k: the Kelvin sign is its partner
        (r"\.es$", None),  # s: the long s
        (r"\.(edu|ac)$", None),
        (r"\bedu$", None),
        (r"\x41", None),
        ("é$", None),
        (r"edu\$", ("edu$", False, False)),  # an escaped $ is the character
        (r"a.b", None),
    ],
)
def test_literal_pattern_reads_only_one_literal_text(
    pattern: str, literal: tuple[str, bool, bool] | None
) -> None:
    assert literal_pattern(pattern) == literal


PIECES = ["^", "$", r"\.", ".", "e", "E", "d", "u", "k", "s", r"\-", "-", "@", "a", "|", "\u017f"]
TEXT_CHARS = ["@", ".", "e", "E", "d", "u", "D", "k", "K", "\u212a", "s", "\u017f", "-", "a",
              "\n", "é", "\u0130"]  # fmt: skip


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map("".join),
    st.lists(st.one_of(st.none(), st.text(st.sampled_from(TEXT_CHARS), max_size=8)), min_size=1),
)
def test_domain_patterns_agree_with_the_python_predicate(
    pattern: str, emails: list[str | None]
) -> None:
    """A literal pattern becomes one call (no regex in the SQL); either way DuckDB's truth is
    the Python predicate's (RE2 on the folded domain), Kelvin signs, long s and newlines too."""
    cond = ir.Test("email", ir.Op.DOMAIN_MATCHES, pattern)
    got, sql = run_on_emails(cond, [*emails, "x@e.edu", "x@"])
    assert got == [predicate(cond)({"email": e}) for e in [*emails, "x@e.edu", "x@"]]
    assert ("REGEXP" not in sql) == (literal_pattern(pattern) is not None)


DOMAINS = ["rival.io", "a.b", "é.fr", "co"]
EMAIL_CHARS = ["@", ".", "r", "i", "v", "a", "l", "o", "b", "é", "f", "c", "R", "É"]


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.sampled_from(DOMAINS), min_size=1, max_size=4, unique=True),
    st.lists(st.one_of(st.none(), st.text(st.sampled_from(EMAIL_CHARS), max_size=12)), min_size=1),
)
def test_domain_lists_agree_with_the_python_predicate(
    domains: list[str], emails: list[str | None]
) -> None:
    """A short list (equality and one ``suffix`` per domain) and a longer one (one RE2 search)
    give the Python predicate's truth: the domain or a subdomain of one, nothing else."""
    cond = ir.Test("email", ir.Op.DOMAIN_IN, tuple(domains))
    extra = [f"x@{domains[0]}", f"x@sub.{domains[0]}", f"x@not{domains[0]}"]
    got, sql = run_on_emails(cond, [*emails, *extra])
    assert got == [predicate(cond)({"email": e}) for e in [*emails, *extra]]
    assert ("REGEXP" in sql) == (len(domains) > 3)
