"""The SQL executor's compiler: a plan (``engine/ir.py``) -> one SELECT built as sqlglot expressions.

The query implements ARCHITECTURE.md "Scoring semantics" exactly as ``engine/python.py`` does, so
that both give the same scores to 1e-9 (invariant 1). Its shape (CTEs, in order):

- ``ev``, ``ev_m``, ``ev_agg``, ``top_<rule>``: the events, built by ``engine/sql_events.py``;
- ``prof``: one row per lead with its profile slots; ``prof_t``: the profile's tests (segments,
  profile rules, checks' conditions), decided before the events are joined; ``rules``: every
  rule's points, the segment, and each gate/disqualifier; ``dims``: dimension sums and clipped scores; then the final SELECT
  with total, threshold, floors and the MQL flag.

The check, PQL signal and PQL gate columns (and the leads an account-scoped measure sums over)
are built by ``engine/sql_pql.py``, which ``_Compiler`` extends.

Ages come from epoch seconds, ``(as_of_epoch - epoch) / 86400`` (docs/semantics.md "Time"),
never from a dialect's date difference. ``as_of`` is a literal: the query is pure.

Input tables and output columns are described in ``engine/sql_shape.py``. Output columns: ``lead_id``, ``segment``, ``segment_index``,
``score_<dim>``, ``total``, ``threshold``, ``mql``, ``floor_<dim>``, then the explanation:
``points_<rule>``, ``decayed_<rule>``, ``events_<rule>``, ``check_<key>`` (gate/disqualifier
matched) and ``check_events_<key>``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.event import as_utc
from leadgate.engine.qualify import Columns, met_sql, pql_sql, qualifies_sql, requirements
from leadgate.engine.sql_conditions import (
    ValueScope,
    alias,
    case,
    lit,
    num,
)
from leadgate.engine.sql_pql import PqlCompiler
from leadgate.engine.sql_shape import (
    EVENT_COLUMNS,
    RULE_FIELDS,
    InputShape,
    clipped_column,
    dimension_column,
    explanation_columns,
    floor_column,
    floor_met_column,
    output_columns,
    rule_fields,
    sum_column,
)
from leadgate.engine.sql_shape import col as _col
from leadgate.engine.targets import SqlTarget, cast, target


def _null_double() -> exp.Expression:
    return cast(exp.Null(), "double")


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


@dataclass(frozen=True)
class RuleSql:
    """A rule in the query: ``inputs``, its columns of the ``rules`` CTE (read from the lead and
    its events, named ``r_<what>_<key>``), then its explanation over those columns, which the
    ``points`` CTE names ``<field>_<key>`` (``sql_shape.RULE_FIELDS``)."""

    inputs: list[exp.Expression]
    points: exp.Expression  # what counts: after decay and cap
    matched: exp.Expression
    events: exp.Expression  # events counted
    raw: exp.Expression  # before decay
    decayed: exp.Expression  # after decay, before the cap
    capped: exp.Expression
    measured: exp.Expression  # count rules: the measure's value (NULL for other kinds)

    def fields(self) -> dict[str, exp.Expression]:
        return {f: getattr(self, f) for f in RULE_FIELDS}


class _RuleColumns(ir.RuleVisitor[RuleSql]):
    """Each rule kind's columns (one method per kind, as the Python executor's ``_RuleScorer``)."""

    def __init__(self, compiler: _Compiler) -> None:
        self.c = compiler

    def visit_ProfileRule(self, rule: ir.ProfileRule) -> RuleSql:
        hit = f"r_hit_{rule.key}"
        points = case([(_col(hit), num(rule.points))], num(0.0))
        return RuleSql(
            [alias(self.c.profile_test(rule.when), hit)], points, _col(hit),
            exp.Literal.number(0), points.copy(), points.copy(), exp.false(), _null_double(),
        )  # fmt: skip

    def visit_CountRule(self, rule: ir.CountRule) -> RuleSql:
        n, v = f"r_n_{rule.key}", f"r_v_{rule.key}"
        holds = self.c.count_holds(rule.count, _col(v))
        points = case([(holds, num(rule.points))], num(0.0))
        inputs = [
            alias(self.c.events_count(rule.count), n),
            alias(self.c.measure_value(rule.count), v),
        ]
        return RuleSql(
            inputs, points, holds.copy(), _col(n), points.copy(), points.copy(), exp.false(),
            _col(v),
        )  # fmt: skip

    def visit_EventRule(self, rule: ir.EventRule) -> RuleSql:
        k, c = rule.key, self.c
        n: exp.Expression
        decayed: exp.Expression
        raw: exp.Expression = exp.Mul(this=num(rule.points), expression=_col(f"r_n_{k}"))
        inputs: list[exp.Expression] = []
        total: exp.Expression = num(0.0)
        if rule.points_per is not None:  # points per unit: the property's sum (missing: 0)
            per = ir.Measure(ir.MeasureKind.SUM, rule.points_per)
            total = c.measure_value(ir.EventCount(rule.filter, measure=per))
            inputs = [alias(total.copy(), f"r_s_{k}")]
            raw = exp.Mul(this=num(rule.points), expression=_col(f"r_s_{k}"))
        if not c.shape.has_events:
            n, decayed = exp.Literal.number(0), num(0.0)
        elif rule.half_life_days is not None and rule.max_count is not None:
            n = exp.Coalesce(this=_col("n", f"t_{k}"), expressions=[exp.Literal.number(0)])
            decayed = _sum0(_col("dec", f"t_{k}"))
        else:
            n = c.filter_count(rule.filter)
            if rule.max_count is not None:  # undecayed: the N most recent are just min(n, N)
                limit = exp.Literal.number(rule.max_count)
                over = exp.GT(this=n.copy(), expression=limit.copy())
                n = case([(over, limit)], n)
            if rule.half_life_days is None and rule.points_per is not None:
                decayed = exp.Mul(this=num(rule.points), expression=total)
            elif rule.half_life_days is None:  # exactly the Python executor's points * count
                decayed = exp.Mul(this=num(rule.points), expression=n.copy())
            else:
                decayed = _sum0(_col(f"dec_{k}", "a"))
        dec, cnt = _col(f"r_dec_{k}"), _col(f"r_n_{k}")
        capped: exp.Expression = exp.false()
        if rule.max_points is not None:
            capped = exp.GT(this=exp.Abs(this=dec.copy()), expression=num(rule.max_points))
        return RuleSql(
            [*inputs, alias(decayed, f"r_dec_{k}"), alias(n, f"r_n_{k}")],
            _cap(dec, rule.max_points),
            exp.GT(this=cnt, expression=exp.Literal.number(0)),
            cnt.copy(),
            raw,
            dec.copy(),
            capped,
            _null_double(),
        )


class _Compiler(PqlCompiler):
    """Builds the query for one plan, target, input shape and as-of time."""

    def __init__(self, plan: ir.Plan, as_of: datetime, tgt: SqlTarget, shape: InputShape) -> None:
        self.plan, self.target, self.shape = plan, tgt, shape
        self.as_of_epoch = as_utc(as_of).timestamp()
        self.profile = ValueScope(tgt, "l", "p", shape.lead_columns, renames=shape.lead_renames)
        self.props = ValueScope(
            tgt, "e", "e", shape.event_columns, frozenset(EVENT_COLUMNS), shape.event_renames,
            inline=True,
            owner=None if shape.event_account is None else (shape.event_account, "lead_id"),
        )  # fmt: skip
        self.filters: dict[ir.EventFilter, int] = {}
        self.measures: dict[tuple[ir.EventFilter, ir.Measure, ir.Scope], int] = {}
        self.distinct_ctes: list[tuple[str, str, exp.Expression]] = []
        self.ctes: list[tuple[str, exp.Expression]] = []
        self.pql_when: dict[str, exp.Expression] = {}
        self.profile_tests: list[exp.Expression] = []

    def filter_count(self, flt: ir.EventFilter) -> exp.Expression:
        if not self.shape.has_events:
            return exp.Literal.number(0)
        return exp.Coalesce(
            this=_col(f"n{self.filter_index(flt)}", "a"), expressions=[exp.Literal.number(0)]
        )

    def segment_index(self) -> exp.Expression:
        ifs = [
            (self.profile_test(seg.when), exp.Literal.number(i))
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
        visitor = _RuleColumns(self)
        rule_sql = [ir.visit_rule(r, visitor) for r in self.plan.rules]
        rule_cols = [c for r in rule_sql for c in r.inputs]
        check_cols = [c for chk in self.plan.checks for c in self.check_columns(chk)]
        check_cols += [c for g in self.plan.pql_gates for c in self.check_columns(g, when=False)]
        check_cols += [c for sig in self.plan.signals for c in self.signal_columns(sig)]
        self.pql_when = self.pql_conditions()
        carried = (
            [_col(f"{self.profile.prefix}{i}_{k}") for i, k in self.profile.used]
            if self.pql_when
            else []
        )  # the profile slots the PQL's gates read after the scores
        seg = self.segment_index()
        leads = exp.to_table(self.shape.leads_table).as_("l")
        extra = (
            [alias(_col(exp.to_identifier(self.shape.order_column, quoted=True), "l"), "ord")]
            if self.shape.order_column
            else []
        )
        accounts = []
        if self.shape.has_events and self.reads_accounts:
            lead_id = cast(_col("lead_id", "l"), "text")
            accounts = [alias(self._account_of("l", lead_id), "ak")]
        prof = exp.select(
            alias(cast(_col("lead_id", "l"), "text"), "lead_id"),
            *extra,
            *self.profile.projections(),
            *accounts,
        ).from_(leads)
        if self.shape.lead is not None:
            only = exp.EQ(this=cast(_col("lead_id", "l"), "text"), expression=lit(self.shape.lead))
            prof = prof.where(only, copy=False)
        self.ctes.append(("prof", prof))
        source = "prof"
        if self.profile_tests:  # the profile's tests, before the events are joined
            source = "prof_t"
            self.ctes.append((source, exp.select("*", *self.profile_tests).from_("prof")))
        rules = exp.select(
            alias(_col("lead_id", "p"), "lead_id"),
            *([_col("ord", "p")] if extra else []),
            alias(seg, "segment_index"),
            *rule_cols,
            *check_cols,
            *carried,
        ).from_(exp.to_table(source).as_("p"))
        if self.shape.has_events:
            rules = rules.join(
                exp.to_table("ev_agg").as_("a"),
                on=exp.EQ(this=_col("lid", "a"), expression=_col("lead_id", "p")),
                join_type="left",
                copy=False,
            )
            for name, key, _ in self.distinct_ctes:
                d = "d" + name[2:]
                rules = rules.join(
                    exp.to_table(name).as_(d),
                    on=exp.EQ(
                        this=_col(key, d), expression=_col("ak" if key == "ak" else "lead_id", "p")
                    ),
                    join_type="left",
                    copy=False,
                )
            if self.by_account:
                rules = rules.join(
                    exp.to_table("ev_acct").as_("b"),
                    on=exp.EQ(this=_col("ak", "b"), expression=_col("ak", "p")),
                    join_type="left",
                    copy=False,
                )
            if accounts and any(
                s is ir.Scope.ACCOUNT and self.summed(m) for _, m, s in self.measures
            ):
                self.ctes.append(("acct_sum", self.account_sums(self.account_leads())))
                rules = rules.join(
                    exp.to_table("acct_sum").as_("c"),
                    on=exp.EQ(this=_col("ak", "c"), expression=_col("ak", "p")),
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
        points = [
            alias(value, f"{name}_{rule.key}")
            for rule, r in zip(self.plan.rules, rule_sql, strict=True)
            for name, value in r.fields().items()
            if name in rule_fields(rule)
        ]
        self.ctes.append(("points", exp.select("*", *points).from_("rules")))
        sums: list[exp.Expression] = []
        for i, dim in enumerate(self.plan.dimensions):
            total: exp.Expression = num(0.0)
            for rule in dim.rules:
                total = exp.Add(this=total, expression=_col(f"points_{rule.key}"))
            sums.append(alias(exp.paren(total, copy=False), sum_column(self.plan, i)))
        self.ctes.append(("sums", exp.select("*", *sums).from_("points")))
        dim_cols: list[exp.Expression] = []
        for i, dim in enumerate(self.plan.dimensions):
            raw = _col(sum_column(self.plan, i))
            dim_cols.append(alias(_clip(raw.copy(), dim), dimension_column(self.plan, i)))
            clipped = exp.NEQ(this=_clip(raw.copy(), dim), expression=raw)
            dim_cols.append(alias(clipped, clipped_column(self.plan, i)))
        self.ctes.append(("dims", exp.select("*", *dim_cols).from_("sums")))

    # -- qualification ---------------------------------------------------------------------------
    def final_select(self) -> exp.Select:
        plan = self.plan
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

        dim_index = {d.name: i for i, d in enumerate(plan.dimensions)}
        cols = Columns(
            check=lambda key: _col(f"check_{key}"),
            score=lambda name: _col(dimension_column(plan, dim_index[name])),
            total=lambda: _col("total"),
            number=num,
        )
        ok = [qualifies_sql(plan, seg.policy, cols) for seg in plan.segments]
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
        # Floors met and threshold met, per requirement of the lead's segment (engine/qualify.py).
        met: dict[str, list[exp.Expression]] = {
            key: [exp.true()] * len(plan.segments) for key in [d.name for d in plan.dimensions]
        }
        met["total"] = [exp.true()] * len(plan.segments)
        for si, seg in enumerate(plan.segments):
            for req in requirements(plan, seg.policy):
                if req.kind in ("floor", "threshold"):
                    met[req.key][si] = met_sql(req, cols)
        met_cols = [
            alias(by_segment(met[d.name]), floor_met_column(plan, i))
            for i, d in enumerate(plan.dimensions)
        ]
        met_cols.append(alias(by_segment(met["total"]), "threshold_met"))
        with_total = exp.select("*", alias(total, "total")).from_("dims")
        self.ctes.append(("totals", with_total))
        last = "totals"
        pql: exp.Expression = exp.false()
        if plan.pql is not None:
            gates = self.pql_gate_columns()
            if gates:
                self.ctes.append(("pqlc", exp.select("*", *gates).from_("totals")))
                last = "pqlc"
            pql = pql_sql(plan.pql, lambda key: _col(f"signal_{key}"), cols)
        explain = explanation_columns(plan)
        query = exp.select(
            "lead_id",
            alias(by_segment([lit(s.name) for s in plan.segments]), "segment"),
            "segment_index",
            *[dimension_column(plan, i) for i in range(len(plan.dimensions))],
            "total",
            alias(by_segment([num(s.policy.threshold) for s in plan.segments]), "threshold"),
            alias(by_segment(ok), "mql"),
            alias(pql, "pql"),
            *floor_cols,
            *met_cols,
            *explain,
            *([alias(_col("ord"), "input_row")] if self.shape.order_column else []),
            *self._bad_events_column(),
        ).from_(last)
        if self.shape.order_column and self.shape.sort_output:
            query = query.order_by("ord", copy=False)
        return query

    def _bad_events_column(self) -> list[exp.Expression]:
        """``bad_events`` (``InputShape.event_checks``): the refused event rows of the whole
        file, on every row (events of leads the file lacks included)."""
        if not (self.shape.event_checks and self.shape.has_events and self.filters):
            return []
        total = exp.select(exp.Sum(this=_col("bad_n"))).from_("ev_agg").subquery()
        return [alias(exp.Coalesce(this=total, expressions=[exp.Literal.number(0)]), "bad_events")]

    def build_matches(self) -> exp.Select | None:
        """The explained lead's events that some event rule may count (``matches_query``)."""
        self._collect_filters()
        rules = [r for r in self.plan.rules if isinstance(r, ir.EventRule)]
        if not (self.shape.has_events and rules):
            return None
        self.events_ctes()
        hits = [alias(_col(f"m{self.filter_index(r.filter)}"), f"hit_{r.key}") for r in rules]
        query = exp.select("eid", "ep", *hits).from_("ev_m")
        if self.reads_accounts:  # ev_m holds the whole file's events then
            assert self.shape.lead is not None
            query = query.where(exp.EQ(this=_col("lid"), expression=lit(self.shape.lead)))
        for name, cte in self.ctes[:2]:  # ev and ev_m
            query = query.with_(name, as_=cte, copy=False, materialized=self._materialized(name))
        return query

    def _materialized(self, cte: str) -> bool | None:
        """False (``AS NOT MATERIALIZED``) for the event CTEs where the target asks for it
        (``SqlTarget.inline_events``); None (the engine decides) for the others."""
        return False if self.target.inline_events and cte in ("ev", "ev_m") else None

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
            query = query.with_(name, as_=cte, copy=False, materialized=self._materialized(name))
        return query


def compile_query(
    plan: ir.Plan, as_of: datetime, dialect: str = "duckdb", shape: InputShape | None = None
) -> exp.Select:
    """The whole scoring of every lead as one SELECT (a sqlglot expression tree).

    Raises:
        UnsupportedTargetError: the dialect is unknown, or it cannot express a model regex.
    """
    return _Compiler(plan, as_of, target(dialect), shape or InputShape()).build()


def matches_query(
    plan: ir.Plan, as_of: datetime, dialect: str, shape: InputShape
) -> exp.Select | None:
    """For one lead (``shape.lead``): its events at or before ``as_of`` that an event rule's
    filter matches, as rows ``eid`` (the event id), ``ep`` (epoch seconds) and ``hit_<rule>``
    per event rule; None when no event rule can count anything. The compiled query's
    ``events_<rule>`` says how many of them count (the most recent; ``batch/records.py``)."""
    assert shape.lead is not None
    return _Compiler(plan, as_of, target(dialect), shape).build_matches()


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


__all__ = [
    "EVENT_COLUMNS",
    "InputShape",
    "compile_query",
    "dimension_column",
    "explanation_columns",
    "floor_column",
    "matches_query",
    "output_columns",
    "query_sql",
]
