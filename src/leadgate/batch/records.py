"""A row of the compiled query -> the same ``Score`` (and explanation) the Python executor builds.

The SQL computes every number (rule points, counts, decayed sums, check results, dimension scores,
total, MQL flag); here they are only put back into ``engine/result.py`` objects, and what a lead
lacks is listed in docs/semantics.md order with ``Lack``'s own text, so ``missing`` reads the same
whichever executor produced it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.event import as_utc
from leadgate.engine.qualify import (
    Columns,
    Requirement,
    bound_text,
    meets,
    qualify,
    requirements,
    unmet_sql,
)
from leadgate.engine.record_spec import RECORD, Kind
from leadgate.engine.result import (
    CheckResult,
    DimensionResult,
    Explanation,
    PqlResult,
    RuleResult,
    Score,
    SignalResult,
    number_text,
    shortfall_text,
)
from leadgate.engine.sql_shape import (
    clipped_column,
    dimension_column,
    floor_met_column,
    rule_value,
    sum_column,
)


def _f(value: Any) -> float:
    return 0.0 if value is None else float(value)


def _rule_result(
    rule: ir.Rule, row: Mapping[str, Any], matches: Sequence[Mapping[str, Any]] | None
) -> RuleResult:
    """A rule's result, its columns as they are (``sql_shape.RULE_FIELDS``; a field its kind
    does not write is the value the kind implies: ``sql_shape.rule_value``)."""
    k = rule.key

    def value(name: str) -> Any:
        return rule_value(row, rule, name)

    n = int(value("events") or 0)
    ids = counted_event_ids(k, matches, n) if matches is not None else ()
    measured = value("measured")
    bound = bound_text(rule.count) if isinstance(rule, ir.CountRule) else None
    return RuleResult(
        k, rule.dimension, rule.name, rule.kind, bool(value("matched")), n,
        _f(value("raw")), _f(value("decayed")), _f(value("points")),
        bool(value("capped")), ids, None if measured is None else float(measured), bound,
    )  # fmt: skip


def counted_event_ids(
    key: str, matches: Sequence[Mapping[str, Any]], counted: int
) -> tuple[str, ...]:
    """The ids of the events rule ``key`` counted, most recent first (ties by id), as the
    Python executor lists them: the query's ``events_matches`` rows say which events match the
    rule and ``events_<key>`` how many count (the most recent ``counted``).

    Empty when the events file has no ``event_id`` column: the ids the file readers derive from
    an event's content are not known to a SQL engine that reads the file itself (DuckDB, Spark).
    """
    hits = [m for m in matches if m.get(f"hit_{key}")]  # event rules only have hit flags
    if any(m["eid"] is None for m in hits):
        return ()
    hits.sort(key=lambda m: (-float(m["ep"]), str(m["eid"])))
    return tuple(str(m["eid"]) for m in hits[:counted])


def score_from_row(
    plan: ir.Plan,
    row: Mapping[str, Any],
    as_of: datetime,
    matches: Sequence[Mapping[str, Any]] | None = None,
) -> Score:
    """Rebuild the ``Score`` of one lead from its query row (``engine/sql.output_columns``):
    every number and flag is a column; ``matches`` (``engine/sql.matches_query``'s rows for
    this lead) gives the event ids, left empty without it."""
    segment = plan.segments[int(row["segment_index"])]
    policy = segment.policy
    floors = dict(policy.floors)
    rules = tuple(_rule_result(r, row, matches) for r in plan.rules)
    checks = [_check_result(c, "disqualifier", row) for c in policy.disqualifiers]
    checks += [_check_result(c, "gate", row) for c in policy.gates]
    scores = {d.name: _f(row[dimension_column(plan, i)]) for i, d in enumerate(plan.dimensions)}
    total = _f(row["total"])
    met = {d.name: bool(row[floor_met_column(plan, i)]) for i, d in enumerate(plan.dimensions)}
    met["total"] = bool(row["threshold_met"])
    verdict = qualify(plan, policy, checks, scores, total, met)
    dims = [
        DimensionResult(
            d.name, _f(row[sum_column(plan, i)]), scores[d.name],
            bool(row[clipped_column(plan, i)]), floors.get(d.name), verdict.floor_met.get(d.name, True),
        )
        for i, d in enumerate(plan.dimensions)
    ]  # fmt: skip
    explanation = Explanation(
        rules, tuple(dims), tuple(checks), verdict.lacks, policy.threshold, _pql_result(plan, row)
    )
    return Score(
        lead_id=str(row["lead_id"]),
        as_of=as_utc(as_of),
        segment=segment.name,
        scores=scores,
        total=total,
        mql=bool(row["mql"]),
        model=plan.identity(),
        explanation=explanation,
    )


def _n(row: Mapping[str, Any], key: str) -> int | None:
    value = row.get(f"check_events_{key}")
    return None if value is None else int(value)


def _check_result(chk: ir.Check, kind: str, row: Mapping[str, Any]) -> CheckResult:
    value = row.get(f"check_value_{chk.key}")
    return CheckResult(
        chk.key, chk.name, kind, bool(row[f"check_{chk.key}"]), _n(row, chk.key),
        None if value is None else float(value),
        None if chk.events is None else bound_text(chk.events),
    )  # fmt: skip


def _pql_result(plan: ir.Plan, row: Mapping[str, Any]) -> PqlResult | None:
    """The PQL verdict from the query's ``signal_*``, ``check_*`` and ``pql`` columns."""
    if plan.pql is None:
        return None
    signals = tuple(
        SignalResult(
            s.key,
            s.name,
            bool(row[f"signal_{s.key}"]),
            _f(row[f"signal_value_{s.key}"]),
            int(row[f"signal_events_{s.key}"] or 0),
            bound_text(s.events),
        )
        for s in plan.pql.signals
    )
    gates = tuple(_check_result(g, "gate", row) for g in plan.pql.gates)
    return PqlResult(bool(row["pql"]), plan.pql.min_signals, signals, gates)


def record_maker(plan: ir.Plan, as_of: datetime) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A fast row -> ``Score.to_record()`` for big batches: same dict, no explanation objects.

    ``score_from_row(plan, row, as_of).to_record()`` gives the same record (tested); this skips
    building a ``RuleResult`` per rule, which dominates at millions of leads.
    """
    when = as_utc(as_of).isoformat()
    identity = plan.identity()
    dims = [(d.name, dimension_column(plan, i)) for i, d in enumerate(plan.dimensions)]
    # Each requirement's lack text is made once, not once per lead: the whole text of a check's
    # lack, the fixed parts around the number of a floor's or threshold's (Lack.__str__'s text).
    policies = []
    for seg in plan.segments:
        reqs = [_requirement_reader(plan, r) for r in requirements(plan, seg.policy)]
        policies.append(
            (
                seg.name,
                seg.policy.threshold,
                [(col, text) for kind, col, _, text, _ in reqs if kind == "disqualified"],
                [(col, text) for kind, col, _, text, _ in reqs if kind == "gate"],
                [r[1:] for r in reqs if r[0] in ("floor", "threshold")],
            )
        )

    signals = [(f"signal_{s.key}", s.name) for s in plan.signals]

    def record(row: Mapping[str, Any]) -> dict[str, Any]:
        name, threshold, disqualifiers, gates, bars = policies[int(row["segment_index"])]
        scores = {dim: _f(row[col]) for dim, col in dims}
        total = _f(row["total"])
        lacks = [text for col, text in disqualifiers if row[col]]
        lacks += [text for col, text in gates if not row[col]]
        for column, need, before, after in bars:
            value = total if column == "total" else _f(row[column])
            if not meets(value, need):
                lacks.append(before + number_text(need - value) + after)
        # RECORD's fields in RECORD's order, written out rather than through record_of (a
        # tenth of this function's time at millions of leads); tests/batch/test_records.py
        # checks the order, and the byte-identity tests every value's form.
        return {
            "lead_id": str(row["lead_id"]),
            "segment": name,
            "scores": scores,
            "total": total,
            "mql": bool(row["mql"]),
            "pql": bool(row["pql"]),
            "pql_signals": [text for col, text in signals if row[col]],
            "missing": lacks,
            "threshold": threshold,
            "as_of": when,
            "model": dict(identity),
        }

    return record


def _requirement_reader(plan: ir.Plan, req: Requirement) -> tuple[str, str, float, str, str]:
    """(kind, column read, bar, text before the number, text after) of one requirement."""
    if req.kind in ("disqualified", "gate"):
        return req.kind, f"check_{req.key}", 0.0, str(req.lack()), ""
    assert req.need is not None
    column = "total"
    if req.kind == "floor":
        column = dimension_column(plan, [d.name for d in plan.dimensions].index(req.key))
    before, after = shortfall_text(req.kind, req.name, req.need)
    return req.kind, column, req.need, before, after


def record_columns(plan: ir.Plan) -> list[str]:
    """The query columns ``record_maker``'s records read (the explanation columns are not)."""
    checks = [f"check_{c.key}" for c in plan.checks]
    signals = [f"signal_{s.key}" for s in plan.signals]
    dims = [dimension_column(plan, i) for i in range(len(plan.dimensions))]
    return [
        "lead_id", "segment_index", *dims, "total", "mql", "pql", *checks, *signals, "input_row",
    ]  # fmt: skip


# Column-wise records (DuckDB SQL): the same record as ``record_maker``, built as JSON text by the
# database, so a re-score of millions of leads makes no Python object per lead.


def _double(value: float) -> exp.Expression:
    # From the float's repr as text: DuckDB parses it exactly, so the literal is the very double
    # the Python side holds (a DECIMAL literal cast to DOUBLE need not be).
    return exp.cast(exp.Literal.string(repr(float(value))), "double")


def sql_call(name: str, *args: exp.Expression) -> exp.Expression:
    """``name(args...)``, a function sqlglot need not know."""
    return exp.Anonymous(this=name, expressions=list(args))


def _text_list(items: list[exp.Expression]) -> exp.Expression:
    return exp.cast(exp.Array(expressions=items), exp.DataType.build("VARCHAR[]", dialect="duckdb"))


def num_text_sql(value: exp.Expression) -> exp.Expression:
    """``engine.result.number_text`` in DuckDB SQL: a whole number without decimals, else at most two.

    Both sides round the exact binary value (Python's format and DuckDB's ``printf`` alike);
    ``+ 0.0`` turns -0.0 into 0.0, as ``str(int(-0.0))`` does. Whole numbers go through HUGEINT,
    exact up to 1e38 (a lack of more points than that would print other digits).
    """
    v = exp.Paren(this=exp.Add(this=value, expression=_double(0.0)))
    whole = exp.EQ(this=v.copy(), expression=sql_call("trunc", v.copy()))
    fits = exp.LT(this=sql_call("abs", v.copy()), expression=_double(1e38))
    digits = exp.cast(exp.cast(v.copy(), "hugeint"), "varchar")
    fixed = sql_call("printf", exp.Literal.string("%.2f"), v.copy())
    trimmed = sql_call(
        "rtrim", sql_call("rtrim", fixed, exp.Literal.string("0")), exp.Literal.string(".")
    )
    return exp.Case(
        ifs=[
            exp.If(this=exp.And(this=whole, expression=fits), true=digits),
            exp.If(
                this=whole.copy(), true=sql_call("printf", exp.Literal.string("%.0f"), v.copy())
            ),
        ],
        default=trimmed,
    )


# A lack's text: fixed model text (str) and, for a floor or threshold, the SQL of the number short.
LackText = list[str | exp.Expression]


def lack_parts(plan: ir.Plan, policy: ir.Policy) -> list[tuple[exp.Expression, LackText]]:
    """(condition, text) of every lack a lead of this segment may have, in ``record_maker``'s
    order; the number in a floor's or threshold's text is ``num_text_sql`` (digits, '.', '-')."""

    dim_index = {d.name: i for i, d in enumerate(plan.dimensions)}
    cols = Columns(
        check=lambda key: exp.Coalesce(this=exp.column(f"check_{key}"), expressions=[exp.false()]),
        score=lambda name: score_sql(plan, dim_index[name]),
        total=total_sql,
        number=_double,
    )
    parts: list[tuple[exp.Expression, LackText]] = []
    for req in requirements(plan, policy):
        text: LackText = [str(req.lack())]
        if req.kind in ("floor", "threshold"):
            before, after = shortfall_text(req.kind, req.name, req.need)
            short = exp.Sub(this=cols.number(req.need or 0.0), expression=_value(req, cols))
            text = [before, num_text_sql(short), *([after] if after else [])]
        parts.append((unmet_sql(req, cols), text))
    return parts


def _value(req: Requirement, cols: Columns) -> exp.Expression:
    return cols.total() if req.kind == "threshold" else cols.score(req.key)


def lack_text_sql(text: LackText) -> exp.Expression:
    """A lack's text as one SQL text expression."""
    pieces = [exp.Literal.string(p) if isinstance(p, str) else p.copy() for p in text]
    out = pieces[0]
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=piece)
    return out


def lacks_sql(plan: ir.Plan, policy: ir.Policy) -> exp.Expression:
    """What a lead of this segment lacks, as a list of texts in ``record_maker``'s order."""
    return texts_sql(lack_parts(plan, policy))


def signal_parts(plan: ir.Plan) -> list[tuple[exp.Expression, LackText]]:
    """(condition, text) of every PQL signal a lead may hold: the record's ``pql_signals``."""
    return [
        (exp.Coalesce(this=exp.column(f"signal_{s.key}"), expressions=[exp.false()]), [s.name])
        for s in plan.signals
    ]


def texts_sql(parts: list[tuple[exp.Expression, LackText]]) -> exp.Expression:
    """The texts whose condition holds, as a list in ``parts``' order."""
    empty = _text_list([])
    return sql_call(
        "flatten",
        exp.Array(
            expressions=[
                exp.Case(
                    ifs=[exp.If(this=cond, true=_text_list([lack_text_sql(text)]))],
                    default=empty.copy(),
                )
                for cond, text in parts
            ]
        ),
    )


def score_sql(plan: ir.Plan, i: int) -> exp.Expression:
    """Dimension ``i``'s score of the record (0.0 when NULL), over the query's output columns."""
    return exp.Coalesce(
        this=exp.cast(exp.column(dimension_column(plan, i)), "double"), expressions=[_double(0.0)]
    )


def total_sql() -> exp.Expression:
    """The record's total (0.0 when NULL)."""
    return exp.Coalesce(this=exp.cast(exp.column("total"), "double"), expressions=[_double(0.0)])


def by_segment(plan: ir.Plan, values: list[exp.Expression]) -> exp.Expression:
    """``values[i]`` for a lead of segment ``i`` (the value itself when there is one segment)."""
    if len(values) == 1:
        return values[0]
    ifs = [
        exp.If(
            this=exp.EQ(this=exp.column("segment_index"), expression=exp.Literal.number(i)), true=v
        )
        for i, v in enumerate(values)
    ]
    return exp.Case(ifs=ifs)


def _object(pairs: list[tuple[str, exp.Expression]]) -> exp.Expression:
    args: list[exp.Expression] = []
    for key, value in pairs:
        args += [exp.Literal.string(key), value]
    return sql_call("json_object", *args)


def lead_id_sql() -> exp.Expression:
    """The record's lead id, as text."""
    return exp.cast(exp.column("lead_id"), "varchar")


def mql_sql() -> exp.Expression:
    """The record's MQL flag (false when NULL)."""
    return exp.Coalesce(this=exp.cast(exp.column("mql"), "boolean"), expressions=[exp.false()])


def scores_sql(plan: ir.Plan) -> exp.Expression:
    """The record's ``scores`` object as JSON text (DuckDB), over the query's output columns."""
    return _object([(d.name, score_sql(plan, i)) for i, d in enumerate(plan.dimensions)])


@dataclass(frozen=True)
class Const:
    """A record field's value that is the same for every lead (written from Python)."""

    value: Any


@dataclass(frozen=True)
class PerSegment:
    """A record field's value that depends on the lead's segment only: ``values[i]``."""

    values: list[Any]


@dataclass(frozen=True)
class Texts:
    """A list-of-texts field (``missing``, ``pql_signals``): per segment (one entry: the same
    in every segment), the (condition, text) of each item a lead may have, in order."""

    per_segment: list[list[tuple[exp.Expression, LackText]]]


# A record field's value in SQL: an expression over the query's columns, a constant, a value per
# segment, the (dimension, expression) pairs of an object of numbers, or a list of texts.
FieldValue = exp.Expression | Const | PerSegment | list[tuple[str, exp.Expression]] | Texts


def record_values_sql(plan: ir.Plan, as_of: datetime) -> dict[str, FieldValue]:
    """Every ``record_spec.RECORD`` field's value for the DuckDB-written records, by name.

    Reads the columns ``record_columns`` names; names and texts from the model reach the SQL
    only as literals (ARCHITECTURE.md invariant 6).
    """
    return {
        "lead_id": lead_id_sql(),
        "segment": PerSegment([s.name for s in plan.segments]),
        "scores": [(d.name, score_sql(plan, i)) for i, d in enumerate(plan.dimensions)],
        "total": total_sql(),
        "mql": mql_sql(),
        "pql": exp.Coalesce(this=exp.cast(exp.column("pql"), "boolean"), expressions=[exp.false()]),
        "pql_signals": Texts([signal_parts(plan)]),
        "missing": Texts([lack_parts(plan, s.policy) for s in plan.segments]),
        "threshold": PerSegment([s.policy.threshold for s in plan.segments]),
        "as_of": Const(as_utc(as_of).isoformat()),
        "model": Const(plan.identity()),
    }


def literal_sql(kind: Kind, value: Any) -> exp.Expression:
    """A Python value of a record field of ``kind`` as a SQL literal."""
    if kind is Kind.NUMBER:
        return _double(value)
    if kind is Kind.LABELS:
        return _object([(k, exp.Literal.string(v)) for k, v in value.items()])
    return exp.Literal.string(str(value))


def record_sql(plan: ir.Plan, as_of: datetime) -> exp.Expression:
    """``record_maker``'s record as JSON text (DuckDB ``json_object``), same keys in the same
    order (``record_spec.RECORD``)."""
    values = record_values_sql(plan, as_of)
    pairs: list[tuple[str, exp.Expression]] = []
    for field in RECORD:
        value = values[field.name]
        if isinstance(value, Const):
            pairs.append((field.name, literal_sql(field.kind, value.value)))
        elif isinstance(value, PerSegment):
            lits = [literal_sql(field.kind, v) for v in value.values]
            pairs.append((field.name, by_segment(plan, lits)))
        elif isinstance(value, list):
            pairs.append((field.name, _object(value)))
        elif isinstance(value, Texts):
            lists = [texts_sql(parts) for parts in value.per_segment]
            pairs.append((field.name, by_segment(plan, lists)))
        else:
            pairs.append((field.name, value))
    return _object(pairs)
