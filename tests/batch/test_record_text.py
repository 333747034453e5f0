"""Record text built by DuckDB (``batch.record_text``) is the text Python writes: numbers as
``repr``/``json.dumps``, text escaped as ``json.dumps(ensure_ascii=False)``, CSV fields quoted as
``csv.writer`` quotes them, for every value hypothesis finds."""

from __future__ import annotations

import csv
import io
import json

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from leadgate.batch.record_text import csv_field_sql, json_text_sql, number_sql

CON = duckdb.connect()


def _eval(expr: exp.Expression, value: object, kind: str) -> str:
    arg = exp.cast(exp.Placeholder(), kind)
    sql = exp.select(expr.transform(lambda n: arg.copy() if isinstance(n, exp.Column) else n))
    row = CON.execute(sql.sql("duckdb"), [value] * sql.sql("duckdb").count("?")).fetchone()
    assert row is not None
    return str(row[0])


def _csv_field(text: str) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow([text, "x"])  # a second field: a lone empty field is special
    return buf.getvalue()[: -len(",x\r\n")]


FLOATS = st.one_of(
    st.floats(allow_nan=False),
    st.floats(min_value=-1e3, max_value=1e3),
    st.integers(-(10**18), 10**18).map(float),
    st.sampled_from([float("nan"), 0.0, -0.0, 1e-5, 1e16, 1e22, 5e-324, 1.7976931348623157e308]),
)
# Text DuckDB can hold: any code point but the surrogates (not UTF-8) and NUL.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(max_examples=200, deadline=None)
@given(FLOATS)
def test_numbers_are_written_as_python_writes_them(value: float) -> None:
    column = exp.column("v")
    assert _eval(number_sql(column, json_text=True), value, "double") == json.dumps(value)
    assert _eval(number_sql(column, json_text=False), value, "double") == repr(value)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_text_is_escaped_as_json_dumps_and_quoted_as_csv_writer(text: str) -> None:
    column = exp.column("v")
    assert _eval(json_text_sql(column), text, "varchar") == json.dumps(text, ensure_ascii=False)
    assert _eval(csv_field_sql(column), text, "varchar") == _csv_field(text)


def test_text_edges() -> None:
    column = exp.column("v")
    for text in ['a"b', "a\\b", "x\ny", "\r", "\x01\x1f", "\x7f", "\u2028", "é€😀", "a,b", ""]:
        assert _eval(json_text_sql(column), text, "varchar") == json.dumps(text, ensure_ascii=False)
        assert _eval(csv_field_sql(column), text, "varchar") == _csv_field(text)
