"""Column-wise records (``batch.records.record_sql``): DuckDB's text of a number is
``engine.result.number_text``'s for every float a lack can show."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from leadgate.batch.records import num_text_sql
from leadgate.engine.result import number_text

CON = duckdb.connect()


def _sql_num(value: float) -> str:
    expr = num_text_sql(exp.cast(exp.Literal.string(repr(value)), "double"))
    return CON.execute(f"SELECT {exp.select(expr).sql('duckdb')[len('SELECT ') :]}").fetchone()[0]


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
        st.integers(-1000, 1000).map(lambda n: n / 8),  # halves and eighths: rounding ties
        st.integers(-(10**5), 10**5).map(lambda n: n / 1000),
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e37, max_value=1e37),
    )
)
def test_number_text_matches_python(value: float) -> None:
    assert _sql_num(value) == number_text(value)


def test_number_text_edges() -> None:
    for value in (0.0, -0.0, 2.675, 0.125, 0.005, 1e-9, 59.999, 1e30, 2.0**70, -3.0, 0.3 - 0.1):
        assert _sql_num(value) == number_text(value), value
