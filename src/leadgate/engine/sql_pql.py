"""The compiled query's checks and PQL (``engine/sql.py``): gate, disqualifier and PQL gate
columns, PQL signal columns, the PQL gates' conditions over the scores (``ScoreScope``), and the
leads an account-scoped measure sums over.

``PqlCompiler`` is the part of ``engine/sql._Compiler`` that builds them; the event counts and
measures they test come from ``engine/sql_events.EventsCompiler``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.sql_conditions import ValueScope, alias, and_all, condition_expr, num
from leadgate.engine.sql_events import EventsCompiler
from leadgate.engine.sql_shape import col as _col
from leadgate.engine.sql_shape import dimension_column
from leadgate.engine.targets import cast


def _null_double() -> exp.Expression:
    return cast(exp.Null(), "double")


@dataclass
class ScoreScope(ValueScope):
    """The fields a PQL gate reads: ``scores`` (``score.<dim>``, ``score.total``: columns of
    the ``totals`` CTE, numbers), any other field through ``profile``'s slots."""

    scores: dict[str, exp.Expression] = field(default_factory=dict)
    profile: ValueScope | None = None

    def slot(self, name: str, kind: str) -> exp.Expression:
        if name in self.scores:
            value = self.scores[name].copy()
            if kind == "n":
                return cast(value, "double")
            if kind == "t":  # only ``exists`` reads a score's text (the loader allows no more)
                return cast(value, "text")
            return cast(exp.Null(), "text")
        assert self.profile is not None
        return self.profile.slot(name, kind)


class PqlCompiler(EventsCompiler):
    """Check, signal and PQL gate columns; ``engine/sql._Compiler`` sets the attributes."""

    profile: ValueScope
    pql_when: dict[str, exp.Expression]
    profile_tests: list[exp.Expression]

    def profile_test(self, cond: ir.Cond) -> exp.Expression:
        """``cond`` on the profile alone, as a column of ``prof_t`` (``engine/sql.py``): the
        tests are decided before the events are joined to the leads, so that the join carries
        one boolean per test instead of the profile's texts (docs/performance.md, #12)."""
        name = f"pt{len(self.profile_tests)}"
        self.profile_tests.append(alias(condition_expr(cond, self.profile), name))
        return _col(name, "p")

    def count_holds(self, count: ir.EventCount, value: exp.Expression) -> exp.Expression:
        """``ir.EventCount.holds`` over the measure's value (a double, never NULL)."""
        eps = num(ir.EPSILON)
        parts: list[exp.Expression] = [
            exp.GTE(this=exp.Add(this=value, expression=eps), expression=num(count.min))
        ]
        if count.max is not None:
            low = exp.Sub(this=value.copy(), expression=eps.copy())
            parts.append(exp.LTE(this=low, expression=num(count.max)))
        return and_all(parts)

    def check_columns(self, chk: ir.Check, when: bool = True) -> list[exp.Expression]:
        """``check_<key>``, ``check_events_<key>``, ``check_value_<key>``; without ``when``,
        ``r_ev_<key>`` (the event test alone) instead of ``check_<key>`` (a PQL gate: its
        condition may read scores, so it is decided after them)."""
        parts: list[exp.Expression] = []
        n: exp.Expression = cast(exp.Null(), "bigint")
        value: exp.Expression = _null_double()
        if chk.when is not None and when:
            parts.append(self.profile_test(chk.when))
        if chk.events is not None:
            n = self.events_count(chk.events)
            value = self.measure_value(chk.events)
            parts.append(self.count_holds(chk.events, value.copy()))
        name = f"check_{chk.key}" if when else f"r_ev_{chk.key}"
        return [
            alias(and_all(parts), name),
            alias(n, f"check_events_{chk.key}"),
            alias(value, f"check_value_{chk.key}"),
        ]

    def signal_columns(self, sig: ir.Signal) -> list[exp.Expression]:
        value = self.measure_value(sig.events)
        return [
            alias(self.count_holds(sig.events, value.copy()), f"signal_{sig.key}"),
            alias(value, f"signal_value_{sig.key}"),
            alias(self.events_count(sig.events), f"signal_events_{sig.key}"),
        ]

    def account_leads(self) -> exp.Expression:
        """(``lead_id``, ``ak``) of every lead: ``prof`` itself, unless it holds one lead only
        (``leadgate explain``), then the leads table again."""
        if self.shape.lead is None:
            return exp.to_table("prof")
        lead_id = cast(_col("lead_id", "l"), "text")
        every = exp.select(
            alias(lead_id, "lead_id"), alias(self._account_of("l", lead_id.copy()), "ak")
        ).from_(exp.to_table(self.shape.leads_table).as_("l"))
        return every.subquery()

    def pql_conditions(self) -> dict[str, exp.Expression]:
        """The PQL gates' conditions by key, over the ``totals`` CTE: ``score.<dim>`` and
        ``score.total`` read the scores, other fields the profile slots carried there."""
        dims = {
            ir.SCORE_PREFIX + d.name: _col(dimension_column(self.plan, i))
            for i, d in enumerate(self.plan.dimensions)
        }
        scope = ScoreScope(
            self.target, "", "s", None, scores={**dims, ir.SCORE_TOTAL: _col("total")},
            profile=self.profile,
        )  # fmt: skip
        return {
            g.key: condition_expr(g.when, scope) for g in self.plan.pql_gates if g.when is not None
        }

    def pql_gate_columns(self) -> list[exp.Expression]:
        """``check_<key>`` of each PQL gate over the ``totals`` CTE: its condition (scores
        decided) and its event test (``r_ev_<key>``)."""
        assert self.plan.pql is not None
        return [
            alias(
                and_all([*([self.pql_when[g.key]] if g.key in self.pql_when else []),
                         _col(f"r_ev_{g.key}")]),
                f"check_{g.key}",
            )
            for g in self.plan.pql.gates
        ]  # fmt: skip
