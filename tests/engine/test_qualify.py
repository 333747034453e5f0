"""Qualification defined once (engine/qualify.py): the Python verdict, its vectorised form and its
SQL form agree on every lead, and lacks come in the documented order."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from factories import plan_of
from leadgate.engine.ir import EPSILON
from leadgate.engine.qualify import Columns, meets, qualifies_sql, qualify, requirements
from leadgate.engine.result import CheckResult

MODEL: dict[str, Any] = {
    "threshold": 20,
    "floors": {"fit": 5, "engagement": 3},
    "require": [{"name": "has title", "when": {"title": {"exists": True}}}],
    "disqualify": [{"name": "student", "when": {"title": {"eq": "student"}}}],
    "dimensions": {
        "fit": {"rules": [{"name": "vp", "when": {"title": {"eq": "vp"}}, "points": 10}]},
        "engagement": {"rules": [{"name": "open", "event": "open", "points": 1}]},
    },
}
PLAN = plan_of(MODEL)
POLICY = PLAN.segments[-1].policy
value_st = st.sampled_from([0.0, 2.9999999999, 3.0, 5.0 - EPSILON / 2, 4.0, 20.0, 25.5, -1.0])


def _checks(disq: bool, gate: bool) -> list[CheckResult]:
    d, g = POLICY.disqualifiers[0], POLICY.gates[0]
    return [
        CheckResult(d.key, d.name, "disqualifier", disq),
        CheckResult(g.key, g.name, "gate", gate),
    ]


def test_requirements_are_listed_in_lack_order() -> None:
    kinds = [(r.kind, r.name) for r in requirements(PLAN, POLICY)]
    assert kinds == [
        ("disqualified", "student"), ("gate", "has title"),
        ("floor", "fit"), ("floor", "engagement"), ("threshold", "total"),
    ]  # fmt: skip


def test_every_lack_is_listed_with_its_shortfall() -> None:
    verdict = qualify(PLAN, POLICY, _checks(True, False), {"fit": 1.0, "engagement": 3.0}, 4.0)
    assert [str(lack) for lack in verdict.lacks] == [
        "disqualified: student", "gate failed: has title", "fit floor 5: short by 4",
        "threshold 20: short by 16 points",
    ]  # fmt: skip
    assert verdict.floor_met == {"fit": False, "engagement": True}
    assert not verdict.threshold_met and not verdict.mql


def test_met_flags_given_by_a_query_are_taken_as_they_are() -> None:
    met = {"fit": True, "engagement": True, "total": True}
    verdict = qualify(PLAN, POLICY, _checks(False, True), {"fit": 0.0, "engagement": 0.0}, 0.0, met)
    assert verdict.mql


@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.booleans(), value_st, value_st, value_st)
def test_python_numpy_and_sql_forms_agree(
    disq: bool, gate: bool, fit: float, engagement: float, total: float
) -> None:
    verdict = qualify(
        PLAN, POLICY, _checks(disq, gate), {"fit": fit, "engagement": engagement}, total
    )
    # vectorised (report/sweep.py): meets on arrays
    mask = (
        np.array([not disq and gate])
        & meets(np.array([fit]), 5.0)
        & meets(np.array([engagement]), 3.0)
        & meets(np.array([total]), 20.0)
    )
    assert bool(mask[0]) == verdict.mql
    # SQL (engine/sql.py's final select)
    cols = Columns(
        check=lambda key: exp.column(f"c_{key.replace('.', '_')}"),
        score=lambda name: exp.column(f"s_{name}"),
        total=lambda: exp.column("total"),
        number=lambda v: exp.cast(exp.Literal.string(repr(float(v))), "double"),
    )
    d, g = POLICY.disqualifiers[0], POLICY.gates[0]
    sql = exp.select(qualifies_sql(PLAN, POLICY, cols)).from_(
        exp.select(
            exp.alias_(exp.convert(disq), f"c_{d.key.replace('.', '_')}"),
            exp.alias_(exp.convert(gate), f"c_{g.key.replace('.', '_')}"),
            exp.alias_(cols.number(fit), "s_fit"),
            exp.alias_(cols.number(engagement), "s_engagement"),
            exp.alias_(cols.number(total), "total"),
        ).subquery("q")
    )
    with duckdb.connect() as con:
        rows = con.execute(sql.sql("duckdb")).fetchall()
    assert rows[0][0] == verdict.mql
