"""Score records as the text ``leadgate score`` writes, built by DuckDB: JSONL lines, CSV rows
and the flat Parquet columns, byte for byte what ``io.writers`` makes of ``record_maker``'s records.

Scoring a million leads in DuckDB takes seconds; turning each result row into a Python dict and
writing it takes ten times longer and holds every record in memory. Here the database builds the
output text itself and Python only moves batches of finished lines to the file.

Byte equality rests on three facts, each tested (``tests/batch/test_record_text.py``):
DuckDB's ``CAST(DOUBLE AS VARCHAR)`` is Python's ``repr(float)`` (shortest round trip, same
exponent form); text is escaped here exactly as ``json.dumps(ensure_ascii=False)`` escapes it
(backslash, quote, control characters), and quoted exactly as ``csv.writer``'s ``QUOTE_MINIMAL``
quotes (delimiter, quote, CR, LF). Model texts (dimension and segment names, lack texts) reach the
SQL only as literals (ARCHITECTURE.md invariant 6).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlglot import exp

from leadgate.batch.records import (
    Const,
    FieldValue,
    LackText,
    PerSegment,
    Texts,
    by_segment,
    lack_text_sql,
    literal_sql,
    record_values_sql,
    sql_call,
)
from leadgate.engine import ir
from leadgate.engine.record_spec import LIST_SEPARATOR, RECORD, Field, Kind
from leadgate.engine.record_spec import flat_columns as spec_flat_columns

CSV_LINE_END = "\r\n"  # csv.writer's default lineterminator

# json.dumps's escapes for text (ensure_ascii=False): these two, then every control character.
_JSON_ESCAPES = [("\\", "\\\\"), ('"', '\\"')] + [
    (chr(c), json.dumps(chr(c))[1:-1]) for c in range(32)
]


def _lit(text: str) -> exp.Expression:
    return exp.Literal.string(text)


def _concat(*parts: exp.Expression) -> exp.Expression:
    # One variadic concat, not a chain of ||: a chain allocates a string per step, per row.
    return sql_call("concat", *parts) if len(parts) > 1 else parts[0]


def _char(code: int) -> exp.Expression:
    # chr(n) rather than a literal: a NUL or other control character inside SQL text is fragile.
    return sql_call("chr", exp.Literal.number(code))


def json_text_sql(value: exp.Expression) -> exp.Expression:
    """``json.dumps(value, ensure_ascii=False)`` of a text value (quotes included).

    Plain text (no backslash, quote or control character: nearly every value) is only quoted;
    the rest go through the full chain of replacements, backslash first.
    """
    escaped: exp.Expression = value.copy()
    for raw, text in _JSON_ESCAPES:
        search = _lit(raw) if raw in ("\\", '"') else _char(ord(raw))
        escaped = sql_call("replace", escaped, search, _lit(text))
    special = sql_call("regexp_matches", value.copy(), _lit(r'[\x00-\x1f"\\]'))
    quote = _lit('"')
    return exp.Case(
        ifs=[exp.If(this=special, true=_concat(quote, escaped, quote.copy()))],
        default=_concat(quote.copy(), value.copy(), quote.copy()),
    )


def number_sql(value: exp.Expression, *, json_text: bool) -> exp.Expression:
    """A DOUBLE as Python writes it: ``repr`` in CSV; in JSON ``NaN``/``Infinity`` for the
    non-finite values (``json.dumps``), which DuckDB spells ``nan``/``inf``."""
    text = exp.cast(value.copy(), "varchar")
    if not json_text:
        return text
    return exp.Case(
        ifs=[
            exp.If(this=sql_call("isnan", value.copy()), true=_lit("NaN")),
            exp.If(
                this=sql_call("isinf", value.copy()),
                true=exp.Case(
                    ifs=[exp.If(this=exp.GT(this=value.copy(), expression=exp.Literal.number(0)),
                                true=_lit("Infinity"))],
                    default=_lit("-Infinity"),
                ),
            ),
        ],
        default=text,
    )  # fmt: skip


def csv_field_sql(value: exp.Expression) -> exp.Expression:
    """``csv.writer`` (QUOTE_MINIMAL) of one text field: quoted, quotes doubled, when it holds a
    comma, a quote, CR or LF."""
    quoted = _concat(_lit('"'), sql_call("replace", value.copy(), _lit('"'), _lit('""')), _lit('"'))
    special = sql_call("regexp_matches", value.copy(), _lit('[,"\\r\\n]'))
    return exp.Case(ifs=[exp.If(this=special, true=quoted)], default=value.copy())


def _segment_literal(plan: ir.Plan, text: list[str]) -> exp.Expression:
    return by_segment(plan, [_lit(t) for t in text])


def _json_lack(text: LackText) -> exp.Expression:
    # Model text is escaped here, in Python; the number between needs no escaping.
    pieces: LackText = [
        json.dumps(p, ensure_ascii=False)[1:-1] if isinstance(p, str) else p for p in text
    ]
    return lack_text_sql(['"', *pieces, '"'])


def _missing(plan: ir.Plan, texts: Texts, *, json_text: bool) -> exp.Expression:
    """A list of texts (the lacks, the PQL signals) joined as ``flat_record`` joins them
    ("; "), or as the items of a JSON list.

    ``concat_ws`` skips the NULL of every item the lead does not have: no list is built per lead.
    """
    values = []
    for parts in texts.per_segment:
        items = [
            exp.Case(
                ifs=[exp.If(this=cond, true=_json_lack(text) if json_text else lack_text_sql(text))]
            )
            for cond, text in parts
        ]
        if not items:  # concat_ws needs an item
            values.append(_lit(""))
            continue
        values.append(sql_call("concat_ws", _lit(", " if json_text else LIST_SEPARATOR), *items))
    return by_segment(plan, values)


def text_pieces(parts: Sequence[str | exp.Expression]) -> exp.Expression:
    """Text pieces joined, neighbouring Python texts merged into one literal (one variadic
    concat per value; no pieces: the empty text)."""
    merged: list[exp.Expression] = []
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
            continue
        if text:
            merged.append(_lit(text))
            text = ""
        merged.append(part)
    if text or not merged:
        merged.append(_lit(text))
    return _concat(*merged)


def _json_value(plan: ir.Plan, field: Field, value: FieldValue) -> list[str | exp.Expression]:
    """One field's value as ``json.dumps`` writes it (``ensure_ascii=False``), by its kind."""

    def dumps(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False)

    if isinstance(value, Const):
        return [dumps(value.value)]
    if isinstance(value, PerSegment):
        return [_segment_literal(plan, [dumps(v) for v in value.values])]
    if isinstance(value, Texts):
        return ["[", _missing(plan, value, json_text=True), "]"]
    if isinstance(value, list):  # an object of numbers
        out: list[str | exp.Expression] = ["{"]
        for i, (key, number) in enumerate(value):
            out += [(", " if i else "") + dumps(key) + ": ", number_sql(number, json_text=True)]
        return [*out, "}"]
    if field.kind is Kind.NUMBER:
        return [number_sql(value, json_text=True)]
    if field.kind is Kind.BOOL:
        return [exp.Case(ifs=[exp.If(this=value, true=_lit("true"))], default=_lit("false"))]
    return [json_text_sql(value)]


def jsonl_line_sql(plan: ir.Plan, as_of: datetime) -> exp.Expression:
    """One record's JSONL line (no newline): ``json.dumps(record, ensure_ascii=False)``, its
    fields those of ``record_spec.RECORD`` in order."""
    values = record_values_sql(plan, as_of)
    parts: list[str | exp.Expression] = ["{"]
    for i, field in enumerate(RECORD):
        parts.append((", " if i else "") + json.dumps(field.name, ensure_ascii=False) + ": ")
        parts += _json_value(plan, field, values[field.name])
    return text_pieces([*parts, "}"])


def flat_columns(plan: ir.Plan) -> list[str]:
    """The columns of ``io.writers.flat_record`` for this plan's records, in its order."""
    return spec_flat_columns([d.name for d in plan.dimensions], list(plan.identity()))


def flat_values_sql(plan: ir.Plan, as_of: datetime) -> list[tuple[exp.Expression, str]]:
    """``flat_record``'s values as typed columns (Parquet), each with its kind: text, number or
    bool."""
    values = record_values_sql(plan, as_of)
    out: list[tuple[exp.Expression, str]] = []
    for field in RECORD:
        value = values[field.name]
        kind = {Kind.NUMBER: "number", Kind.BOOL: "bool"}.get(field.kind, "text")
        if isinstance(value, Const):
            items = value.value.values() if field.kind is Kind.LABELS else [value.value]
            out += [(_lit(str(v)), kind) for v in items]
        elif isinstance(value, PerSegment):
            out.append((by_segment(plan, [literal_sql(field.kind, v) for v in value.values]), kind))
        elif isinstance(value, Texts):
            out.append((_missing(plan, value, json_text=False), "text"))
        elif isinstance(value, list):
            out += [(number, "number") for _, number in value]
        else:
            out.append((value, kind))
    return out


def csv_header(plan: ir.Plan) -> str:
    """The header row ``csv.DictWriter.writeheader`` writes (line end included)."""
    buf = io.StringIO()
    csv.writer(buf).writerow(flat_columns(plan))
    return buf.getvalue()


def csv_line_sql(plan: ir.Plan, as_of: datetime) -> exp.Expression:
    """One record's CSV row (no line end), as ``csv.DictWriter`` writes ``flat_record(record)``."""
    fields: list[exp.Expression] = []
    for value, kind in flat_values_sql(plan, as_of):
        if kind == "bool":
            fields.append(
                exp.Case(ifs=[exp.If(this=value, true=_lit("True"))], default=_lit("False"))
            )
        elif kind == "number":
            fields.append(number_sql(value, json_text=False))
        else:
            fields.append(csv_field_sql(value))
    parts: list[exp.Expression] = []
    for i, field in enumerate(fields):
        if i:
            parts.append(_lit(","))
        parts.append(field)
    return _concat(*parts)
