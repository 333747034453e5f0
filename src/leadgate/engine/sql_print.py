"""The scoring query for a team's own warehouse: the SQL text with its input tables documented.

``leadgate sql`` prints this. The header (SQL line comments) names the columns the query reads
from ``leads`` and ``events`` and the columns it returns; names are JSON-quoted in the comments so
that no field name (newlines included) can end a comment and become SQL.
"""

from __future__ import annotations

import json
from datetime import datetime

from leadgate.engine import ir
from leadgate.engine.event import as_utc
from leadgate.engine.sql import EVENT_COLUMNS, dimension_column, output_columns, query_sql
from leadgate.engine.targets import target


def input_fields(plan: ir.Plan) -> tuple[list[str], list[str]]:
    """The profile fields (leads columns) and event properties (events columns) a plan reads."""
    fields = plan.fields()
    return list(fields.profile), [p for p in fields.properties if p not in EVENT_COLUMNS]


def warehouse_sql(plan: ir.Plan, as_of: datetime, dialect: str) -> str:
    """The documented query text for ``dialect`` (pretty-printed).

    Raises:
        UnsupportedTargetError: unknown dialect, or a model regex it cannot express.
    """
    body = query_sql(plan, as_of, dialect, pretty=True)
    tgt = target(dialect)
    profile, props = input_fields(plan)
    q = json.dumps
    lines = [
        f"leadgate scoring query: model {q(plan.name)} version {q(plan.version)} hash {plan.hash}",
        f"dialect {dialect}; as of {as_utc(as_of).isoformat()} (the literal {as_utc(as_of).timestamp()!r}"
        " in epoch seconds; change it to rescore at another time)",
        *([f"requires: {tgt.notes}"] if tgt.notes else []),
        "",
        "Input table leads: one row per lead.",
        "  lead_id (any type, compared as text)",
        *(
            f"  {q(f, ensure_ascii=False)} (text, number or boolean; empty text or NULL is missing)"
            for f in profile
        ),
        "  account attributes are columns named 'account.<attribute>'; a column the table lacks:",
        "  drop the condition or add the column as NULL (a missing value matches no test).",
        "",
        "Input table events: one row per event.",
        "  event_id, lead_id (as leads.lead_id), type (text),",
        "  timestamp (a timestamp in UTC; on SQLite epoch seconds or ISO-8601 text)",
        *(f"  {q(p, ensure_ascii=False)} (event property: text, number or boolean)" for p in props),
        "",
        "Output: one row per lead: " + ", ".join(output_columns(plan)),
        *(
            f"  score_{i}: dimension {q(d.name, ensure_ascii=False)}"
            for i, d in enumerate(plan.dimensions)
            if dimension_column(plan, i) == f"score_{i}"
        ),
        *(
            f"  rule {r.key}: {q(r.dimension, ensure_ascii=False)} / {q(r.name, ensure_ascii=False)}"
            for r in plan.rules
        ),
        *(f"  check {c.key}: {q(c.name, ensure_ascii=False)}" for c in plan.checks),
        "  mql is the qualification (met_floor_<dim>, threshold_met); per rule points, matched,",
        "  events, raw, decayed and capped (<field>_<rule>) explain it, and check_<g|q> tell",
        "  whether each gate / disqualifier matched (docs/engine.md).",
    ]
    header = "\n".join(("-- " + line).rstrip() for line in lines)
    return f"{header}\n{body};\n"
