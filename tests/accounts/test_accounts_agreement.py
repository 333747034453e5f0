"""Python and compiled SQL account scoring agree on random models and inputs, explanations whole.

Every field of every account's record and explanation (roll-up values and the leads behind them,
roles with filled, required and members, lacks) must be equal, numbers to 1e-9; event ids are
compared for the explained account (the batch path lists them for one account only, as for leads).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from accounts_agreement import AS_OF, account_inputs, account_models, plan_of
from factories import explanation_differences
from leadgate.account_scoring import AccountInputs, score_accounts
from leadgate.batch.spark_runner import spark_available
from leadgate.engine.accounts_result import AccountScore
from store_helpers import POSTGRES_ENGINE, engine_options

SQL_ENGINES = [
    "duckdb",
    "sqlite",
    POSTGRES_ENGINE,
]


def _whole(s: AccountScore) -> dict[str, object]:
    return {"record": s.to_record(), "explanation": s.explanation.to_dict()}


def _compare(model: str, inputs: AccountInputs, engine: str) -> None:
    plan = plan_of(model)
    want = score_accounts(plan, inputs, AS_OF, "python")
    got = score_accounts(plan, inputs, AS_OF, engine_options(engine))
    assert [s.account_id for s in got] == [s.account_id for s in want]
    for w, g in zip(want, got, strict=True):
        diffs = explanation_differences(_whole(w), _whole(g), ids=False)
        assert not diffs, (w.account_id, diffs)
    first = inputs.accounts[0]["account_id"]
    (one,) = score_accounts(plan, inputs, AS_OF, engine_options(engine), account=first)
    diffs = explanation_differences(_whole(want[0]), _whole(one))
    assert not diffs, (first, diffs)


@pytest.mark.parametrize("engine", SQL_ENGINES)
@settings(max_examples=6, deadline=None)  # fresh examples a run; the hand-checked case pins it
@given(model=account_models(), inputs=account_inputs())
def test_sql_agrees_with_python(engine: str, model: str, inputs: AccountInputs) -> None:
    _compare(model, inputs, engine)


@pytest.mark.spark
@pytest.mark.skipif(not spark_available(), reason="needs PySpark and Java")
@settings(max_examples=2, deadline=None)  # a Spark job per query: a couple of examples
@given(model=account_models(), inputs=account_inputs())
def test_spark_agrees_with_python(model: str, inputs: AccountInputs) -> None:
    _compare(model, inputs, "spark")
