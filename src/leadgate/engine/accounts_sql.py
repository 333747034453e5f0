"""The account stage as SQL: a plan (``engine/accounts_ir.py``) -> one SELECT per account.

It reads three tables the runner (``batch/accounts_runner.py``) fills in the same database:
- ``AccountShape.scored``: one row per lead with an account: ``lead_id``, ``acct`` (its account
  id), ``s_total``, ``s_<i>`` (lead dimension ``i``'s score), ``s_mql`` ('true'/'false') and its
  profile fields (renamed as ``AccountShape.lead_renames`` says);
- ``AccountShape.base``: the rows of the compiled lead query (``engine/sql.compile_query``) run
  on ``AccountPlan.base`` over the accounts (their ``lead_id`` is the account id): the account's
  own profile and event rules, gates, disqualifiers and ``segment`` (``abm``), each column as the
  lead query names it;
- nothing else: roll-ups and roles are aggregates of ``scored`` grouped by account.

CTEs: ``lp`` (the leads' value slots), ``lv`` (per roll-up: matched ``in_<k>``, measure ``m_<k>``,
folded value ``cd_<k>``; the role index and ``engaged``), ``lr`` (rank ``rk_<k>`` among the
account's matched leads, largest first, ties by id), ``agg`` (per account: ``ru_value_<k>``,
``role_filled_<i>``); then the final SELECT: the base columns, each roll-up's ``ru_<field>_<k>``,
``acc_sum_<i>``, ``acc_score_<i>``, ``acc_clipped_<i>``, ``acc_total``, ``acc_completeness``,
``acc_met_floor_<i>``, ``acc_met_total``, ``acc_met_completeness`` and ``acc_mqa``.
``members_query`` lists ``lr``'s rows: the leads behind each roll-up and role.
Every number agrees with ``engine/accounts_python.py`` to 1e-9.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.accounts_ir import (
    TOTAL,
    AccountPlan,
    AccountRuleVisitor,
    RollupRule,
    visit_account_rule,
)
from leadgate.engine.accounts_python import MQL_FIELD, SCORE_PREFIX
from leadgate.engine.accounts_qualify import COMPLETENESS, policy_of
from leadgate.engine.qualify import Columns, met_sql, requirements
from leadgate.engine.sql_conditions import (
    NUMBER,
    TEXT,
    ValueScope,
    alias,
    and_all,
    case,
    condition_expr,
    num,
)
from leadgate.engine.sql_shape import col
from leadgate.engine.targets import SqlTarget, cast, target

ROLLUP_FIELDS = ("value", "points", "raw", "capped", "matched")


@dataclass(frozen=True)
class AccountShape:
    """The account stage's input tables; ``lead_kinds``/``lead_renames``: the scored leads'
    profile fields (field -> kind, field -> physical column), as ``InputShape``'s."""

    scored: str = "lg_scored"
    base: str = "lg_base"
    lead_kinds: Mapping[str, str] = field(default_factory=dict)
    lead_renames: Mapping[str, str] = field(default_factory=dict)


def score_column(index: int) -> str:
    """The scored leads' column of lead dimension ``index``."""
    return f"s_{index}"


def view_scope(plan: AccountPlan, tgt: SqlTarget, shape: AccountShape) -> ValueScope:
    """The lead view (``ScoredLead.view``) as a value scope over ``shape.scored``."""
    kinds = dict(shape.lead_kinds)
    renames = dict(shape.lead_renames)
    kinds["lead_id"], renames["lead_id"] = TEXT, "lead_id"
    kinds[SCORE_PREFIX + TOTAL], renames[SCORE_PREFIX + TOTAL] = NUMBER, "s_total"
    for i, d in enumerate(plan.lead.dimensions):
        kinds[SCORE_PREFIX + d.name], renames[SCORE_PREFIX + d.name] = NUMBER, score_column(i)
    kinds[MQL_FIELD], renames[MQL_FIELD] = TEXT, "s_mql"
    return ValueScope(tgt, "l", "p", kinds, renames=renames)


def _i(value: int) -> exp.Expression:
    return exp.Literal.number(value)


def _zero(e: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=e, expressions=[num(0.0)])


@dataclass(frozen=True)
class RollupSql:
    """A rule's columns in the final SELECT: its five ``ROLLUP_FIELDS`` (a base rule: none,
    the base columns already hold its explanation) and its points."""

    fields: dict[str, exp.Expression]
    points: exp.Expression


class _RuleColumns(AccountRuleVisitor[RollupSql]):
    """Each account rule kind in SQL (as ``accounts_python._AccountRules``)."""

    def visit_ProfileRule(self, rule: ir.ProfileRule) -> RollupSql:
        return RollupSql({}, col(f"points_{rule.key}"))

    def visit_EventRule(self, rule: ir.EventRule) -> RollupSql:
        return RollupSql({}, col(f"points_{rule.key}"))

    def visit_RollupRule(self, rule: RollupRule) -> RollupSql:
        k = rule.key
        value = _zero(col(f"ru_value_{k}", "g"))
        raw = exp.Mul(this=value.copy(), expression=num(rule.points))
        points: exp.Expression = raw.copy()
        capped: exp.Expression = exp.false()
        if rule.max_points is not None:
            capped = exp.GT(this=exp.Abs(this=raw.copy()), expression=num(rule.max_points))
            over = exp.Mul(this=exp.Sign(this=raw.copy()), expression=num(rule.max_points))
            points = case([(capped.copy(), over)], raw.copy())
        matched = exp.GT(this=_zero(col(f"ru_n_{k}", "g")), expression=num(0.0))
        fields = {
            "value": value,
            "points": points,
            "raw": raw,
            "capped": capped,
            "matched": matched,
        }
        return RollupSql(fields, col(f"ru_points_{k}"))


class _Compiler:
    def __init__(self, plan: AccountPlan, tgt: SqlTarget, shape: AccountShape) -> None:
        self.plan, self.target, self.shape = plan, tgt, shape
        self.scope = view_scope(plan, tgt, shape)
        self.ctes: list[tuple[str, exp.Expression]] = []

    def _measure(self, measure: str) -> exp.Expression:
        return self.scope.slot(SCORE_PREFIX + measure, "n")

    def lead_ctes(self) -> None:
        view_cols: list[exp.Expression] = []
        rank_cols: list[exp.Expression] = []
        for r in self.plan.rollups:
            k, ru = r.key, r.rollup
            hit = condition_expr(ru.where, self.scope) if ru.where is not None else exp.true()
            view_cols.append(alias(hit, f"in_{k}"))
            if ru.kind == "count_distinct":
                assert ru.measure is not None
                view_cols.append(alias(self.scope.slot(ru.measure, "f"), f"cd_{k}"))
            elif ru.measure is not None:
                view_cols.append(alias(self._measure(ru.measure), f"m_{k}"))
            if ru.kind in ("max", "top_sum"):
                order = [
                    exp.Ordered(this=col(f"m_{k}"), desc=True),
                    exp.Ordered(this=self._id_order(col("lead_id"))),
                ]
                window = exp.Window(
                    this=exp.RowNumber(),
                    partition_by=[col("acct"), col(f"in_{k}")],
                    order=exp.Order(expressions=order),
                )
                rank_cols.append(alias(window, f"rk_{k}"))
        group = self.plan.buying_group
        if group is not None:
            ifs = [(condition_expr(r.when, self.scope), _i(i)) for i, r in enumerate(group.roles)]
            view_cols.append(alias(case(ifs), "role_ix"))
            engaged = (
                condition_expr(group.engaged_when, self.scope)
                if group.engaged_when is not None
                else exp.true()
            )
            view_cols.append(alias(engaged, "engaged"))
        lp = exp.select(
            alias(cast(col("acct", "l"), "text"), "acct"),
            alias(cast(col("lead_id", "l"), "text"), "lead_id"),
            *self.scope.projections(),
        ).from_(exp.to_table(self.shape.scored).as_("l"))
        lp = lp.where(exp.Not(this=exp.Is(this=col("acct", "l"), expression=exp.Null())))
        self.ctes.append(("lp", lp))
        self.ctes.append(("lv", exp.select("acct", "lead_id", *view_cols).from_("lp")))
        self.ctes.append(("lr", exp.select("*", *rank_cols).from_("lv")))

    def _id_order(self, e: exp.Expression) -> exp.Expression:
        # Ties are broken by lead id as Python compares text (code points), whatever the
        # database's collation.
        if self.target.name == "postgres":
            return exp.Collate(this=e, expression=exp.Column(this=exp.to_identifier("C", True)))
        return e

    def agg_cte(self) -> None:
        cols: list[exp.Expression] = [col("acct")]
        for r in self.plan.rollups:
            k, ru = r.key, r.rollup
            hit = col(f"in_{k}")
            counted: exp.Expression = hit.copy()
            if ru.kind == "count_distinct":  # the leads behind it are those with a value
                present = exp.Not(this=exp.Is(this=col(f"cd_{k}"), expression=exp.Null()))
                counted = exp.And(this=counted, expression=present)
            cols.append(alias(exp.Sum(this=case([(counted, _i(1))], _i(0))), f"ru_n_{k}"))
            value: exp.Expression
            if ru.kind == "count":
                value = exp.Sum(this=case([(hit.copy(), num(1.0))], num(0.0)))
            elif ru.kind == "count_distinct":
                value = exp.Count(
                    this=exp.Distinct(expressions=[case([(hit.copy(), col(f"cd_{k}"))])])
                )
            elif ru.kind == "sum":
                value = exp.Sum(this=case([(hit.copy(), col(f"m_{k}"))]))
            elif ru.kind == "max":
                value = exp.Max(this=case([(hit.copy(), col(f"m_{k}"))]))
            else:
                assert ru.n is not None
                top = exp.LTE(this=col(f"rk_{k}"), expression=_i(ru.n))
                value = exp.Sum(this=case([(and_all([hit.copy(), top]), col(f"m_{k}"))]))
            cols.append(alias(_zero(cast(value, "double")), f"ru_value_{k}"))
        group = self.plan.buying_group
        for i, _ in enumerate(group.roles if group is not None else ()):
            filled = and_all([exp.EQ(this=col("role_ix"), expression=_i(i)), col("engaged")])
            cols.append(alias(exp.Sum(this=case([(filled, _i(1))], _i(0))), f"role_filled_{i}"))
        agg = exp.select(*cols).from_("lr").group_by(col("acct"))
        self.ctes.append(("agg", agg))

    def final(self) -> exp.Select:
        plan = self.plan
        visitor = _RuleColumns()
        rule_sql = {r.key: visit_account_rule(r, visitor) for r in plan.rules}
        ru_cols = [
            alias(value, f"ru_{name}_{k}")
            for k, rs in rule_sql.items()
            for name, value in rs.fields.items()
        ]
        group = plan.buying_group
        role_cols: list[exp.Expression] = []
        completeness: exp.Expression = num(1.0)
        if group is not None:
            parts: list[exp.Expression] = []
            for i, role in enumerate(group.roles):
                filled = exp.Coalesce(this=col(f"role_filled_{i}", "g"), expressions=[_i(0)])
                role_cols.append(alias(filled, f"role_filled_{i}"))
                full = exp.GTE(this=filled.copy(), expression=_i(role.required))
                ratio = exp.Div(this=cast(filled.copy(), "double"), expression=num(role.required))
                parts.append(case([(full, num(1.0))], ratio))
            total_c: exp.Expression = parts[0]
            for p in parts[1:]:
                total_c = exp.Add(this=total_c, expression=p)
            completeness = exp.Div(
                this=exp.paren(total_c, copy=False), expression=num(len(group.roles))
            )
        joined = (
            exp.select("b.*", *ru_cols, *role_cols, alias(completeness, "acc_completeness"))
            .from_(exp.to_table(self.shape.base).as_("b"))
            .join(
                exp.to_table("agg").as_("g"),
                on=exp.EQ(this=col("acct", "g"), expression=cast(col("lead_id", "b"), "text")),
                join_type="left",
            )
        )
        self.ctes.append(("ru", joined))
        sums: list[exp.Expression] = []
        for i, dim in enumerate(plan.dimensions):
            total: exp.Expression = num(0.0)
            for rule in dim.rules:
                total = exp.Add(this=total, expression=rule_sql[rule.key].points.copy())
            sums.append(alias(exp.paren(total, copy=False), f"acc_sum_{i}"))
        self.ctes.append(("asums", exp.select("*", *sums).from_("ru")))
        dim_cols: list[exp.Expression] = []
        for i, dim in enumerate(plan.dimensions):
            raw = col(f"acc_sum_{i}")
            clipped: exp.Expression = raw.copy()
            if dim.max is not None:
                over = exp.GT(this=clipped.copy(), expression=num(dim.max))
                clipped = case([(over, num(dim.max))], clipped)
            if dim.min is not None:
                under = exp.LT(this=clipped.copy(), expression=num(dim.min))
                clipped = case([(under, num(dim.min))], clipped)
            dim_cols.append(alias(clipped, f"acc_score_{i}"))
            dim_cols.append(
                alias(exp.NEQ(this=clipped.copy(), expression=raw.copy()), f"acc_clipped_{i}")
            )
        self.ctes.append(("ascores", exp.select("*", *dim_cols).from_("asums")))
        grand: exp.Expression = num(0.0)
        for i in range(len(plan.dimensions)):
            grand = exp.Add(this=grand, expression=col(f"acc_score_{i}"))
        self.ctes.append(("atotal", exp.select("*", alias(grand, "acc_total")).from_("ascores")))
        index = {d.name: i for i, d in enumerate(plan.dimensions)}
        cols = Columns(
            check=lambda key: col(f"check_{key}"),
            score=lambda name: col(f"acc_score_{index[name]}"),
            total=lambda: col("acc_total"),
            number=num,
        )
        met: list[exp.Expression] = []
        every: list[exp.Expression] = []
        for req in requirements(plan.base, policy_of(plan)):
            cond = met_sql(req, cols)
            every.append(cond.copy())
            if req.kind == "floor":
                met.append(alias(cond, f"acc_met_floor_{index[req.key]}"))
            elif req.kind == "threshold":
                met.append(alias(cond, "acc_met_total"))
        complete: exp.Expression = exp.true()
        if group is not None and group.min_completeness is not None:
            complete = exp.GTE(
                this=exp.Add(this=col("acc_completeness"), expression=num(ir.EPSILON)),
                expression=num(group.min_completeness),
            )
            every.append(complete.copy())
        met.append(alias(complete, f"acc_met_{COMPLETENESS}"))
        return exp.select("*", *met, alias(and_all(every), "acc_mqa")).from_("atotal")

    def build(self) -> exp.Select:
        self.lead_ctes()
        self.agg_cte()
        query = self.final()
        for name, cte in self.ctes:
            query = query.with_(name, as_=cte, copy=False)
        return query

    def build_members(self) -> exp.Select:
        self.lead_ctes()
        query = exp.select("*").from_("lr")
        for name, cte in self.ctes:
            query = query.with_(name, as_=cte, copy=False)
        return query


def account_query(plan: AccountPlan, dialect: str, shape: AccountShape) -> str:
    """The account stage of every account in the base table, as SQL text in ``dialect``."""
    tgt = target(dialect)
    return _Compiler(plan, tgt, shape).build().sql(dialect=tgt.dialect)


def scored_fields(plan: AccountPlan, shape: AccountShape) -> list[str]:
    """The profile columns of ``shape.scored`` the account and members queries read (the
    fields roll-up filters and roles test), so a runner copies only these of each lead."""
    compiler = _Compiler(plan, target("duckdb"), shape)
    compiler.lead_ctes()
    return [
        shape.lead_renames.get(name, name)
        for name in compiler.scope.slots
        if name in shape.lead_kinds
    ]


def members_query(plan: AccountPlan, dialect: str, shape: AccountShape) -> str:
    """Every lead with an account and its roll-up and role columns (``lr``): which roll-ups it
    counts in (``in_<k>``), its measure and rank, its role (``role_ix``) and ``engaged``."""
    tgt = target(dialect)
    return _Compiler(plan, tgt, shape).build_members().sql(dialect=tgt.dialect)
