"""The SQL query's interface: the input tables it reads and the columns it returns.

``engine/sql.py`` builds the query; this module says what it expects (``InputShape``) and what
it produces (``output_columns``), so runners and ``leadgate sql`` can describe both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from leadgate.engine import ir

EVENT_COLUMNS = ("event_id", "lead_id", "type", "timestamp")
# A rule's explanation fields, ``<field>_<rule key>``: RuleResult's fields, in its order.
RULE_FIELDS = ("points", "matched", "events", "raw", "decayed", "capped", "measured")
# The fields that are columns, per rule kind (``Rule.kind``); the others hold the same value for
# every rule of the kind (``IMPLIED_FIELDS``), so the query does not write them once per lead
# (every column is a column of every row the batch paths write: docs/performance.md, #12).
KIND_FIELDS = {
    "profile": ("points", "matched", "capped"),
    "count": ("points", "matched", "events", "capped", "measured"),
    "event": ("points", "matched", "events", "raw", "decayed", "capped"),
}
# An implied field's value: a constant, or ``POINTS`` (the rule's own points column).
POINTS = "points"
IMPLIED_FIELDS: dict[str, object] = {
    "events": 0,
    "raw": POINTS,
    "decayed": POINTS,
    "measured": None,
}
# Per check (gates, disqualifiers and the PQL's gates): matched, events counted, measured.
CHECK_FIELDS = ("check", "check_events", "check_value")
# Per PQL signal: held, its measure's value, the events it matched.
SIGNAL_FIELDS = ("signal", "signal_value", "signal_events")
_SIMPLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class InputShape:
    """What the input tables look like.

    Attributes:
        leads_table / events_table: table (or view) names.
        lead_columns / event_columns: column -> kind (``text``, ``number``, ``boolean``) of the
            columns that exist; None assumes every field the model names is a column.
        order_column: a leads column giving the input order (e.g. the file's row number); it is
            returned as ``input_row``, and the output is ordered by it when ``sort_output``.
        sort_output: ORDER BY the input order (sorting wide rows is costly: a bulk writer that
            does not need the order, or sorts later, turns it off).
        has_events: False when there is no events table at all.
        lead_renames / event_renames: field -> physical column name (loaders that rename).
        event_checks: also count the event rows the file readers refuse (no lead id, no type,
            no readable time; the time read with a TRY cast) and return the count on every row
            as ``bad_events``, so a runner checks the events in the scoring pass instead of a
            scan of its own (``DuckDBScorer.copy_checked``).
        lead: score only this lead (``leadgate explain``): its events then carry their ids,
            which ``matches_query`` lists.
        has_event_ids: the events table has an ``event_id`` column (without one the ids the
            file readers derive from an event's content are not known to SQL).
        event_account: the events table's column naming the account of an account-level
            event (a row with no lead id, issue #16), which ``scope: account`` measures read;
            None: the table holds lead events only.
    """

    leads_table: str = "leads"
    events_table: str = "events"
    lead_columns: Mapping[str, str] | None = None
    event_columns: Mapping[str, str] | None = None
    order_column: str | None = None
    sort_output: bool = True
    has_events: bool = True
    lead_renames: Mapping[str, str] = field(default_factory=dict)
    event_renames: Mapping[str, str] = field(default_factory=dict)
    event_checks: bool = False
    lead: str | None = None
    has_event_ids: bool = True
    event_account: str | None = None


def dimension_column(plan: ir.Plan, index: int) -> str:
    """Output column of a dimension's score: ``score_<name>`` when the name is plain, else by index."""
    name = plan.dimensions[index].name
    return f"score_{name}" if _SIMPLE_NAME.match(name) else f"score_{index}"


def _suffix(plan: ir.Plan, index: int) -> str:
    return dimension_column(plan, index)[len("score_") :]


def floor_column(plan: ir.Plan, index: int) -> str:
    """A dimension's floor in the lead's segment (NULL: none)."""
    return "floor_" + _suffix(plan, index)


def floor_met_column(plan: ir.Plan, index: int) -> str:
    """A dimension's score meets its floor (true when there is none)."""
    return "met_floor_" + _suffix(plan, index)


def sum_column(plan: ir.Plan, index: int) -> str:
    """A dimension's rule sum, before its min/max clip."""
    return "sum_" + _suffix(plan, index)


def clipped_column(plan: ir.Plan, index: int) -> str:
    """The dimension's score differs from its rule sum (the clip applied)."""
    return "clipped_" + _suffix(plan, index)


def col(name: str | exp.Identifier, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def output_columns(plan: ir.Plan) -> list[str]:
    """The query's columns, in order."""
    n = len(plan.dimensions)
    cols = ["lead_id", "segment", "segment_index"]
    cols += [dimension_column(plan, i) for i in range(n)]
    cols += ["total", "threshold", "mql", "pql"] + [floor_column(plan, i) for i in range(n)]
    cols += [floor_met_column(plan, i) for i in range(n)] + ["threshold_met"]
    return cols + explanation_columns(plan)


def rule_fields(rule: ir.Rule) -> tuple[str, ...]:
    """The explanation fields of ``rule`` that are query columns (``KIND_FIELDS``)."""
    return KIND_FIELDS[rule.kind]


def rule_value(row: Mapping[str, Any], rule: ir.Rule, name: str) -> Any:
    """Field ``name`` of ``rule`` in a query row: its column, or the value its kind implies."""
    column = f"{name}_{rule.key}"
    if column in row:
        return row[column]
    implied = IMPLIED_FIELDS[name]
    return row[f"{POINTS}_{rule.key}"] if implied == POINTS else implied


def explanation_columns(plan: ir.Plan) -> list[str]:
    """Per rule: its kind's fields (``rule_fields``); per dimension: rule sum and clipped; per
    check (the PQL's gates included): ``CHECK_FIELDS``; per PQL signal: ``SIGNAL_FIELDS``."""
    cols = [f"{f}_{r.key}" for r in plan.rules for f in rule_fields(r)]
    for i in range(len(plan.dimensions)):
        cols += [sum_column(plan, i), clipped_column(plan, i)]
    checks = (*plan.checks, *plan.pql_gates)
    cols += [f"{p}_{c.key}" for c in checks for p in CHECK_FIELDS]
    return cols + [f"{p}_{s.key}" for s in plan.signals for p in SIGNAL_FIELDS]
