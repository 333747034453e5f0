"""The event half of the scoring query: match flags, ages, decay, per-lead sums and top-N.

A mixin of the compiler in ``engine/sql.py`` (which owns the state named below). CTEs: ``ev``
(one row per event: lead, epoch seconds, type, the raw properties conditions read), ``ev_m``
(events at or before ``as_of`` of a type some rule counts, with their age in days and a match
flag per distinct filter), ``ev_agg`` (per lead: counts per filter, decayed sums per event
rule) and ``top_<rule>`` (the ``max_count`` most recent, for decayed rules only). With
``InputShape.event_checks``, ``ev`` also flags the rows the file readers refuse (``bad``), they
pass ``ev_m``'s filter whatever their type or time, and ``ev_agg`` counts them (``bad_n``).

Per-event work is the query's main cost (docs/performance.md "Batch scoring"), so each step is
spent only on the events that need it: a property is folded or parsed inside the CASE branch of
its filter's event types (``ValueScope.inline``) and a decay factor inside its rule's CASE (only
for the events that rule counts). Both are exact rewrites: the same arithmetic on the same events.
"""

from __future__ import annotations

from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.sql_conditions import (
    ValueScope,
    alias,
    and_all,
    case,
    condition_expr,
    equals_any,
    lit,
    num,
)
from leadgate.engine.sql_shape import InputShape
from leadgate.engine.sql_shape import col as _col
from leadgate.engine.targets import SqlTarget, cast


class EventsCompiler:
    """Builds the event CTEs; ``engine/sql._Compiler`` sets these attributes."""

    plan: ir.Plan
    target: SqlTarget
    shape: InputShape
    as_of_epoch: float
    props: ValueScope
    filters: dict[ir.EventFilter, int]
    ctes: list[tuple[str, exp.Expression]]

    def filter_index(self, flt: ir.EventFilter) -> int:
        return self.filters.setdefault(flt, len(self.filters))

    def _collect_filters(self) -> None:
        for flt in self.plan.event_filters:
            self.filter_index(flt)

    def match_expr(self, flt: ir.EventFilter) -> exp.Expression:
        """Type, window and ``where``: one boolean per event (docs/semantics.md "Rules").

        ``where`` sits in a CASE branch taken only for the filter's types within its window, so
        its properties are read for those events only (engines evaluate a CASE branch lazily).
        Never NULL without a COALESCE: ``ev_m`` keeps only events whose type and time are set
        (its WHERE drops NULLs), and ``condition_expr`` is never NULL.
        """
        parts: list[exp.Expression] = [equals_any(_col("typ"), flt.types)]
        if flt.within_days is not None:
            parts.append(exp.LTE(this=_col("age"), expression=num(flt.within_days)))
        if flt.where is None:
            return and_all(parts)
        return case([(and_all(parts), condition_expr(flt.where, self.props))], exp.false())

    def events_ctes(self) -> None:
        """``ev``, ``ev_m``, ``ev_agg`` and one ``top_<rule>`` per rule with ``max_count``."""
        as_of = num(self.as_of_epoch)
        flags = [
            alias(self.match_expr(flt), f"m{i}") for flt, i in self.filters.items()
        ]  # builds the property slots, so it runs before `ev` is projected
        types = sorted({t for flt in self.filters for t in flt.types})
        events = exp.to_table(self.shape.events_table).as_("e")
        ids: list[exp.Expression] = []
        if self.shape.lead is not None:  # one lead explained: its events' ids are listed
            eid = _col("event_id", "e") if self.shape.has_event_ids else exp.Null()
            ids = [alias(cast(eid, "text"), "eid")]
        ev = exp.select(
            alias(cast(_col("lead_id", "e"), "text"), "lid"),
            alias(
                self.target.epoch_seconds(_col(exp.to_identifier("timestamp", quoted=True), "e")),
                "ep",
            ),
            alias(self.target.strip(cast(_col("type", "e"), "text")), "typ"),
            *self.props.projections(),
            *ids,
        ).from_(events)
        if self.shape.lead is not None:
            ev = ev.where(
                exp.EQ(this=cast(_col("lead_id", "e"), "text"), expression=lit(self.shape.lead)),
                copy=False,
            )
        age = exp.Div(
            this=exp.paren(exp.Sub(this=as_of, expression=_col("ep")), copy=False),
            expression=num(ir.SECONDS_PER_DAY),
        )
        counted = exp.and_(
            exp.LTE(this=_col("ep"), expression=as_of.copy()),
            equals_any(_col("typ"), types),
        )
        bad: list[exp.Expression] = []
        aged = exp.select("*", alias(age, "age")).from_("ev")
        if self.shape.event_checks:
            # Every row reaches the aggregation, to count the ones the file readers refuse (such
            # a row fails the whole file: the runner raises); the filter moves into the flags.
            bad = [alias(self._bad_event(), "bad")]
            aged = aged.select(*bad, copy=False)
            not_after = exp.LTE(this=_col("ep"), expression=as_of.copy())
            flags = [
                alias(exp.And(this=not_after.copy(), expression=exp.paren(f.this)), f.alias)
                for f in flags
            ]
        else:
            aged = aged.where(counted, copy=False)
        ev_m = exp.select(
            "lid", "ep", "age", *flags, *(["bad"] if bad else []), *(["eid"] if ids else [])
        ).from_(aged.subquery("a"))
        self.ctes += [("ev", ev), ("ev_m", ev_m)]
        aggs: list[exp.Expression] = [_col("lid")]
        if bad:
            aggs.append(alias(exp.CountIf(this=_col("bad")), "bad_n"))
        for i in self.filters.values():
            # COUNT_IF (sqlglot writes SUM(CASE ...) where a dialect lacks it): DuckDB counts
            # the flag directly instead of projecting a CASE per event first.
            aggs.append(alias(exp.CountIf(this=_col(f"m{i}")), f"n{i}"))
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

    def _bad_event(self) -> exp.Expression:
        """No lead id, no type (after the strip), or no readable time, on ``ev``'s columns
        (``DuckDBScorer.check_events`` tests the same three on the source rows)."""
        tests: list[exp.Expression] = [
            exp.Is(this=_col("lid"), expression=exp.Null()),
            exp.EQ(this=_col("lid"), expression=lit("")),
            exp.Is(this=_col("typ"), expression=exp.Null()),
            exp.EQ(this=_col("typ"), expression=lit("")),
            exp.Is(this=_col("ep"), expression=exp.Null()),
        ]
        out = tests[0]
        for test in tests[1:]:
            out = exp.Or(this=out, expression=test)
        return out

    def _decay(self, rule: ir.EventRule) -> exp.Expression:
        """``points * 0.5 ** (age_days / half_life_days)`` for one event (from ``ev_m``).

        Written inside the rule's CASE, so the power is computed only for the events it counts.
        """
        assert rule.half_life_days is not None
        age = exp.Div(this=_col("age"), expression=num(rule.half_life_days))
        return exp.Mul(this=num(rule.points), expression=exp.Pow(this=num(0.5), expression=age))

    def _top_cte(self, rule: ir.EventRule) -> None:
        """The rule's ``max_count`` most recent matching events, summed per lead."""
        i = self.filter_index(rule.filter)
        order = exp.Order(expressions=[exp.Ordered(this=_col("ep"), desc=True)])
        rn = exp.Window(this=exp.RowNumber(), partition_by=[_col("lid")], order=order)
        ranked = (
            exp.select("lid", "age", alias(rn, "rn")).from_("ev_m").where(_col(f"m{i}"), copy=False)
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
