"""Random account models and inputs for the account agreement tests (Python vs SQL engines).

The lead model is small and fixed in shape (its own agreement is tests/engine's); the accounts
block is drawn at random: every rule kind, every roll-up kind with ``where`` on the profile,
``score.*`` and ``mql``, roles, ``engaged_when``, floors, gates, disqualifiers and ``abm_when``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from hypothesis import strategies as st

from leadgate.account_scoring import AccountInputs
from leadgate.engine.accounts_compile import compile_accounts
from leadgate.engine.accounts_ir import AccountPlan
from leadgate.io.account_events import SplitEvents
from leadgate.io.account_join import with_account
from leadgate.io.readers import event_from_row
from leadgate.model import parse_model

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
TITLES = ("VP Sales", "vp", "Engineer", "Data Analyst", "Manager", "ceo", "", "head of it", "É")
INDUSTRIES = ("software", "fintech", "retail", "Software", "", "12")
DEPTS = ("IT", "it", "Sales", "", "ops", "12", "12.0")
REGEXES = (r"\bvp\b", "engineer|analyst", "^m", "head", "É|e$")
LEAD_MODEL: dict[str, Any] = {
    "name": "acct-agree",
    "version": "1",
    "threshold": 25,
    "floors": {"fit": 5},
    "dimensions": {
        "fit": {"rules": [{"name": "senior", "when": {"title": {"matches": r"\b(vp|ceo|head)\b"}}, "points": 20}]},
        "engagement": {
            "half_life_days": 20,
            "rules": [
                {"name": "opens", "event": "open", "points": 3, "max_points": 15},
                {"name": "clicks", "event": "click", "points": 7},
            ],
        },
    },
}  # fmt: skip
MEASURES = ("total", "fit", "engagement")
NUMS = (0, 1, 2.5, 5, 10, 20, 35)


def _lead_cond() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(lambda m, v: {f"score.{m}": {"gte": v}}, st.sampled_from(MEASURES), st.sampled_from(NUMS)),
        st.builds(lambda b: {"mql": b}, st.booleans()),
        st.builds(lambda r: {"title": {"matches": r}}, st.sampled_from(REGEXES)),
        st.builds(lambda d: {"dept": {"in": [d]}}, st.sampled_from([d for d in DEPTS if d])),
        st.builds(lambda v: {"account.tier": {"lte": v}}, st.sampled_from((1, 2, 3))),
        st.builds(lambda m: {"not": {f"score.{m}": {"lt": 10}}}, st.sampled_from(MEASURES)),
    )  # fmt: skip


def _rollup() -> st.SearchStrategy[dict[str, Any]]:
    where = st.one_of(st.none(), _lead_cond())
    kind = st.one_of(
        st.just({"count": "leads"}),
        st.builds(lambda m: {"sum": m}, st.sampled_from(MEASURES)),
        st.builds(lambda m: {"max": m}, st.sampled_from(MEASURES)),
        st.builds(lambda m, n: {"top_sum": m, "n": n}, st.sampled_from(MEASURES), st.integers(1, 4)),
        st.builds(lambda f: {"count_distinct": f}, st.sampled_from(["dept", "title"])),
    )  # fmt: skip
    return st.builds(lambda k, w: {**k, **({"where": w} if w else {})}, kind, where)


def _rule(i: int) -> st.SearchStrategy[dict[str, Any]]:
    points = st.sampled_from((-3, 0.5, 2, 10, 1.25))
    cap = st.one_of(st.none(), st.sampled_from((4, 30)))
    profile = st.builds(
        lambda p, v: {"name": f"r{i}", "when": {"industry": {"in": [v]}}, "points": p},
        points, st.sampled_from(INDUSTRIES[:4]),
    )  # fmt: skip
    event = st.builds(
        lambda p, hl, c: {"name": f"r{i}", "event": "page_view", "where": {"url": {"contains": "/pricing"}},
                          "points": p, **({"half_life_days": hl} if hl else {}), **({"max_points": c} if c else {})},
        points, st.sampled_from((None, 7, 14)), cap,
    )  # fmt: skip
    rollup = st.builds(
        lambda p, r, c: {"name": f"r{i}", "rollup": r, "points": p, **({"max_points": c} if c else {})},
        points, _rollup(), cap,
    )  # fmt: skip
    return st.one_of(profile, event, rollup, rollup)


@st.composite
def account_models(draw: st.DrawFn) -> str:
    dims: dict[str, Any] = {}
    for name in draw(
        st.lists(
            st.sampled_from(["fit", "engagement", "intent"]), min_size=1, max_size=3, unique=True
        )
    ):
        n = draw(st.integers(1, 3))
        dim: dict[str, Any] = {"rules": [draw(_rule(i)) for i in range(n)]}
        if draw(st.booleans()):
            dim["max"] = draw(st.sampled_from((10, 40)))
        dims[name] = dim
    acc: dict[str, Any] = {"threshold": draw(st.sampled_from((0, 10, 30, 60))), "dimensions": dims}
    if draw(st.booleans()):
        acc["floors"] = {next(iter(dims)): draw(st.sampled_from((0, 5, 20)))}
    if draw(st.booleans()):
        acc["abm_when"] = {"tier": {"in": [1, 2]}}
    if draw(st.booleans()):
        acc["require"] = [{"name": "known industry", "when": {"industry": {"exists": True}}}]
    if draw(st.booleans()):
        acc["disqualify"] = [{"name": "bots", "events": {"type": "page_view", "min_count": 3}}]
    if draw(st.booleans()):
        roles = [
            {
                "name": f"role {i}",
                "when": {"title": {"matches": r}},
                "required": draw(st.integers(1, 3)),
            }
            for i, r in enumerate(
                draw(st.lists(st.sampled_from(REGEXES), min_size=1, max_size=3, unique=True))
            )
        ]
        group: dict[str, Any] = {"roles": roles}
        if draw(st.booleans()):
            group["engaged_when"] = draw(_lead_cond())
        if draw(st.booleans()):
            group["min_completeness"] = draw(st.sampled_from((0.3, 0.5, 1.0)))
        acc["buying_group"] = group
    return yaml.safe_dump({**LEAD_MODEL, "accounts": acc}, sort_keys=False)  # fmt: skip


@st.composite
def account_inputs(draw: st.DrawFn) -> AccountInputs:
    n_accounts = draw(st.integers(1, 3))
    accounts = [
        {"account_id": f"A{i}", "industry": draw(st.sampled_from(INDUSTRIES)), "tier": draw(st.sampled_from((1, 2, 3, "x")))}
        for i in range(n_accounts)
    ]  # fmt: skip
    by_id = {a["account_id"]: a for a in accounts}
    leads = []
    for i in range(draw(st.integers(0, 8))):
        acct = draw(st.sampled_from([*by_id, None, "AX"]))
        profile: dict[str, Any] = {"lead_id": f"L{i:02d}", "title": draw(st.sampled_from(TITLES))}
        if acct is not None:
            profile["account_id"] = acct
        dept = draw(st.sampled_from(DEPTS))
        if dept:
            profile["dept"] = dept
        leads.append(with_account(profile, by_id.get(acct) if acct else None))
    split = SplitEvents({}, {})
    for j in range(draw(st.integers(0, 14))):
        days = draw(st.sampled_from((0, 1, 3, 10, 30, -2)))
        when = (AS_OF - timedelta(days=days, hours=j)).isoformat()
        if leads and draw(st.booleans()):
            lead = draw(st.sampled_from(leads))["lead_id"]
            ev = event_from_row({"lead_id": lead, "type": draw(st.sampled_from(("open", "click"))),
                                 "timestamp": when, "event_id": f"e{j}"})  # fmt: skip
            split.leads.setdefault(lead, []).append(ev)
        else:
            acct = draw(st.sampled_from(list(by_id)))
            url = draw(st.sampled_from(("/pricing", "/home", "/PRICING/x")))
            ev = event_from_row({"lead_id": acct, "type": "page_view", "timestamp": when,
                                 "url": url, "event_id": f"x{j}"})  # fmt: skip
            split.accounts.setdefault(acct, []).append(ev)
    return AccountInputs(accounts, leads, split)


def plan_of(text: str) -> AccountPlan:
    return compile_accounts(parse_model(text))
