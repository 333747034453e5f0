"""engine/sql_conditions.py: conditions as SQL that is never NULL, fields only as quoted
identifiers, each slot projected once (run on DuckDB against the Python predicate)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from duckdb_conditions import run_on_emails
from leadgate.engine import ir
from leadgate.engine.python import predicate
from leadgate.engine.sql_conditions import ValueScope, condition_expr, equals_any
from leadgate.engine.targets import target

FIELD = 'we"ird; DROP'
ROWS: list[dict[str, Any]] = [{FIELD: "VP Sales"}, {FIELD: ""}, {FIELD: None}, {FIELD: "12"}]
CONDS = [
    ir.Test(FIELD, ir.Op.CONTAINS, "vp"),
    ir.Not(ir.Test(FIELD, ir.Op.CONTAINS, "vp")),
    ir.Test(FIELD, ir.Op.NUM_GT, 10.0),
    ir.AnyOf((ir.Test(FIELD, ir.Op.EXISTS, False), ir.Test(FIELD, ir.Op.NUM_EQ, 12.0))),
    ir.AllOf(()),
    ir.AnyOf(()),
]


def _run(cond: ir.Cond) -> list[Any]:
    scope = ValueScope(target("duckdb"), "l", "p", {FIELD: "text"})
    test = condition_expr(cond, scope)
    values = exp.Values(
        expressions=[
            exp.Tuple(expressions=[exp.convert(i), exp.convert(r[FIELD])])
            for i, r in enumerate(ROWS)
        ],
        alias=exp.TableAlias(
            this=exp.to_identifier("l"),
            columns=[exp.to_identifier("i"), exp.to_identifier(FIELD, quoted=True)],
        ),
    )
    slots = exp.select(exp.column("i", "l"), *scope.projections()).from_(values)
    sql = exp.select(exp.alias_(test, "ok")).from_(slots.subquery("s")).order_by("i")
    with duckdb.connect() as con:
        return [r[0] for r in con.execute(sql.sql("duckdb")).fetchall()]


@pytest.mark.parametrize("cond", CONDS, ids=range(len(CONDS)))
def test_conditions_agree_with_the_python_predicate_and_are_never_null(cond: ir.Cond) -> None:
    got = _run(cond)
    assert None not in got
    assert got == [predicate(cond)(row) for row in ROWS]


def test_a_field_reaches_sql_only_as_a_quoted_identifier() -> None:
    scope = ValueScope(target("duckdb"), "l", "p", {FIELD: "text"})
    condition_expr(ir.Test(FIELD, ir.Op.CONTAINS, "x'); DROP TABLE t; --"), scope)
    sql = exp.select(*scope.projections()).from_("t").sql("duckdb")
    assert '"we""ird; DROP"' in sql


def test_a_field_the_input_lacks_is_missing_not_an_error() -> None:
    scope = ValueScope(target("duckdb"), "l", "p", {})
    test = condition_expr(ir.Test("absent", ir.Op.EXISTS, False), scope)
    sql = exp.select(exp.alias_(test, "ok")).from_(
        exp.select(*scope.projections(), exp.alias_(exp.convert(1), "one")).subquery("s")
    )
    with duckdb.connect() as con:
        assert con.execute(sql.sql("duckdb")).fetchall() == [(True,)]


EMAILS = ["ann@rival.io", "rival.io", "ann@", "@rival.io", "a@b@Rival.IO", "ann@x.EDU", "", None,
          "ann@sub.rival.io", "ann@notrival.io", "ann@gmail.com", "gmail.com"]  # fmt: skip
DOMAIN_CONDS = [
    ir.Test("email", ir.Op.DOMAIN_IN, ("rival.io",)),
    ir.Test("email", ir.Op.DOMAIN_MATCHES, r"\.edu$"),
    ir.Test("email", ir.Op.FREE_EMAIL, (False, ("gmail.com",))),
    ir.Test("email", ir.Op.FREE_EMAIL, (True, ("gmail.com",))),
]


@pytest.mark.parametrize("cond", DOMAIN_CONDS, ids=range(len(DOMAIN_CONDS)))
def test_email_domains_agree_with_the_python_predicate(cond: ir.Cond) -> None:
    """The domain is the text after the last '@', missing without one (the SQL has no CASE
    there: an address without '@' must not read as a domain, "rival.io" included)."""
    got, _ = run_on_emails(cond, EMAILS)
    assert got == [predicate(cond)({"email": e}) for e in EMAILS]


@pytest.mark.parametrize("values", [("a",), ("a", "b"), ("a", "b", "c")])
def test_equals_any_is_in_with_its_nulls(values: tuple[str, ...]) -> None:
    """``x = a OR x = b`` gives what ``x IN (a, b)`` gives, NULL for a NULL ``x`` included."""
    x = exp.column("x")
    chain = equals_any(x, values).sql("duckdb")
    listed = exp.In(this=x.copy(), expressions=[exp.Literal.string(v) for v in values]).sql(
        "duckdb"
    )
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT {chain}, {listed} FROM (VALUES ('a'), ('b'), ('c'), (''), (NULL)) AS t(x)"
        ).fetchall()
    assert all(a is b for a, b in rows)


# Texts whose lower() differs from the ASCII fold: the Kelvin sign and the dotted capital I
# lower to ASCII 'k' and 'i' on DuckDB, which the fold (A-Z only) leaves as they are.
TRAPS = ["\u212a", "\u0130", "k", "K", "i", "I", "\u0131", "é", "É", "/", "p", "P", "r", "x"]
NEEDLES = ["k", "i", "ki", "/p", "pr", "\u212a", "é", "É", "\u0131"]
TEXT_OPS = [ir.Op.CONTAINS, ir.Op.NOT_CONTAINS, ir.Op.STARTS_WITH, ir.Op.ENDS_WITH]


def _run_inline(cond: ir.Cond, texts: list[str | None]) -> tuple[list[Any], str]:
    """``cond`` on an event property read inline (as the event flags read it), on DuckDB."""
    scope = ValueScope(target("duckdb"), "e", "e", {FIELD: "text"}, inline=True)
    test = condition_expr(cond, scope)
    rows = exp.Values(
        expressions=[
            exp.Tuple(expressions=[exp.convert(i), exp.convert(t)]) for i, t in enumerate(texts)
        ],
        alias=exp.TableAlias(
            this=exp.to_identifier("e"),
            columns=[exp.to_identifier("i"), exp.to_identifier(FIELD, quoted=True)],
        ),
    )
    raw = exp.select(exp.column("i", "e"), *scope.raw_projections()).from_(rows)
    sql = exp.select(exp.alias_(test, "ok")).from_(raw.subquery("s")).order_by("i").sql("duckdb")
    with duckdb.connect() as con:
        return [r[0] for r in con.execute(sql).fetchall()], sql


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(st.sampled_from(TRAPS), max_size=4)), min_size=1),
    st.sampled_from([*TEXT_OPS, ir.Op.TEXT_IN, ir.Op.TEXT_NOT_IN]),
    st.lists(st.sampled_from(NEEDLES), min_size=1, max_size=2),
)
def test_event_text_tests_behind_the_lower_prefilter_agree_with_python(
    texts: list[str | None], op: ir.Op, needles: list[str]
) -> None:
    """An event property's text test runs on ``lower(text)`` first and on the ASCII fold only
    where that passed (``sql_conditions._folded``): the same truth as the Python predicate
    for texts that ``lower()`` folds differently (Kelvin sign, dotted I), missing values too."""
    arg: object = tuple(needles) if op in (ir.Op.TEXT_IN, ir.Op.TEXT_NOT_IN) else needles[0]
    cond = ir.Test(FIELD, op, arg)
    got, _ = _run_inline(cond, texts)
    assert got == [predicate(cond)({FIELD: t}) for t in texts]


@pytest.mark.parametrize("op", TEXT_OPS)
def test_the_prefilter_is_only_where_it_is_exact_and_cheaper(op: ir.Op) -> None:
    """ASCII needles on an event property: prefiltered (and exact on the traps); a needle that
    is not ASCII, or a lead's field (folded once per lead in ``prof``): the fold alone."""
    texts: list[str | None] = ["\u212aI", "KI", "ki", "\u0130k", None, ""]
    got, sql = _run_inline(ir.Test(FIELD, op, "ki"), texts)
    assert got == [predicate(ir.Test(FIELD, op, "ki"))({FIELD: t}) for t in texts]
    prefiltered = "= '' THEN NULL"  # the prefilter's branch for a missing value
    # The prefilter lowers the cell itself, not a NULLIF'd copy of it.
    assert prefiltered in sql and "LOWER(CAST(" in sql.split("THEN")[0]
    _, sql = _run_inline(ir.Test(FIELD, op, "é"), texts)
    assert prefiltered not in sql
    scope = ValueScope(target("duckdb"), "l", "p", {FIELD: "text"})
    assert "LOWER" not in condition_expr(ir.Test(FIELD, op, "ki"), scope).sql("duckdb")
