"""The SQL executor's compiler: a plan (``engine/ir.py``) -> one SELECT built as sqlglot expressions.

The query implements ARCHITECTURE.md "Scoring semantics" exactly as ``engine/python.py`` does, so
that both give the same scores to 1e-9 (invariant 1). Its shape (CTEs, in order):

- ``ev``: one row per event with its epoch seconds and the property slots conditions need;
- ``ev_m``: events at or before ``as_of``, their age in days, one match flag per distinct filter;
- ``ev_agg``: per lead, decayed sums and counts; ``top_<rule>``: the ``max_count`` most recent;
- ``prof``: one row per lead with its profile slots; ``rules``: every rule's points, the segment,
  and each gate/disqualifier; ``dims``: dimension sums and clipped scores; then the final SELECT
  with total, threshold, floors and the MQL flag.

Ages come from epoch seconds, ``(as_of_epoch - epoch) / 86400`` (docs/semantics.md "Time"),
never from a dialect's date difference. ``as_of`` is a literal: the query is pure.

Output columns (``output_columns`` names them): ``lead_id``, ``segment``, ``segment_index``,
``score_<dim>``, ``total``, ``threshold``, ``mql``, ``floor_<dim>``, then the explanation:
``points_<rule>``, ``decayed_<rule>``, ``events_<rule>``, ``check_<key>`` (gate/disqualifier
matched) and ``check_events_<key>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlglot
from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.event import as_utc
from leadgate.engine.sql_conditions import (
    ValueScope,
    alias,
    and_all,
    case,
    coalesce_false,
    condition_expr,
    lit,
    num,
)
from leadgate.engine.targets import SqlTarget, cast, target

EVENT_COLUMNS = ("event_id", "lead_id", "type", "timestamp")
_SIMPLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class InputShape:
    """What the input tables look like.

    Attributes:
        leads_table / events_table: table (or view) names.
        lead_columns / event_columns: column -> kind (``text``, ``number``, ``boolean``) of the
            columns that exist; None assumes every field the model names is a column.
        order_column: a leads column to order the output by (e.g. the file's row number).
        has_events: False when there is no events table at all.
        lead_renames / event_renames: field -> physical column name (loaders that rename).
    """

    leads_table: str = "leads"
    events_table: str = "events"
    lead_columns: Mapping[str, str] | None = None
    event_columns: Mapping[str, str] | None = None
    order_column: str | None = None
    has_events: bool = True
    lead_renames: Mapping[str, str] = field(default_factory=dict)
    event_renames: Mapping[str, str] = field(default_factory=dict)


def dimension_column(plan: ir.Plan, index: int) -> str:
    """Output column of a dimension's score: ``score_<name>`` when the name is plain, else by index."""
    name = plan.dimensions[index].name
    return f"score_{name}" if _SIMPLE_NAME.match(name) else f"score_{index}"


def floor_column(plan: ir.Plan, index: int) -> str:
    return "floor_" + dimension_column(plan, index)[len("score_") :]


def _col(name: str | exp.Identifier, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def _sum0(e: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=e, expressions=[num(0.0)])


def _cap(value: exp.Expression, max_points: float | None) -> exp.Expression:
    """``sign(sum) * min(|sum|, max_points)`` (docs/semantics.md "Rules")."""
    if max_points is None:
        return value
    over = exp.GT(this=exp.Abs(this=value.copy()), expression=num(max_points))
    capped = exp.Mul(this=exp.Sign(this=value.copy()), expression=num(max_points))
    return case([(over, capped)], value)


def _clip(value: exp.Expression, dim: ir.Dimension) -> exp.Expression:
    """``min(score, max)`` then ``max(score, min)``, as CASEs so NULL handling never differs."""
    if dim.max is not None:
        value = case([(exp.GT(this=value.copy(), expression=num(dim.max)), num(dim.max))], value)
    if dim.min is not None:
        value = case([(exp.LT(this=value.copy(), expression=num(dim.min)), num(dim.min))], value)
    return value


class _Compiler:
    """Builds the query for one plan, target, input shape and as-of time."""

    def __init__(self, plan: ir.Plan, as_of: datetime, tgt: SqlTarget, shape: InputShape) -> None:
        self.plan, self.target, self.shape = plan, tgt, shape
        self.as_of_epoch = as_utc(as_of).timestamp()
        self.profile = ValueScope(tgt, "l", "p", shape.lead_columns, renames=shape.lead_renames)
        self.props = ValueScope(
            tgt, "e", "e", shape.event_columns, frozenset(EVENT_COLUMNS), shape.event_renames
        )
        self.filters: dict[ir.EventFilter, int] = {}
        self.ctes: list[tuple[str, exp.Expression]] = []

    # -- events -------------------------------------------------------------------------------
    def filter_index(self, flt: ir.EventFilter) -> int:
        return self.filters.setdefault(flt, len(self.filters))

    def _collect_filters(self) -> None:
        for rule in self.plan.rules:
            if isinstance(rule, ir.EventRule):
                self.filter_index(rule.filter)
            elif isinstance(rule, ir.CountRule):
                self.filter_index(rule.count.filter)
        for chk in self.plan.checks:
            if chk.events is not None:
                self.filter_index(chk.events.filter)

    def match_expr(self, flt: ir.EventFilter) -> exp.Expression:
        """Type, window and ``where``: one boolean per event (docs/semantics.md "Rules")."""
        parts: list[exp.Expression] = [
            exp.In(this=_col("typ"), expressions=[lit(t) for t in flt.types])
        ]
        if flt.within_days is not None:
            parts.append(exp.LTE(this=_col("age"), expression=num(flt.within_days)))
        if flt.where is not None:
            parts.append(condition_expr(flt.where, self.props))
        return coalesce_false(and_all(parts))

    def events_ctes(self) -> None:
        """``ev``, ``ev_m``, ``ev_agg`` and one ``top_<rule>`` per rule with ``max_count``."""
        as_of = num(self.as_of_epoch)
        flags = [
            alias(self.match_expr(flt), f"m{i}") for flt, i in self.filters.items()
        ]  # builds the property slots, so it runs before `ev` is projected
        types = sorted({t for flt in self.filters for t in flt.types})
        events = exp.to_table(self.shape.events_table).as_("e")
        ev = exp.select(
            alias(cast(_col("lead_id", "e"), "text"), "lid"),
            alias(
                self.target.epoch_seconds(_col(exp.to_identifier("timestamp", quoted=True), "e")),
                "ep",
            ),
            alias(exp.Trim(this=cast(_col("type", "e"), "text")), "typ"),
            *self.props.projections(),
        ).from_(events)
        age = exp.Div(
            this=exp.paren(exp.Sub(this=as_of, expression=_col("ep")), copy=False),
            expression=num(ir.SECONDS_PER_DAY),
        )
        aged = (
            exp.select("*", alias(age, "age"))
            .from_("ev")
            .where(exp.LTE(this=_col("ep"), expression=as_of.copy()), copy=False)
            .where(exp.In(this=_col("typ"), expressions=[lit(t) for t in types]), copy=False)
        )
        # One decay factor per distinct half-life, shared by the rules that use it.
        weights = [alias(self._weight(hl), f"w{i}") for hl, i in self._half_lives().items()]
        ev_m = exp.select("lid", "ep", "age", *flags, *weights).from_(aged.subquery("a"))
        self.ctes += [("ev", ev), ("ev_m", ev_m)]
        aggs: list[exp.Expression] = [_col("lid")]
        for i in self.filters.values():
            counted = exp.Count(this=case([(_col(f"m{i}"), exp.Literal.number(1))]))
            aggs.append(alias(counted, f"n{i}"))
        for rule in self.plan.rules:
            if not isinstance(rule, ir.EventRule):
                continue
            if rule.half_life_days is None:
                continue  # points * count (at most max_count), from n<i>
            if rule.max_count is not None:
                self._top_cte(rule)  # the N most recent, each with its own decay
                continue
            m = _col(f"m{self.filter_index(rule.filter)}")
            aggs.append(alias(exp.Sum(this=case([(m, self._decay(rule))])), f"dec_{rule.key}"))
        self.ctes.append(("ev_agg", exp.select(*aggs).from_("ev_m").group_by("lid")))

    def _half_lives(self) -> dict[float, int]:
        lives: dict[float, int] = {}
        for rule in self.plan.rules:
            if isinstance(rule, ir.EventRule) and rule.half_life_days is not None:
                lives.setdefault(rule.half_life_days, len(lives))
        return lives

    def _weight(self, half_life: float) -> exp.Expression:
        """``0.5 ** (age_days / half_life_days)``: an event's decay factor."""
        age = exp.Div(this=_col("age"), expression=num(half_life))
        return exp.Pow(this=num(0.5), expression=age)

    def _decay(self, rule: ir.EventRule) -> exp.Expression:
        """``points * 0.5 ** (age_days / half_life_days)`` for one event (from ``ev_m``)."""
        assert rule.half_life_days is not None
        weight = _col(f"w{self._half_lives()[rule.half_life_days]}")
        return exp.Mul(this=num(rule.points), expression=weight)

    def _top_cte(self, rule: ir.EventRule) -> None:
        """The rule's ``max_count`` most recent matching events, summed per lead."""
        i = self.filter_index(rule.filter)
        order = exp.Order(expressions=[exp.Ordered(this=_col("ep"), desc=True)])
        rn = exp.Window(this=exp.RowNumber(), partition_by=[_col("lid")], order=order)
        ranked = (
            exp.select("lid", f"w{self._half_lives()[rule.half_life_days or 0.0]}", alias(rn, "rn"))
            .from_("ev_m")
            .where(_col(f"m{i}"), copy=False)
        )
        value = self._decay(rule)
        top = (
            exp.select(
                "lid",
                alias(exp.Sum(this=value), "dec"),
                alias(exp.Count(this=exp.Star()), "n"),
            )
            .from_(ranked.subquery("r"))
            .where(
                exp.LTE(this=_col("rn"), expression=exp.Literal.number(int(rule.max_count or 0))),
                copy=False,
            )
            .group_by("lid")
        )
        self.ctes.append((f"top_{rule.key}", top))

    # -- leads ----------------------------------------------------------------------------------
    def count_holds(self, count: ir.EventCount, n: exp.Expression) -> exp.Expression:
        parts: list[exp.Expression] = [
            exp.GTE(this=n, expression=exp.Literal.number(count.min_count))
        ]
        if count.max_count is not None:
            parts.append(exp.LTE(this=n, expression=exp.Literal.number(count.max_count)))
        return and_all(parts)

    def _filter_count(self, flt: ir.EventFilter) -> exp.Expression:
        if not self.shape.has_events:
            return exp.Literal.number(0)
        return exp.Coalesce(
            this=_col(f"n{self.filter_index(flt)}", "a"), expressions=[exp.Literal.number(0)]
        )

    def rule_columns(self, rule: ir.Rule) -> list[exp.Expression]:
        """``points_<key>`` (what counts); ``events_<key>`` and ``decayed_<key>`` where they apply."""
        k = rule.key
        if isinstance(rule, ir.ProfileRule):
            hit = condition_expr(rule.when, self.profile)
            return [alias(case([(hit, num(rule.points))], num(0.0)), f"points_{k}")]
        if isinstance(rule, ir.CountRule):
            n = self._filter_count(rule.count.filter)
            pts = case([(self.count_holds(rule.count, n), num(rule.points))], num(0.0))
            return [alias(pts, f"points_{k}"), alias(n.copy(), f"events_{k}")]
        if not self.shape.has_events:
            n, decayed = exp.Literal.number(0), num(0.0)
        elif rule.half_life_days is not None and rule.max_count is not None:
            n = exp.Coalesce(this=_col("n", f"t_{k}"), expressions=[exp.Literal.number(0)])
            decayed = _sum0(_col("dec", f"t_{k}"))
        else:
            n = self._filter_count(rule.filter)
            if rule.max_count is not None:  # undecayed: the N most recent are just min(n, N)
                limit = exp.Literal.number(rule.max_count)
                over = exp.GT(this=n.copy(), expression=limit.copy())
                n = case([(over, limit)], n)
            if rule.half_life_days is None:  # exactly the Python executor's points * count
                decayed = exp.Mul(this=num(rule.points), expression=n.copy())
            else:
                decayed = _sum0(_col(f"dec_{k}", "a"))
        return [alias(_cap(decayed, rule.max_points), f"points_{k}"),
                alias(decayed.copy(), f"decayed_{k}"), alias(n, f"events_{k}")]  # fmt: skip

    def check_columns(self, chk: ir.Check) -> list[exp.Expression]:
        parts: list[exp.Expression] = []
        n: exp.Expression = cast(exp.Null(), "bigint")
        if chk.when is not None:
            parts.append(condition_expr(chk.when, self.profile))
        if chk.events is not None:
            n = self._filter_count(chk.events.filter)
            parts.append(self.count_holds(chk.events, n.copy()))
        return [alias(and_all(parts), f"check_{chk.key}"), alias(n, f"check_events_{chk.key}")]

    def segment_index(self) -> exp.Expression:
        ifs = [
            (condition_expr(seg.when, self.profile), exp.Literal.number(i))
            for i, seg in enumerate(self.plan.segments)
            if seg.when is not None
        ]
        return (
            case(ifs, exp.Literal.number(len(self.plan.segments) - 1))
            if ifs
            else exp.Literal.number(0)
        )

    def lead_ctes(self) -> None:
        """``prof`` (profile slots), ``rules`` (points, segment, checks), ``dims`` (scores)."""
        rule_cols = [c for r in self.plan.rules for c in self.rule_columns(r)]
        check_cols = [c for chk in self.plan.checks for c in self.check_columns(chk)]
        seg = self.segment_index()
        leads = exp.to_table(self.shape.leads_table).as_("l")
        extra = (
            [alias(_col(exp.to_identifier(self.shape.order_column, quoted=True), "l"), "ord")]
            if self.shape.order_column
            else []
        )
        prof = exp.select(
            alias(cast(_col("lead_id", "l"), "text"), "lead_id"),
            *extra,
            *self.profile.projections(),
        ).from_(leads)
        self.ctes.append(("prof", prof))
        rules = exp.select(
            alias(_col("lead_id", "p"), "lead_id"),
            *([_col("ord", "p")] if extra else []),
            alias(seg, "segment_index"),
            *rule_cols,
            *check_cols,
        ).from_(exp.to_table("prof").as_("p"))
        if self.shape.has_events:
            rules = rules.join(
                exp.to_table("ev_agg").as_("a"),
                on=exp.EQ(this=_col("lid", "a"), expression=_col("lead_id", "p")),
                join_type="left",
                copy=False,
            )
            for rule in self.plan.rules:
                if (
                    isinstance(rule, ir.EventRule)
                    and rule.max_count is not None
                    and rule.half_life_days is not None
                ):
                    t = f"t_{rule.key}"
                    rules = rules.join(
                        exp.to_table(f"top_{rule.key}").as_(t),
                        on=exp.EQ(this=_col("lid", t), expression=_col("lead_id", "p")),
                        join_type="left",
                        copy=False,
                    )
        self.ctes.append(("rules", rules))
        dim_cols: list[exp.Expression] = []
        for i, dim in enumerate(self.plan.dimensions):
            total: exp.Expression = num(0.0)
            for rule in dim.rules:
                total = exp.Add(this=total, expression=_col(f"points_{rule.key}"))
            dim_cols.append(
                alias(_clip(exp.paren(total, copy=False), dim), dimension_column(self.plan, i))
            )
        self.ctes.append(("dims", exp.select("*", *dim_cols).from_("rules")))

    # -- qualification ---------------------------------------------------------------------------
    def final_select(self) -> exp.Select:
        plan = self.plan
        eps = num(ir.EPSILON)
        total: exp.Expression = num(0.0)
        for i in range(len(plan.dimensions)):
            total = exp.Add(this=total, expression=_col(dimension_column(plan, i)))

        def by_segment(values: list[exp.Expression]) -> exp.Expression:
            if all(v == values[0] for v in values):
                return values[0]  # the same in every segment
            seg = _col("segment_index")
            return case(
                [
                    (exp.EQ(this=seg, expression=exp.Literal.number(i)), v)
                    for i, v in enumerate(values)
                ]
            )

        ok: list[exp.Expression] = []
        for seg in plan.segments:
            pol = seg.policy
            floors = dict(pol.floors)
            parts: list[exp.Expression] = [
                exp.Not(this=_col(f"check_{q.key}")) for q in pol.disqualifiers
            ]
            parts += [_col(f"check_{g.key}") for g in pol.gates]
            for i, dim in enumerate(plan.dimensions):
                if dim.name in floors:
                    score = exp.Add(this=_col(dimension_column(plan, i)), expression=eps.copy())
                    parts.append(exp.GTE(this=score, expression=num(floors[dim.name])))
            parts.append(
                exp.GTE(
                    this=exp.Add(this=_col("total"), expression=eps.copy()),
                    expression=num(pol.threshold),
                )
            )
            ok.append(and_all(parts))
        floor_cols = [
            alias(
                by_segment(
                    [
                        num(dict(s.policy.floors)[d.name])
                        if d.name in dict(s.policy.floors)
                        else cast(exp.Null(), "double")
                        for s in plan.segments
                    ]
                ),
                floor_column(plan, i),
            )
            for i, d in enumerate(plan.dimensions)
        ]
        with_total = exp.select("*", alias(total, "total")).from_("dims")
        self.ctes.append(("totals", with_total))
        explain = explanation_columns(plan)
        query = exp.select(
            "lead_id",
            alias(by_segment([lit(s.name) for s in plan.segments]), "segment"),
            "segment_index",
            *[dimension_column(plan, i) for i in range(len(plan.dimensions))],
            "total",
            alias(by_segment([num(s.policy.threshold) for s in plan.segments]), "threshold"),
            alias(by_segment(ok), "mql"),
            *floor_cols,
            *explain,
        ).from_("totals")
        if self.shape.order_column:
            query = query.order_by("ord", copy=False)
        return query

    def build(self) -> exp.Select:
        self._collect_filters()
        if not self.shape.has_events:
            self.filters = {}
        elif self.filters:
            self.events_ctes()
        else:
            self.shape = replace(self.shape, has_events=False)
        self.lead_ctes()
        query = self.final_select()
        for name, cte in self.ctes:
            query = query.with_(name, as_=cte, copy=False)
        return query


def compile_query(
    plan: ir.Plan, as_of: datetime, dialect: str = "duckdb", shape: InputShape | None = None
) -> exp.Select:
    """The whole scoring of every lead as one SELECT (a sqlglot expression tree).

    Raises:
        UnsupportedTargetError: the dialect is unknown, or it cannot express a model regex.
    """
    return _Compiler(plan, as_of, target(dialect), shape or InputShape()).build()


def query_sql(
    plan: ir.Plan,
    as_of: datetime,
    dialect: str = "duckdb",
    shape: InputShape | None = None,
    pretty: bool = False,
) -> str:
    """The query as text in ``dialect`` (sqlglot prints it, quoting every identifier it must)."""
    tgt = target(dialect)
    return compile_query(plan, as_of, dialect, shape).sql(dialect=tgt.dialect, pretty=pretty)


def output_columns(plan: ir.Plan) -> list[str]:
    """The query's columns, in order."""
    n = len(plan.dimensions)
    cols = ["lead_id", "segment", "segment_index"]
    cols += [dimension_column(plan, i) for i in range(n)]
    cols += ["total", "threshold", "mql"] + [floor_column(plan, i) for i in range(n)]
    return cols + explanation_columns(plan)


def explanation_columns(plan: ir.Plan) -> list[str]:
    """Per rule: points (all), events (event and count rules), decayed (event rules); per check."""
    cols: list[str] = []
    for r in plan.rules:
        cols.append(f"points_{r.key}")
        if not isinstance(r, ir.ProfileRule):
            cols.append(f"events_{r.key}")
        if isinstance(r, ir.EventRule):
            cols.append(f"decayed_{r.key}")
    return cols + [f"{p}_{c.key}" for c in plan.checks for p in ("check", "check_events")]


__all__ = ["EVENT_COLUMNS", "InputShape", "compile_query", "output_columns", "query_sql", "sqlglot"]
