"""What the web app's account pages read (issue #15): the MQA board and an account's roles.

``account_board`` is ``service/accounts.mqa_queue`` (the same items ``GET /v1/mqas`` answers)
with what a sales rep needs beside each account: its name, tier and owner from the account's
profile, its age and SLA seconds, filtered and sorted. ``role_map`` lays out an account's buying
group (``GET /v1/accounts/{id}``'s score record) role by role with the members' names. Pure
reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from leadgate.engine import as_utc
from leadgate.service.accounts import AccountView, MqaItem, mqa_queue
from leadgate.store.db import Store
from leadgate.store.schema import accounts, leads

ACCOUNT_SORTS = ("score", "sla", "age", "completeness")
MAX_BOARD = 5000  # accounts in MQA read for one board (a page shows 100 of them)
CHUNK = 500


@dataclass
class AccountItem:
    """One MQA on the board: the queue item and what is shown beside it."""

    item: MqaItem
    name: str
    tier: str | None
    owner: str | None
    age_hours: float
    sla_seconds_left: float  # negative once overdue


@dataclass
class AccountBoard:
    items: list[AccountItem]
    total: int
    breached: int
    tiers: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def account_profiles(store: Store, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored profile (attrs) of each of ``ids``."""
    out: dict[str, dict[str, Any]] = {}
    with store.read() as conn:
        for start in range(0, len(ids), CHUNK):
            q = select(accounts.c.account_id, accounts.c.attrs).where(
                accounts.c.account_id.in_(ids[start : start + CHUNK])
            )
            out.update((r.account_id, dict(r.attrs or {})) for r in conn.execute(q))
    return out


LABEL_KEYS = ("name", "company", "tier", "owner")  # what the board shows of a profile


def _labels(store: Store, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The board's fields of each account's profile, read in SQL (not the whole profile)."""
    fields = [accounts.c.attrs[k].as_string().label(k) for k in LABEL_KEYS]
    out: dict[str, dict[str, Any]] = {}
    with store.read() as conn:
        for start in range(0, len(ids), CHUNK):
            q = select(accounts.c.account_id, *fields).where(
                accounts.c.account_id.in_(ids[start : start + CHUNK])
            )
            out.update((r.account_id, dict(r._mapping)) for r in conn.execute(q))
    return out


def account_board(
    store: Store,
    *,
    as_of: datetime,
    sort: str = "score",
    descending: bool = False,
    tier: str | None = None,
    owner: str | None = None,
    abm: bool | None = None,
) -> AccountBoard:
    """The accounts at MQA, filtered by tier, owner and ABM, sorted (score and completeness:
    highest first; SLA and age: most urgent first); ``descending`` reverses."""
    now = as_utc(as_of)
    queue = mqa_queue(store, as_of=now, limit=MAX_BOARD)
    profiles = _labels(store, [q.account_id for q in queue])
    every: list[AccountItem] = []
    for q in queue:
        p = profiles.get(q.account_id, {})
        every.append(AccountItem(
            q, _text(p.get("name") or p.get("company")) or q.account_id, _text(p.get("tier")),
            _text(p.get("owner")), (now - q.mqa_at).total_seconds() / 3600,
            (q.sla_due_at - now).total_seconds(),
        ))  # fmt: skip
    items = [
        i for i in every
        if (tier is None or i.tier == tier) and (owner is None or i.owner == owner)
        and (abm is None or i.item.abm == abm)
    ]  # fmt: skip
    keys: dict[str, Callable[[AccountItem], float]] = {
        "score": lambda i: -i.item.total,
        "completeness": lambda i: -(i.item.completeness or 0.0),
        "sla": lambda i: i.sla_seconds_left,
        "age": lambda i: -i.age_hours,
    }
    items.sort(key=lambda i: (keys.get(sort, keys["score"])(i), i.item.account_id),
               reverse=descending)  # fmt: skip
    return AccountBoard(
        items, len(items), sum(i.item.sla_state == "breached" for i in items),
        sorted({i.tier for i in every if i.tier}), sorted({i.owner for i in every if i.owner}),
    )  # fmt: skip


@dataclass
class RoleRow:
    """One buying-group role: filled of required, its engaged members (id, name)."""

    name: str
    filled: int
    required: int
    members: list[tuple[str, str]]

    @property
    def missing(self) -> int:
        return max(self.required - self.filled, 0)


def role_map(store: Store, view: AccountView) -> list[RoleRow]:
    """The account's buying group, role by role, members named from their profiles."""
    roles = ((view.score or {}).get("buying_group") or {}).get("roles") or {}
    ids = sorted({m for r in roles.values() for m in r.get("members", [])})
    names: dict[str, str] = {}
    with store.read() as conn:
        for start in range(0, len(ids), CHUNK):
            q = select(leads.c.lead_id, leads.c.attrs).where(
                leads.c.lead_id.in_(ids[start : start + CHUNK])
            )
            for r in conn.execute(q):
                a = r.attrs or {}
                full = " ".join(str(a[k]) for k in ("first_name", "last_name") if a.get(k))
                title = a.get("title")
                names[r.lead_id] = ", ".join(x for x in (full, str(title or "")) if x) or r.lead_id
    return [
        RoleRow(name, int(r["filled"]), int(r["required"]),
                [(m, names.get(m, m)) for m in r.get("members", [])])
        for name, r in roles.items()
    ]  # fmt: skip
