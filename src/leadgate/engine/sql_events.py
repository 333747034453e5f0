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

import math

from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.sql_conditions import (
    TEXT,
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


def summed(measure: ir.Measure) -> bool:
    """An account's value of this measure is the sum over its leads of a per-lead aggregate:
    a count, a sum, or the number of leads with an event (``{distinct: lead_id}``)."""
    return measure.kind in (ir.MeasureKind.COUNT, ir.MeasureKind.SUM) or (
        measure.kind is ir.MeasureKind.DISTINCT and measure.prop == ir.LEAD_ID
    )


class EventsCompiler:
    """Builds the event CTEs; ``engine/sql._Compiler`` sets these attributes."""

    plan: ir.Plan
    target: SqlTarget
    shape: InputShape
    as_of_epoch: float
    props: ValueScope
    filters: dict[ir.EventFilter, int]
    ctes: list[tuple[str, exp.Expression]]
    # Measures aggregated per lead (``x<j>`` of ``ev_agg``) and per account (``x<j>`` of
    # ``ev_acct``), by (filter, measure); a lead's plain count is its filter's ``n<i>``.
    measures: dict[tuple[ir.EventFilter, ir.Measure, ir.Scope], int]
    # ``dv<j>`` CTEs: (name, key column: lid or ak, query), joined to the leads by sql.py.
    distinct_ctes: list[tuple[str, str, exp.Expression]]

    def filter_index(self, flt: ir.EventFilter) -> int:
        return self.filters.setdefault(flt, len(self.filters))

    def summed(self, measure: ir.Measure) -> bool:
        """``summed``, unless the events table holds account-level events (``InputShape.
        event_account``): they belong to no lead, so an account's measures are read from its
        events (``ev_acct``), theirs included."""
        return self.shape.event_account is None and summed(measure)

    def _table(self, count: ir.EventCount) -> str:
        """Where the ``rules`` CTE reads a measure: ``a`` (``ev_agg``, per lead), ``b``
        (``ev_acct``, per account from its events) or ``c`` (``acct_sum``, per account from its
        leads' aggregates)."""
        if count.scope is ir.Scope.LEAD:
            return "a"
        return "c" if self.summed(count.measure) else "b"

    def measure_index(self, count: ir.EventCount) -> int:
        key = (count.filter, count.measure, count.scope)
        return self.measures.setdefault(key, len(self.measures))

    def _collect_filters(self) -> None:
        for flt in self.plan.event_filters:
            self.filter_index(flt)
        for count in self.plan.event_counts:
            if count.scope is ir.Scope.ACCOUNT or count.measure.kind is not ir.MeasureKind.COUNT:
                self.measure_index(count)
            if count.scope is ir.Scope.ACCOUNT and count.measure.kind is ir.MeasureKind.SUM:
                self.measure_index(ir.EventCount(count.filter, measure=count.measure))
        for rule in self.plan.rules:
            if isinstance(rule, ir.EventRule) and rule.points_per is not None:
                per = ir.Measure(ir.MeasureKind.SUM, rule.points_per)
                self.measure_index(ir.EventCount(rule.filter, measure=per))

    @property
    def by_account(self) -> bool:
        """Some measure reads the events of the lead's account (``ev_acct``: each event joined
        to its lead's account); the measures that add up per lead do not (``summed``)."""
        return any(
            scope is ir.Scope.ACCOUNT and not self.summed(m) for _, m, scope in self.measures
        )

    @property
    def reads_accounts(self) -> bool:
        """Some measure is account-scoped: the profile carries the account key ``ak``."""
        return any(scope is ir.Scope.ACCOUNT for _, _, scope in self.measures)

    def account_sums(self, leads: exp.Expression) -> exp.Select:
        """``acct_sum``: the account-scoped measures that add up over the account's leads (a
        count, a sum, the leads with an event: ``summed``), from each lead's ``ev_agg`` row, so
        the events are not joined to the leads. ``leads``: (``lead_id``, ``ak``) of every lead."""
        cols: list[exp.Expression] = [_col("ak", "p")]
        for (flt, measure, scope), j in self.measures.items():
            if scope is not ir.Scope.ACCOUNT or not self.summed(measure):
                continue
            n = exp.Coalesce(
                this=_col(f"n{self.filter_index(flt)}", "a"), expressions=[exp.Literal.number(0)]
            )
            value: exp.Expression
            if measure.kind is ir.MeasureKind.COUNT:
                value = exp.Sum(this=n.copy())
            elif measure.kind is ir.MeasureKind.SUM:
                own = self.measure_index(ir.EventCount(flt, measure=measure))  # per lead
                value = exp.Sum(this=_col(f"x{own}", "a"))
            else:  # distinct lead_id: the account's leads with a matching event
                value = exp.CountIf(this=exp.GT(this=n.copy(), expression=exp.Literal.number(0)))
            cols += [alias(value, f"x{j}"), alias(exp.Sum(this=n), f"c{j}")]
        return (
            exp.select(*cols)
            .from_(leads.as_("p"))
            .join(
                exp.to_table("ev_agg").as_("a"),
                on=exp.EQ(this=_col("lid", "a"), expression=_col("lead_id", "p")),
                join_type="left",
            )
            .group_by(_col("ak", "p"))
        )

    def measure_value(self, count: ir.EventCount) -> exp.Expression:
        """The measure's value for the lead (a double, 0 without events), over the ``rules``
        CTE's inputs: ``ev_agg`` as ``a``, ``ev_acct`` as ``b``."""
        if not self.shape.has_events:
            return num(0.0)
        if count.scope is ir.Scope.LEAD and count.measure.kind is ir.MeasureKind.COUNT:
            n = _col(f"n{self.filter_index(count.filter)}", "a")
        elif count.measure.kind is ir.MeasureKind.DISTINCT and count.measure.prop != ir.LEAD_ID:
            j = self.measure_index(count)
            n = _col(f"x{j}", f"d{j}")  # its own CTE, dv<j>
        else:
            n = _col(f"x{self.measure_index(count)}", self._table(count))
        return exp.Coalesce(this=cast(n, "double"), expressions=[num(0.0)])

    def events_count(self, count: ir.EventCount) -> exp.Expression:
        """How many events the test matched (of the lead, or of its account)."""
        if not self.shape.has_events:
            return exp.Literal.number(0)
        if count.scope is ir.Scope.LEAD:
            n = _col(f"n{self.filter_index(count.filter)}", "a")
        else:
            n = _col(f"c{self.measure_index(count)}", self._table(count))
        return exp.Coalesce(this=n, expressions=[exp.Literal.number(0)])

    def _measure_aggs(self, scope: ir.Scope) -> list[exp.Expression]:
        """``x<j>`` (and per account ``c<j>``, the events matched) of every measure of ``scope``,
        over ``ev_m``; reading a property registers its inline slot, so this runs before
        ``ev`` is projected."""
        out: list[exp.Expression] = []
        for (flt, measure, sc), j in list(self.measures.items()):
            if sc is not scope or (sc is ir.Scope.ACCOUNT and self.summed(measure)):
                continue
            m = _col(f"m{self.filter_index(flt)}")
            kind, prop = measure.kind, measure.prop
            value: exp.Expression
            if kind is ir.MeasureKind.COUNT:
                value = exp.CountIf(this=m)
            elif kind is ir.MeasureKind.DISTINCT_DAYS:
                value = self._distinct_days(m, flt)
            elif kind is ir.MeasureKind.SUM:
                assert prop is not None
                value = exp.Sum(this=case([(m, self.props.slot(prop, "n"))]))
            elif prop == ir.LEAD_ID:
                value = exp.Count(this=exp.Distinct(expressions=[case([(m, _col("lid"))])]))
            else:
                assert prop is not None
                self._distinct_values(j, scope, m, prop)
                if scope is ir.Scope.ACCOUNT:
                    out.append(alias(exp.CountIf(this=m.copy()), f"c{j}"))
                continue
            out.append(alias(value, f"x{j}"))
            if scope is ir.Scope.ACCOUNT:
                out.append(alias(exp.CountIf(this=m.copy()), f"c{j}"))
        return out

    def _distinct_values(self, j: int, scope: ir.Scope, m: exp.Expression, prop: str) -> None:
        """``dv<j>``: a property's distinct values per lead (or account), numbers by value and
        other values as folded text, as DISTINCT rows counted per key: cheaper than a
        COUNT(DISTINCT) inside ``ev_agg``. Built once ``ev_m`` exists (``_distinct_ctes``)."""
        number = self.props.slot(prop, "n")
        zero = exp.Add(this=number, expression=num(0.0))  # -0.0 and 0.0: one value
        text = case(
            [(exp.Is(this=number.copy(), expression=exp.Null()), self.props.slot(prop, "f"))]
        )
        key = "ak" if scope is ir.Scope.ACCOUNT else "lid"
        # A value is there (a number, or else folded text) exactly when its text is: the test
        # reads the text alone, without parsing the number again (docs/performance.md, #16).
        present = exp.Not(this=exp.Is(this=self.props.slot(prop, "t"), expression=exp.Null()))
        values = (
            exp.select(_col(key), alias(zero, "vn"), alias(text, "vt"))
            .distinct()
            .from_("ev_m")
            .where(exp.and_(m.copy(), present))
        )
        counted = exp.select(_col(key), alias(exp.Count(this=exp.Star()), f"x{j}"))
        self.distinct_ctes.append(
            (f"dv{j}", key, counted.from_(values.subquery("v")).group_by(_col(key)))
        )

    def _distinct_days(self, m: exp.Expression, flt: ir.EventFilter) -> exp.Expression:
        """How many UTC days (``floor(ep / 86400)``) have a matching event. Within a window of
        at most 62 days, where the target can (``day_bits``), the days are bits of a BIGINT,
        ``as_of``'s day bit 0: the same count without a COUNT(DISTINCT)'s hash table."""
        day = exp.Floor(this=exp.Div(this=_col("ep"), expression=num(ir.SECONDS_PER_DAY)))
        within = flt.within_days
        if not (self.target.day_bits and within is not None and math.ceil(within) <= 62):
            return exp.Count(this=exp.Distinct(expressions=[case([(m, day)])]))
        today = math.floor(self.as_of_epoch / ir.SECONDS_PER_DAY)
        back = cast(exp.Sub(this=exp.Literal.number(today), expression=day), "int")
        bit = exp.BitwiseLeftShift(this=cast(exp.Literal.number(1), "bigint"), expression=back)
        return exp.Anonymous(
            this="bit_count",
            expressions=[exp.Anonymous(this="bit_or", expressions=[case([(m, bit)])])],
        )

    def _measured_props(self) -> list[str]:
        """The raw property columns ``ev_m`` carries for the measures (and ``points_per``)."""
        names = [p for _, measure, _ in self.measures for p in [measure.prop] if p]
        return [
            f"{self.props.prefix}{self.props.slots[name]}_r"
            for name in dict.fromkeys(names)
            if name in self.props.slots and self.props.kind_of(name) is not None
        ]

    def _account_column(self) -> list[exp.Expression]:
        """``acc``: an account-level event's account (text; ``InputShape.event_account``)."""
        name = self.shape.event_account
        if name is None:
            return []
        kinds = {name: (self.shape.event_columns or {}).get(name, TEXT)}
        scope = ValueScope(self.target, "e", "e", kinds)
        return [alias(scope.text_expr(name), "acc")]

    def _event_account(self) -> exp.Expression:
        """``ak`` of an event of ``ev``'s subquery ``v`` joined to its lead ``k``: its lead's
        account (``_account_of``), or for an account-level event (no lead) 'a' and ``acc``."""
        lead = self._account_of("k", _col("lid", "v"))
        if self.shape.event_account is None:
            return lead
        no_lead = exp.Is(this=_col("lid", "v"), expression=exp.Null())
        return case([(no_lead, exp.DPipe(this=lit("a"), expression=_col("acc", "v")))], lead)

    def _account_of(self, table: str, lead_id: exp.Expression) -> exp.Expression:
        """``engine.python.account_key`` over a leads table aliased ``table``: 'a' and the
        lead's account_id (text), or 'l' and its lead id."""
        scope = ValueScope(
            self.target, table, table, self.shape.lead_columns, renames=self.shape.lead_renames
        )
        account = scope.text_expr("account_id")
        return case(
            [
                (
                    exp.Is(this=account, expression=exp.Null()),
                    exp.DPipe(this=lit("l"), expression=lead_id),
                )
            ],
            exp.DPipe(this=lit("a"), expression=account.copy()),
        )

    def match_expr(self, flt: ir.EventFilter, typ: str = "typ") -> exp.Expression:
        """Type, window and ``where``: one boolean per event (docs/semantics.md "Rules").

        ``where`` sits in a CASE branch taken only for the filter's types within its window, so
        its properties are read for those events only (engines evaluate a CASE branch lazily).
        Never NULL without a COALESCE: ``ev_m`` keeps only events whose type and time are set
        (its WHERE drops NULLs), and ``condition_expr`` is never NULL. With the event checks,
        ``typ`` is ``typ_w`` (NULL after ``as_of``, or without a time): a flag is then NULL
        where it does not hold, which every reader of the flags counts as not matched.
        """
        parts: list[exp.Expression] = [equals_any(_col(typ), flt.types)]
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
        lead_measures = self._measure_aggs(ir.Scope.LEAD)
        account_measures = self._measure_aggs(ir.Scope.ACCOUNT)
        decays = self._decay_aggs()
        raw = self._measured_props()
        types = sorted({t for flt in self.filters for t in flt.types})
        events = exp.to_table(self.shape.events_table).as_("e")
        ids: list[exp.Expression] = []
        if self.shape.lead is not None:  # one lead explained: its events' ids are listed
            eid = _col("event_id", "e") if self.shape.has_event_ids else exp.Null()
            ids = [alias(cast(eid, "text"), "eid")]
        accounts: list[exp.Expression] = []
        if self.by_account:
            accounts = [alias(self._event_account(), "ak")]
        ev = exp.select(
            alias(cast(_col("lead_id", "e"), "text"), "lid"),
            alias(
                self.target.epoch_seconds(_col(exp.to_identifier("timestamp", quoted=True), "e")),
                "ep",
            ),
            alias(self.target.strip(cast(_col("type", "e"), "text")), "typ"),
            *self.props.projections(),
            *ids,
            *self._account_column(),
        ).from_(events)
        if self.shape.lead is not None and not self.reads_accounts:
            ev = ev.where(
                exp.EQ(this=cast(_col("lead_id", "e"), "text"), expression=lit(self.shape.lead)),
                copy=False,
            )
        if accounts:  # each event's account, from its lead (``engine.python.account_key``)
            every = exp.Column(this=exp.Star(), table=exp.to_identifier("v"))
            ev = exp.select(every, *accounts).from_(ev.subquery("v"), copy=False)
            ev = ev.join(
                exp.to_table(self.shape.leads_table).as_("k"),
                on=exp.EQ(this=cast(_col("lead_id", "k"), "text"), expression=_col("lid", "v")),
                join_type="left",
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
            # The window is tested once per event: an event after as_of (or without a time)
            # has no type for the flags (typ_w is NULL), so none of them holds for it. Testing
            # `ep <= as_of AND ...` in every flag cost 0.1-0.2 CPU-s per 20M typed events.
            not_after = exp.LTE(this=_col("ep"), expression=as_of.copy())
            aged = aged.select(*bad, alias(case([(not_after, _col("typ"))]), "typ_w"), copy=False)
            flags = [
                alias(self.match_expr(flt, "typ_w"), f"m{i}") for flt, i in self.filters.items()
            ]
        else:
            aged = aged.where(counted, copy=False)
        ev_m = exp.select(
            "lid", "ep", "age", *flags, *(["bad"] if bad else []), *(["eid"] if ids else []),
            *(["ak"] if accounts else []), *raw,
        ).from_(aged.subquery("a"))  # fmt: skip
        self.ctes += [("ev", ev), ("ev_m", ev_m)]
        aggs: list[exp.Expression] = [_col("lid")]
        if bad:
            aggs.append(alias(exp.CountIf(this=_col("bad")), "bad_n"))
        for i in self.filters.values():
            # COUNT_IF (sqlglot writes SUM(CASE ...) where a dialect lacks it): DuckDB counts
            # the flag directly instead of projecting a CASE per event first.
            aggs.append(alias(exp.CountIf(this=_col(f"m{i}")), f"n{i}"))
        aggs += [*lead_measures, *decays]
        self.ctes += [(name, cte) for name, _, cte in self.distinct_ctes]
        for rule in self.plan.rules:
            if isinstance(rule, ir.EventRule) and rule.half_life_days and rule.max_count:
                self._top_cte(rule)  # the N most recent, each with its own decay
        self.ctes.append(("ev_agg", exp.select(*aggs).from_("ev_m").group_by("lid")))
        if accounts:
            by_account = exp.select(_col("ak"), *account_measures).from_("ev_m").group_by("ak")
            self.ctes.append(("ev_acct", by_account))

    def _decay_aggs(self) -> list[exp.Expression]:
        """``dec_<rule>``: the decayed sum of every decayed event rule without ``max_count``
        (those with one get a ``top_<rule>`` CTE)."""
        aggs: list[exp.Expression] = []
        for rule in self.plan.rules:
            if not isinstance(rule, ir.EventRule):
                continue
            if rule.half_life_days is None or rule.max_count is not None:
                continue  # points * count (or the sum of points_per), or a top_<rule> CTE
            m = _col(f"m{self.filter_index(rule.filter)}")
            aggs.append(alias(exp.Sum(this=case([(m, self._decay(rule))])), f"dec_{rule.key}"))
        return aggs

    def _bad_event(self) -> exp.Expression:
        """No lead id, no type (after the strip), or no readable time, on ``ev``'s columns
        (``DuckDBScorer.check_events`` tests the same three on the source rows)."""
        no_lead: exp.Expression = exp.Is(this=_col("lid"), expression=exp.Null())
        if self.shape.event_account is not None:  # an account-level event names its account
            no_lead = exp.And(
                this=no_lead, expression=exp.Is(this=_col("acc"), expression=exp.Null())
            )
        tests: list[exp.Expression] = [
            exp.paren(no_lead),
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
        points: exp.Expression = num(rule.points)
        if rule.points_per is not None:  # points per unit of the property (missing: 0)
            per = exp.Coalesce(this=self.props.slot(rule.points_per, "n"), expressions=[num(0.0)])
            points = exp.Mul(this=points, expression=per)
        return exp.Mul(this=points, expression=exp.Pow(this=num(0.5), expression=age))

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
