"""The funnel frame and replay history read from the operational store.

One frame row per MQL cycle (``mql_cycles``), its progress taken from the append-only
``transitions`` (times of sal, sql, opportunity, won, lost) and ``dispositions`` (reject reason,
amount), the lead's attributes from ``leads.attrs`` joined with its account; plus one row per lead
that never became an MQL. Leads marked as duplicates stay in: their handoffs happened (and sales'
"duplicate" rejections are worth seeing). A cycle's model version is the published version whose hash made it an
MQL (``model_versions``); cycles loaded from an outcomes file carry none and are labelled
``imported``.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import pandas as pd
from sqlalchemy import Text, cast, select

from leadgate.engine import Event, Plan, compile_model
from leadgate.model import parse_model
from leadgate.report.frame import UNKNOWN, build_frame, lead_attributes
from leadgate.report.history import History

IMPORTED = "imported"


def _version_labels(conn: Any) -> dict[str, str]:
    from leadgate.store.schema import model_versions as mv

    rows = conn.execute(select(mv.c.name, mv.c.version, mv.c.hash).order_by(mv.c.id)).all()
    names = {r.name for r in rows}
    # The version label alone when one model name is in use (the common case), else name@version.
    return {r.hash: (r.version if len(names) == 1 else f"{r.name}@{r.version}") for r in rows}


ID_CHUNK = 500  # lead ids per IN (...) list when reading some leads only


def _some(conn: Any, q: Any, column: Any, ids: Sequence[str] | None) -> Iterator[Any]:
    """The rows of ``q``: all of them, or (``ids``) those whose ``column`` is one of ``ids``."""
    if ids is None:
        yield from conn.execute(q)
        return
    for start in range(0, len(ids), ID_CHUNK):
        yield from conn.execute(q.where(column.in_(ids[start : start + ID_CHUNK])))


def _profiles(
    conn: Any, ids: Sequence[str] | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, str | None]]:
    from leadgate.store.schema import accounts, leads

    accts = {
        r.account_id: dict(r.attrs or {})
        for r in conn.execute(select(accounts.c.account_id, accounts.c.attrs))
    }
    profiles: dict[str, dict[str, Any]] = {}
    model_of: dict[str, str | None] = {}
    q = select(
        leads.c.lead_id, leads.c.attrs, leads.c.account_id, leads.c.created_at,
        leads.c.segment, leads.c.score_model_hash,
    )  # fmt: skip
    for r in _some(conn, q, leads.c.lead_id, ids):
        profile = dict(r.attrs or {})
        for key, value in accts.get(r.account_id, {}).items():
            if value is not None and key != "account_id":
                profile.setdefault(f"account.{key}", value)
        profile["lead_id"] = r.lead_id
        profile.setdefault("created_at", r.created_at)
        if r.segment:
            profile["segment"] = r.segment
        profiles[r.lead_id] = profile
        model_of[r.lead_id] = r.score_model_hash
    return profiles, model_of


def _cycles(conn: Any, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    from leadgate.store.schema import dispositions, mql_cycles, transitions

    steps: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
    q = select(transitions.c.lead_id, transitions.c.cycle, transitions.c.to_stage, transitions.c.at)
    for r in conn.execute(q.order_by(transitions.c.id)):
        steps[(r.lead_id, r.cycle)].setdefault(r.to_stage, r.at)  # the first time it got there
    rejects: dict[tuple[str, int], tuple[str | None, Any]] = {}
    amounts: dict[tuple[str, int], float] = {}
    dq = select(dispositions.c.lead_id, dispositions.c.cycle, dispositions.c.action,
                dispositions.c.reason, dispositions.c.at, dispositions.c.amount)  # fmt: skip
    for r in conn.execute(dq.order_by(dispositions.c.id)):
        key = (r.lead_id, r.cycle)
        if r.action == "reject" and key not in rejects:
            rejects[key] = (r.reason, r.at)
        if r.amount is not None and r.action in ("opportunity", "won", "lost"):
            amounts[key] = float(r.amount)
    out: list[dict[str, Any]] = []
    for c in conn.execute(select(mql_cycles)):
        key = (c.lead_id, c.cycle)
        s = steps.get(key, {})
        reject = rejects.get(key)
        sal_status = "accepted" if "sal" in s else ("rejected" if reject else None)
        outcome = "won" if "won" in s else "lost" if "lost" in s else None
        if outcome is None and "sal" in s:
            outcome = "open"
        out.append(
            {
                "lead_id": c.lead_id,
                "cycle": c.cycle,
                "mql_time": c.mql_at,
                "model_hash": c.model_hash,
                "model_version": labels.get(c.model_hash, c.model_hash[:12])
                if c.model_hash
                else IMPORTED,
                "segment": c.segment,
                "sla_hours": c.sla_hours,
                "first_touch_time": c.first_touch_at,
                "sal_status": sal_status,
                "sal_time": s.get("sal") or (reject[1] if reject else None),
                "reject_reason": reject[0] if reject else None,
                "sql_time": s.get("sql"),
                "opportunity_time": s.get("opportunity"),
                "outcome": outcome,
                "amount": amounts.get(key, c.amount),
                "closed_time": s.get("won") or s.get("lost"),
                "qualified_by": c.qualified_by,
            }
        )
    return out


def _events(conn: Any, ids: Sequence[str] | None = None) -> dict[str, list[Event]]:
    """Each lead's events (of every lead, or of ``ids``) in time order, properties read-only.

    Events share what repeats: one lead id string per lead, one type name per type, one
    properties mapping per distinct stored JSON text (decoded once). A server keeps this history
    between requests; on synthetic data (a few dozen distinct properties) sharing them makes it
    much smaller than one dict per event.
    """
    from leadgate.store.schema import events

    props_of: dict[str | None, Mapping[str, Any]] = {}
    types: dict[str, str] = {}
    by_lead: dict[str, list[Event]] = {}
    q = select(events.c.event_id, events.c.lead_id, events.c.type, events.c.timestamp,
               cast(events.c.properties, Text).label("properties"))  # fmt: skip
    for r in _some(conn, q.order_by(events.c.lead_id, events.c.timestamp), events.c.lead_id, ids):
        evs = by_lead.get(r.lead_id)
        if evs is None:
            evs = by_lead[r.lead_id] = []
        props = props_of.get(r.properties)
        if props is None:
            props = MappingProxyType(json.loads(r.properties or "{}") or {})
            props_of[r.properties] = props
        lead_id = evs[0].lead_id if evs else r.lead_id
        kind = types.setdefault(r.type, r.type)
        evs.append(Event(lead_id, kind, r.timestamp, r.event_id, props))
    return by_lead


def _account_events(conn: Any, accounts: Sequence[str] | None = None) -> dict[str, list[Event]]:
    """Account-level events (an account, no lead) by account id (of every account, or of
    ``accounts``), in time order: what ``scope: account`` measures read beside the leads'."""
    from leadgate.store.schema import account_events as table

    q = select(table.c.event_id, table.c.account_id, table.c.type, table.c.timestamp,
               cast(table.c.properties, Text).label("properties"))  # fmt: skip
    out: dict[str, list[Event]] = {}
    rows = _some(
        conn, q.order_by(table.c.account_id, table.c.timestamp), table.c.account_id, accounts
    )
    for r in rows:
        props = MappingProxyType(json.loads(r.properties or "{}") or {})
        # io.account_events keeps an account-level event's account id as its lead_id
        out.setdefault(r.account_id, []).append(
            Event(r.account_id, r.type, r.timestamp, r.event_id, props)
        )
    return out


def _teammates(conn: Any, ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """``ids`` with every other lead of their accounts, and those accounts."""
    from leadgate.store.schema import leads

    q = select(leads.c.account_id).where(leads.c.account_id.is_not(None))
    accounts = sorted({r.account_id for r in _some(conn, q, leads.c.lead_id, ids)})
    more = select(leads.c.lead_id)
    team = {r.lead_id for r in _some(conn, more, leads.c.account_id, accounts)}
    return sorted(team | set(ids)), accounts


def frame_from_store(store: Any) -> pd.DataFrame:
    """The funnel frame of everything in the store (filter it with the reports' windows)."""
    return history_from_store(store, with_events=False).frame


def history_from_store(store: Any, *, with_events: bool = True) -> History:
    """Profiles, events and the funnel frame from the store, for reports and replay."""
    with store.read() as conn:
        labels = _version_labels(conn)
        profiles, model_of = _profiles(conn)
        cycles = [c for c in _cycles(conn, labels) if c["lead_id"] in profiles]
        by_lead = _events(conn) if with_events else {}
        by_account = _account_events(conn) if with_events else {}
    leads = []
    for lead_id, profile in profiles.items():
        attrs = lead_attributes(profile)
        h = model_of.get(lead_id)
        attrs["model_version"] = labels.get(h, UNKNOWN) if h else UNKNOWN
        leads.append(attrs)
    frame = build_frame(leads, cycles, model_version=UNKNOWN)
    return History(profiles, by_lead, frame, by_account)


def history_of_leads(store: Any, lead_ids: Iterable[str], frame: pd.DataFrame) -> History:
    """The profiles and events of ``lead_ids`` only, with ``frame`` (the store's funnel frame).

    For a replay of a few leads (the rejected ones): reading every lead's events to score a few
    thousand of them is most of the cost on a big store. Each lead's profile and events are read
    as ``history_from_store`` reads them, so replaying them gives the same scores.
    """
    ids = sorted({str(i) for i in lead_ids})
    with store.read() as conn:
        # The leads' accounts come whole: scope: account measures read their events too.
        ids, accounts = _teammates(conn, ids)
        profiles, _ = _profiles(conn, ids)
        by_lead = _events(conn, ids)
        by_account = _account_events(conn, accounts)
    return History(profiles, by_lead, frame, by_account)


T = TypeVar("T")
R = TypeVar("R")
MAX_DERIVED = 64  # derived results kept per cache (report views x their form values)


class StoreCache(Generic[T]):
    """The last value built from one store, reused while the store's fingerprint is unchanged.

    A long-running server answers report after report from the same store; rebuilding what they
    read (every lead, cycle, transition and event) for each is most of a report's cost. Before
    each use the cache reads ``key(conn)`` (a fingerprint, ``store/fingerprint.py``), *before*
    building, so a write landing in between only makes the next check miss. One build runs at a
    time (the lock is held while building: concurrent requests wait for it instead of building
    the same value again). Callers get ``hand_out(value)``: what they may change is copied.

    ``derived`` keeps what is computed *from* the value (a report for some parameters, ready to
    show) for as long as the value itself: a page asked again for the same report, with the
    store unchanged, costs the fingerprint and nothing else.
    """

    def __init__(
        self,
        build: Callable[[Any], T],
        key: Callable[[Any], tuple[Any, ...]],
        hand_out: Callable[[T], T],
    ) -> None:
        self._build = build
        self._key_of = key
        self._hand_out = hand_out
        # Re-entrant: a ``derived`` computation may ``get`` the value again.
        self._lock = threading.RLock()
        self._key: tuple[Any, ...] | None = None
        self._value: T | None = None
        self._derived: OrderedDict[Hashable, Any] = OrderedDict()
        self.builds = 0  # how many times the value was read from the store (for tests)
        self.derivations = 0  # how many times ``derived`` ran its ``make`` (for tests)

    def _current(self, store: Any) -> T:
        """The value, rebuilt if the store's fingerprint moved (call with the lock held)."""
        with store.read() as conn:
            key = self._key_of(conn)
        if self._value is None or key != self._key:
            self._value, self._key = self._build(store), key
            self._derived.clear()
            self.builds += 1
        return self._value

    def fingerprint(self, store: Any) -> tuple[Any, ...]:
        """The store's fingerprint now, as this cache reads it (no build, no lock)."""
        with store.read() as conn:
            return self._key_of(conn)

    def get(self, store: Any) -> T:
        """The store's value: the cached one if the fingerprint has not moved since."""
        with self._lock:
            return self._hand_out(self._current(store))

    def derived(self, store: Any, name: Hashable, make: Callable[[T], R]) -> R:
        """``make(value)``, computed once per ``name`` while the store's fingerprint holds.

        ``name`` must say everything ``make`` depends on besides the value (the report and its
        parameters). The result is shared between callers: they must not change it. A ``make``
        that raises is not remembered. The newest ``MAX_DERIVED`` results are kept.
        """
        with self._lock:
            value = self._current(store)
            if name in self._derived:
                self._derived.move_to_end(name)
                found: R = self._derived[name]
                return found
            result = make(self._hand_out(value))
            self.derivations += 1
            self._derived[name] = result
            while len(self._derived) > MAX_DERIVED:
                self._derived.popitem(last=False)
            return result


def _report_key(conn: Any) -> tuple[Any, ...]:
    from leadgate.store.fingerprint import history_fingerprint

    return history_fingerprint(conn)


def _replay_key(conn: Any) -> tuple[Any, ...]:
    from leadgate.store.fingerprint import history_fingerprint

    return history_fingerprint(conn, with_events=True)


def _plans_key(conn: Any) -> tuple[Any, ...]:
    from leadgate.store.fingerprint import models_fingerprint

    return models_fingerprint(conn)


def _frozen_history(store: Any) -> History:
    """``history_from_store`` with read-only containers: profiles, event tuples, the mappings."""
    h = history_from_store(store)
    return History(
        MappingProxyType({k: MappingProxyType(p) for k, p in h.profiles.items()}),
        MappingProxyType({k: tuple(evs) for k, evs in h.events.items()}),
        h.frame,
        MappingProxyType({k: tuple(evs) for k, evs in h.account_events.items()}),
    )


def _share_history(h: History) -> History:
    # Profiles and events are read-only and shared; the frame is copied (reports add columns).
    return History(h.profiles, h.events, h.frame.copy(), h.account_events)


def _read_only_plans(plans: Mapping[str, Plan]) -> Mapping[str, Plan]:
    return MappingProxyType(plans)  # plans are frozen dataclasses; the mapping is read-only


def frame_cache() -> StoreCache[pd.DataFrame]:
    """A cache of ``frame_from_store`` (funnel, quality, speed, targets)."""
    return StoreCache(frame_from_store, _report_key, pd.DataFrame.copy)


def history_cache() -> StoreCache[History]:
    """A cache of ``history_from_store`` (rejections, compare): keyed on events too."""
    return StoreCache(_frozen_history, _replay_key, _share_history)


def plans_cache() -> StoreCache[Mapping[str, Plan]]:
    """A cache of ``store_plans``, keyed on the published model versions only."""
    return StoreCache(store_plans, _plans_key, _read_only_plans)


class ReportCache:
    """What the server's report routes reuse between requests, for one store."""

    def __init__(self) -> None:
        self.frames = frame_cache()
        self.histories = history_cache()
        self.plans = plans_cache()


def store_plans(store: Any) -> dict[str, Plan]:
    """Every published model version's compiled plan, by content hash."""
    from leadgate.store.schema import model_versions as mv

    with store.read() as conn:
        rows = conn.execute(select(mv.c.hash, mv.c.yaml)).all()
    return {r.hash: compile_model(parse_model(r.yaml, f"<model {r.hash[:12]}>")) for r in rows}


def store_model(store: Any, ref: str) -> Any:
    """A published model by version label or hash prefix, as a ``Model``."""
    return store_model_text(store, ref)[0]


def store_version_labels(store: Any, name: str) -> set[str]:
    """The version labels published in the store for models named ``name``."""
    from leadgate.store.schema import model_versions as mv

    with store.read() as conn:
        return set(conn.execute(select(mv.c.version).where(mv.c.name == name)).scalars())


def store_model_text(store: Any, ref: str) -> tuple[Any, str]:
    """A published model by version label or hash prefix: the ``Model`` and its YAML text."""
    from leadgate.errors import NotFoundError
    from leadgate.store.schema import model_versions as mv

    with store.read() as conn:
        rows = conn.execute(
            select(mv.c.name, mv.c.version, mv.c.hash, mv.c.yaml).order_by(mv.c.id.desc())
        ).all()
    for r in rows:
        if ref in (r.version, f"{r.name}@{r.version}") or (
            len(ref) >= 6 and r.hash.startswith(ref)
        ):
            return parse_model(r.yaml, f"<model {r.name} v{r.version}>"), r.yaml
    have = ", ".join(f"{r.name}@{r.version}" for r in rows) or "none published"
    raise NotFoundError(f"no published model version '{ref}' (versions: {have})")
