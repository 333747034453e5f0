"""engine/targets.py: each engine's differences as data; every builder prints in its dialect."""

from __future__ import annotations

import pytest
from sqlglot import exp

from leadgate.engine.targets import TARGETS, target
from leadgate.errors import UnsupportedTargetError


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_builder_of_every_target_prints(name: str) -> None:
    t = target(name)
    x = exp.column("x")
    for built in (t.fold(x.copy()), t.epoch_seconds(x.copy()), t.after_last_at(x.copy()),
                  t.strip(x.copy()), t.regex(x.copy(), r"\bvp\b")):  # fmt: skip
        assert built.sql(dialect=t.dialect)


def test_runnable_targets_are_the_engines_leadgate_runs() -> None:
    assert sorted(n for n, t in TARGETS.items() if t.runnable) == [
        "duckdb", "postgres", "spark", "sqlite",
    ]  # fmt: skip


def test_an_unknown_target_is_a_user_error() -> None:
    with pytest.raises(UnsupportedTargetError, match="unknown SQL dialect 'oracle'"):
        target("oracle")


def test_builders_compute_what_the_python_executor_does_on_duckdb() -> None:
    import duckdb

    t = target("duckdb")
    value = exp.Literal.string("\u00a0 Open\t")
    row = duckdb.sql(
        exp.select(
            t.fold(exp.Literal.string("ÀBC")),
            t.strip(value),
            t.after_last_at(exp.Literal.string("a@b@c.io")),
        ).sql("duckdb")
    ).fetchall()[0]
    assert row == ("Àbc", "Open", "c.io")
