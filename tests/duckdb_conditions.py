"""A compiled profile condition run on DuckDB over some emails, for the SQL condition tests."""

from __future__ import annotations

from typing import Any

import duckdb
from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.sql_conditions import ValueScope, condition_expr
from leadgate.engine.targets import target


def run_on_emails(cond: ir.Cond, emails: list[str | None]) -> tuple[list[Any], str]:
    """``cond`` on a lead's ``email`` on DuckDB: (truth per email, the test's SQL)."""
    scope = ValueScope(target("duckdb"), "l", "p", {"email": "text"})
    test = condition_expr(cond, scope)
    rows = exp.Values(
        expressions=[
            exp.Tuple(expressions=[exp.convert(i), exp.convert(e)]) for i, e in enumerate(emails)
        ],
        alias=exp.TableAlias(
            this=exp.to_identifier("l"),
            columns=[exp.to_identifier("i"), exp.to_identifier("email", quoted=True)],
        ),
    )
    slots = exp.select(exp.column("i", "l"), *scope.projections()).from_(rows)
    sql = exp.select(exp.alias_(test, "ok")).from_(slots.subquery("s")).order_by("i")
    with duckdb.connect() as con:
        return [r[0] for r in con.execute(sql.sql("duckdb")).fetchall()], test.sql("duckdb")
