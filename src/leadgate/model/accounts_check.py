"""Checks of a model's ``accounts:`` block that its pydantic classes cannot make.

Called by ``model/loader.py`` with its locator, so every problem names file, line and column:
conditions, exactly one kind per rule (``when``, ``event`` or ``rollup``), exactly one aggregate
per roll-up, roll-up measures and ``score.<x>`` fields naming the lead model's dimensions, floors
naming account dimensions, unique names.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from leadgate.errors import Problem
from leadgate.model.accounts_spec import ROLLUP_KINDS, AccountsSpec, RollupSpec
from leadgate.model.conditions import condition_fields, parse_condition
from leadgate.model.spec import CheckSpec, ModelSpec

PathKey = tuple[str | int, ...]
Locate = Callable[[PathKey, str, str], Problem]

SCORE_PREFIX = "score."
TOTAL = "total"
_EVENT_ONLY = ("where", "within_days", "half_life_days", "max_count")


def _hint(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean '{close[0]}'?" if close else "choose from: " + ", ".join(choices)


class _Checker:
    def __init__(self, spec: ModelSpec, locate: Locate) -> None:
        self.lead_dims = list(spec.dimensions)
        self.locate = locate
        self.problems: list[Problem] = []

    def add(self, path: PathKey, message: str, hint: str = "") -> None:
        self.problems.append(self.locate(path, message, hint))

    def cond(self, raw: Any, path: PathKey, lead_view: bool = False) -> None:
        if raw is None:
            return
        node, found = parse_condition(raw)
        for p in found:
            self.add((*path, *p.path), p.message, p.hint)
        if node is None or not lead_view:
            return
        measures = [TOTAL, *self.lead_dims]
        for field in sorted(condition_fields(node)):
            if field.startswith(SCORE_PREFIX) and field[len(SCORE_PREFIX) :] not in measures:
                name = field[len(SCORE_PREFIX) :]
                self.add(
                    (*path, field),
                    f"'{field}': the lead model has no dimension '{name}'",
                    _hint(name, measures),
                )

    def checks(self, items: list[CheckSpec], path: PathKey) -> None:
        names: set[str] = set()
        for i, chk in enumerate(items):
            cpath = (*path, i)
            if chk.name in names:
                self.add((*cpath, "name"), f"duplicate name '{chk.name}'")
            names.add(chk.name)
            if chk.when is None and chk.events is None:
                self.add(cpath, "needs 'when' or 'events'", "what must hold?")
            self.cond(chk.when, (*cpath, "when"))
            if chk.events is not None:
                self.cond(chk.events.where, (*cpath, "events", "where"))
                ev = chk.events
                if ev.max_count is not None and ev.max_count < ev.min_count:
                    self.add((*cpath, "events", "max_count"), "max_count is below min_count")

    def rollup(self, r: RollupSpec, path: PathKey) -> None:
        kinds = [k for k in ROLLUP_KINDS if getattr(r, k) is not None]
        if len(kinds) != 1:
            self.add(
                path,
                "a roll-up needs exactly one of " + ", ".join(ROLLUP_KINDS),
                "e.g. {count: leads} or {top_sum: total, n: 3}",
            )
        measures = [TOTAL, *self.lead_dims]
        for kind in ("sum", "max", "top_sum"):
            value = getattr(r, kind)
            if value is not None and value not in measures:
                self.add(
                    (*path, kind),
                    f"'{kind}' takes 'total' or a dimension of the lead model, got {value!r}",
                    _hint(value, measures),
                )
        if r.count_distinct is not None and not r.count_distinct.strip():
            self.add((*path, "count_distinct"), "'count_distinct' takes a lead field name")
        if r.top_sum is not None and r.n is None:
            self.add(path, "'top_sum' needs 'n' (how many leads it adds)", "e.g. n: 3")
        if r.n is not None and r.top_sum is None:
            self.add((*path, "n"), "'n' only applies to top_sum")
        self.cond(r.where, (*path, "where"), lead_view=True)

    def run(self, acc: AccountsSpec) -> list[Problem]:
        base: PathKey = ("accounts",)
        for dname, dim in acc.dimensions.items():
            dpath: PathKey = (*base, "dimensions", dname)
            if dim.max is not None and dim.min is not None and dim.min > dim.max:
                self.add((*dpath, "min"), f"min {dim.min} is above max {dim.max}")
            names: set[str] = set()
            for i, rule in enumerate(dim.rules):
                rpath = (*dpath, "rules", i)
                if rule.name in names:
                    self.add((*rpath, "name"), f"duplicate rule name '{rule.name}'")
                names.add(rule.name)
                kinds = [k for k in ("when", "event", "rollup") if getattr(rule, k) is not None]
                if len(kinds) != 1:
                    self.add(
                        rpath,
                        "an account rule needs exactly one of 'when' (account fields), "
                        "'event' (account-level events) or 'rollup' (its leads)",
                    )
                if rule.event is None:
                    for key in _EVENT_ONLY:
                        if getattr(rule, key) is not None:
                            self.add(
                                (*rpath, key),
                                f"'{key}' only applies to event rules",
                                "add 'event: TYPE' or remove it",
                            )
                    if rule.max_points is not None and rule.rollup is None:
                        self.add(
                            (*rpath, "max_points"),
                            "'max_points' only applies to event and roll-up rules",
                        )
                elif isinstance(rule.event, list) and not rule.event:
                    self.add((*rpath, "event"), "event needs at least one type")
                self.cond(rule.when, (*rpath, "when"))
                self.cond(rule.where, (*rpath, "where"))
                if rule.rollup is not None:
                    self.rollup(rule.rollup, (*rpath, "rollup"))
        for dim_name in acc.floors:
            if dim_name not in acc.dimensions:
                self.add(
                    (*base, "floors", dim_name),
                    f"floor for an account dimension that does not exist: '{dim_name}'",
                    _hint(dim_name, list(acc.dimensions)),
                )
        self.cond(acc.abm_when, (*base, "abm_when"))
        self.checks(acc.require, (*base, "require"))
        self.checks(acc.disqualify, (*base, "disqualify"))
        group = acc.buying_group
        if group is not None:
            gpath: PathKey = (*base, "buying_group")
            names = set()
            for i, role in enumerate(group.roles):
                if role.name in names:
                    self.add((*gpath, "roles", i, "name"), f"duplicate role name '{role.name}'")
                names.add(role.name)
                if role.required == 0:
                    self.add((*gpath, "roles", i, "required"), "a role requires at least 1 lead")
                self.cond(role.when, (*gpath, "roles", i, "when"), lead_view=True)
            self.cond(group.engaged_when, (*gpath, "engaged_when"), lead_view=True)
        return self.problems


def account_problems(spec: ModelSpec, locate: Locate) -> list[Problem]:
    """Every problem of ``spec.accounts`` (none when the model has no accounts block)."""
    if spec.accounts is None:
        return []
    return _Checker(spec, locate).run(spec.accounts)
