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
from datetime import datetime

from sqlglot import exp

from leadgate.batch.records import (
    LackText,
    by_segment,
    lack_parts,
    lack_text_sql,
    lead_id_sql,
    mql_sql,
    score_sql,
    sql_call,
    threshold_sql,
    total_sql,
)
from leadgate.engine import ir
from leadgate.engine.event import as_utc

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


def _missing(plan: ir.Plan, *, json_text: bool) -> exp.Expression:
    """The lacks joined as ``flat_record`` joins them ("; "), or as the items of a JSON list.

    ``concat_ws`` skips the NULL of every lack the lead does not have: no list is built per lead.
    """
    values = []
    for seg in plan.segments:
        items = [
            exp.Case(
                ifs=[exp.If(this=cond, true=_json_lack(text) if json_text else lack_text_sql(text))]
            )
            for cond, text in lack_parts(plan, seg.policy)
        ]
        values.append(sql_call("concat_ws", _lit(", " if json_text else "; "), *items))
    return by_segment(plan, values)


def jsonl_line_sql(plan: ir.Plan, as_of: datetime) -> exp.Expression:
    """One record's JSONL line (no newline): ``json.dumps(record, ensure_ascii=False)``."""

    def key(name: str) -> str:
        return json.dumps(name, ensure_ascii=False) + ": "

    parts: list[exp.Expression] = [
        _lit("{" + key("lead_id")),
        json_text_sql(lead_id_sql()),
        _lit(", " + key("segment")),
        _segment_literal(plan, [json.dumps(s.name, ensure_ascii=False) for s in plan.segments]),
        _lit(", " + key("scores") + "{"),
    ]
    for i, dim in enumerate(plan.dimensions):
        parts.append(_lit((", " if i else "") + key(dim.name)))
        parts.append(number_sql(score_sql(plan, i), json_text=True))
    parts += [
        _lit("}, " + key("total")),
        number_sql(total_sql(), json_text=True),
        _lit(", " + key("mql")),
        exp.Case(ifs=[exp.If(this=mql_sql(), true=_lit("true"))], default=_lit("false")),
        _lit(", " + key("missing") + "["),
        _missing(plan, json_text=True),
        _lit("], " + key("threshold")),
        number_sql(threshold_sql(plan), json_text=True),
        _lit(
            ", " + key("as_of") + json.dumps(as_utc(as_of).isoformat())
            + ", " + key("model") + json.dumps(plan.identity(), ensure_ascii=False) + "}"
        ),
    ]  # fmt: skip
    return _concat(*parts)


def flat_columns(plan: ir.Plan) -> list[str]:
    """The columns of ``io.writers.flat_record`` for this plan's records, in its order."""
    return [
        "lead_id", "segment", *[f"score_{d.name}" for d in plan.dimensions], "total", "mql",
        "missing", "threshold", "as_of", *[f"model_{k}" for k in plan.identity()],
    ]  # fmt: skip


def flat_values_sql(plan: ir.Plan, as_of: datetime) -> list[tuple[exp.Expression, str]]:
    """``flat_record``'s values as typed columns (Parquet), each with its kind: text, number or
    bool."""
    return [
        (lead_id_sql(), "text"),
        (_segment_literal(plan, [s.name for s in plan.segments]), "text"),
        *[(score_sql(plan, i), "number") for i in range(len(plan.dimensions))],
        (total_sql(), "number"),
        (mql_sql(), "bool"),
        (_missing(plan, json_text=False), "text"),
        (threshold_sql(plan), "number"),
        (_lit(as_utc(as_of).isoformat()), "text"),
        *[(_lit(v), "text") for v in plan.identity().values()],
    ]


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
