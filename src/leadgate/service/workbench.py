"""What the web app's sales and lead pages read: the queue board, lead search, a lead's events.

``queue_board`` is ``mql_queue`` with what an SDR needs beside each MQL: channel, name, company,
title, a hot/warm/cold temperature and the score's change over the last 7 days, filtered and
sorted. ``search_leads`` finds leads by id, email, name or company; ``lead_events`` is a lead's
event timeline. Pure reads: nothing here writes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from weakref import ref

from sqlalchemy import Connection, String, and_, case, cast, func, or_, select, true

from leadgate.engine import as_utc
from leadgate.errors import LeadgateError
from leadgate.service.sales import open_mqls, queue_item, queue_page, sla_state_clause
from leadgate.service.shapes import QueueItem
from leadgate.store.db import Store
from leadgate.store.schema import events, leads, mql_cycles, score_history, transitions

CHANGE_DAYS = 7
# Temperature of a score against its segment's MQL line: hot at 125% of the line or more, warm
# from the line up, cold below it (an MQL that no longer qualifies, or a lead short of the line).
HOT_RATIO = 1.25
SORTS = ("sla", "score", "age")
CHANNEL_KEYS = ("source", "channel", "lead_source")  # the report frame's channel, same order
CHUNK = 2000


def temperature(total: float | None, threshold: float | None) -> str:
    """``hot``, ``warm`` or ``cold`` for a total against its MQL threshold."""
    if total is None or threshold is None:
        return "cold"
    hot_line = threshold * HOT_RATIO if threshold > 0 else threshold + 10
    if total >= hot_line:
        return "hot"
    return "warm" if total >= threshold else "cold"


def channel_of(attrs: dict[str, Any]) -> str | None:
    """A lead's channel: its ``source`` (or ``channel``, ``lead_source``) attribute."""
    for key in CHANNEL_KEYS:
        value = attrs.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def display_name(attrs: dict[str, Any]) -> str:
    """``first last`` from the profile, or its ``name``, or empty."""
    parts = [str(attrs[k]) for k in ("first_name", "last_name") if attrs.get(k)]
    return " ".join(parts) or str(attrs.get("name") or "")


@dataclass
class BoardItem:
    """One MQL on the board: the queue item and what is shown beside it."""

    item: QueueItem
    name: str
    company: str | None
    title: str | None
    channel: str | None
    threshold: float | None
    temperature: str
    change_7d: float | None  # total now minus the total 7 days ago (None: no score then)
    sla_seconds_left: float  # negative once overdue


@dataclass
class QueueBoard:
    """The filtered, sorted queue and the values the filters offer."""

    items: list[BoardItem]
    total: int  # MQLs after the filters (``items`` may be one page of them)
    breached: int
    segments: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)


def _channel_column() -> Any:
    """The channel in SQL: the first non-empty of the profile's channel attributes."""
    return func.coalesce(*(func.nullif(leads.c.attrs[key].as_string(), "") for key in CHANNEL_KEYS))


def _open_mqls(segment: str | None, channel: str | None, owner: str | None) -> Any:
    """The queue's leads (``sales.open_mqls``), also filtered by channel."""
    q = open_mqls(segment, owner)
    if channel is not None:
        q = q.where(_channel_column() == channel)
    return q


def _order(sort: str, descending: bool) -> list[Any]:
    """ORDER BY for a sort: its key (score: highest first), then the lead id; ``descending``
    reverses both, as reversing the sorted list would."""
    c = mql_cycles.c
    key: Any
    if sort == "score":
        key, up = func.coalesce(leads.c.score_total, 0.0), descending
    else:
        key, up = (c.sla_due_at if sort == "sla" else c.mql_at), not descending
    return [
        key.asc() if up else key.desc(),
        leads.c.lead_id.desc() if descending else leads.c.lead_id,
    ]


def totals_before(store: Store, ids: Sequence[str], when: datetime) -> dict[str, float]:
    """Each lead's last recorded total at or before ``when`` (leads with none are left out)."""
    h = score_history.c
    out: dict[str, float] = {}
    with store.read() as conn:
        for start in range(0, len(ids), CHUNK):
            last = (
                select(h.lead_id, func.max(h.id).label("id"))
                .where(h.lead_id.in_(ids[start : start + CHUNK]), h.at <= when)
                .group_by(h.lead_id)
                .subquery()
            )
            q = select(h.lead_id, h.total).join(
                last, and_(last.c.lead_id == h.lead_id, last.c.id == h.id)
            )
            out.update((r.lead_id, float(r.total)) for r in conn.execute(q))
    return out


def queue_board(
    store: Store,
    *,
    as_of: datetime,
    segment: str | None = None,
    channel: str | None = None,
    owner: str | None = None,
    sort: str = "sla",
    descending: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> QueueBoard:
    """The MQL queue for the sales page, filtered by segment, channel and owner.

    The same leads as ``mql_queue`` (stage ``mql``, their current cycle), but filtered, counted,
    sorted and paged in SQL, so a page of a queue of 10,000 MQLs reads only its own rows.
    ``sort``: ``sla`` (due first), ``score`` (highest first) or ``age`` (oldest first);
    ``descending`` reverses it. ``offset``/``limit`` pick a page of the sorted list.

    Raises:
        LeadgateError: unknown ``sort``.
    """
    if sort not in SORTS:
        raise LeadgateError(f"sort: unknown order '{sort}' (use {', '.join(SORTS)})")
    as_of = as_utc(as_of)
    chosen = _open_mqls(segment, channel, owner)
    late = func.sum(case((sla_state_clause("breached", as_of), 1), else_=0))
    # Counts and the segment and owner choices: one grouped pass over the queue's indexes.
    groups_q = (
        _open_mqls(None, None, None)
        .add_columns(leads.c.segment, leads.c.owner, func.count(), late)
        .group_by(leads.c.segment, leads.c.owner)
    )
    with store.read() as conn:
        groups = conn.execute(groups_q).all()
        if channel is not None:  # the channel is in each profile: count the chosen ones there
            total, breached = conn.execute(chosen.add_columns(func.count(), late)).one()
            total, breached = int(total), int(breached or 0)
        channels = _channel_choices(store, conn)
        rows = queue_page(
            conn, chosen, _order(sort, descending), offset, limit, extra=(leads.c.attrs,)
        )
    segments = {seg for seg, _, _, _ in groups}
    owners = {own for _, own, _, _ in groups}
    if channel is None:
        kept = [
            (n, n_late) for seg, own, n, n_late in groups
            if (segment is None or seg == segment) and (owner is None or own == owner)
        ]  # fmt: skip
        total = sum(int(n) for n, _ in kept)
        breached = sum(int(n_late or 0) for _, n_late in kept)
    before = totals_before(store, [r.lead_id for r in rows], as_of - timedelta(days=CHANGE_DAYS))
    items = []
    for r in rows:
        attrs = r.attrs or {}
        threshold = (r.score or {}).get("threshold")
        old = before.get(r.lead_id)
        item = queue_item(r, as_of)
        items.append(
            BoardItem(
                item=item,
                name=display_name(attrs),
                company=None if attrs.get("company") is None else str(attrs["company"]),
                title=None if attrs.get("title") is None else str(attrs["title"]),
                channel=channel_of(attrs),
                threshold=threshold,
                temperature=temperature(r.score_total, threshold),
                change_7d=None if old is None or r.score_total is None else r.score_total - old,
                sla_seconds_left=(r.sla_due_at - as_of).total_seconds(),
            )
        )
    return QueueBoard(
        items, total, breached, sorted(v for v in segments if v), channels,
        sorted(v for v in owners if v),
    )  # fmt: skip


# The channel choices of each store's queue, by id(store): (the store, when read, transitions'
# last id, channels); the weak reference tells a store from a later one given the same id.
_CHANNELS: dict[int, tuple[ref[Store], float, Any, list[str]]] = {}
CHANNELS_SECONDS = 30.0


def _channel_choices(store: Store, conn: Connection) -> list[str]:
    """The channels of the open MQLs, for the filter's list.

    A channel is read from each lead's profile (JSON): for a long queue, most of the board's
    cost. So the list is kept until a lead enters or leaves a stage (a new transition), or for
    ``CHANNELS_SECONDS`` (a profile update that changes an open MQL's channel)."""
    key = conn.execute(select(func.max(transitions.c.id))).scalar()
    now = time.monotonic()
    kept = _CHANNELS.get(id(store))
    if (
        kept is not None
        and kept[0]() is store
        and kept[2] == key
        and now - kept[1] < CHANNELS_SECONDS
    ):
        return kept[3]
    q = _open_mqls(None, None, None).add_columns(_channel_column()).distinct()
    values = sorted({str(v) for (v,) in conn.execute(q) if v not in (None, "")})
    _CHANNELS[id(store)] = (ref(store), now, key, values)
    return values


@dataclass
class LeadHit:
    """A lead found by ``search_leads``."""

    lead_id: str
    email: str | None
    name: str
    company: str | None
    stage: str
    total: float | None
    segment: str | None


SEARCH_CANDIDATES = 2000  # more index hits than this: a common text, the ordered scan is faster


def _indexed_ids(store: Store, needle: str) -> list[str] | None:
    """Lead ids whose search text may contain ``needle``, from the SQLite trigram index
    (``lead_search``, migration 0002_web); ``None`` when the index cannot answer: not
    SQLite, under three characters, LIKE wildcards or non-ASCII text (folded differently), or
    more than ``SEARCH_CANDIDATES`` hits."""
    if (
        store.dialect != "sqlite"
        or len(needle) < 3
        or not needle.isascii()
        or any(ch in needle for ch in "%_\\")
    ):
        return None
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT DISTINCT lead_id FROM lead_search WHERE body LIKE ? LIMIT ?",
            (f"%{needle}%", SEARCH_CANDIDATES + 1),
        ).all()
    ids = [str(r[0]) for r in rows]
    return None if len(ids) > SEARCH_CANDIDATES else ids


def _scan_filter(needle: str) -> Any:
    """A cheap SQL pre-filter for the scan, or ``true()`` where it could miss a lead: a name is
    first and last name joined by a space (two JSON fields), and JSON text may escape non-ASCII
    characters, so such needles are checked in Python on every lead."""
    if not needle.isascii() or " " in needle:
        return true()
    like = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(
        func.lower(leads.c.lead_id).like(like, escape="\\"),
        func.lower(leads.c.email).like(like, escape="\\"),
        func.lower(cast(leads.c.attrs, String)).like(like, escape="\\"),  # checked in Python
    )


def search_leads(store: Store, text: str, *, limit: int = 50) -> list[LeadHit]:
    """Leads whose id, email, name or company contains ``text`` (any case); exact id first.

    On SQLite the trigram index proposes the candidates (each checked against the lead);
    otherwise, or when the index cannot answer, the leads are scanned in id order."""
    needle = text.strip().lower()
    if not needle:
        return []
    columns = (leads.c.lead_id, leads.c.email, leads.c.attrs, leads.c.stage, leads.c.score_total,
               leads.c.segment)  # fmt: skip
    candidates = _indexed_ids(store, needle)
    if candidates is not None:
        candidates.sort()
        queries = [
            select(*columns)
            .where(leads.c.lead_id.in_(candidates[start : start + CHUNK]))
            .order_by(leads.c.lead_id)
            for start in range(0, len(candidates), CHUNK)
        ]
    else:
        queries = [select(*columns).where(_scan_filter(needle)).order_by(leads.c.lead_id)]
    hits: list[LeadHit] = []
    with store.read() as conn:
        for q in queries:
            for r in conn.execute(q):
                attrs = r.attrs or {}
                name = display_name(attrs)
                company = None if attrs.get("company") is None else str(attrs["company"])
                fields = (r.lead_id, r.email or "", name, company or "")
                if not any(needle in f.lower() for f in fields):
                    continue
                hits.append(
                    LeadHit(r.lead_id, r.email, name, company, r.stage, r.score_total, r.segment)
                )
                if candidates is None and len(hits) >= limit * 4:
                    break  # the scan reads in id order: these are the first matches
    hits.sort(key=lambda h: h.lead_id)
    del hits[limit * 4 :]  # the first matches in id order, as the scan reads them
    hits.sort(key=lambda h: (h.lead_id.lower() != needle, h.lead_id))
    return hits[:limit]


@dataclass
class EventView:
    """One stored event of a lead."""

    event_id: str
    type: str
    timestamp: datetime
    properties: dict[str, Any]


def lead_events(store: Store, lead_id: str, *, limit: int = 500) -> list[EventView]:
    """A lead's events, newest first (at most ``limit``)."""
    q = (
        select(events.c.event_id, events.c.type, events.c.timestamp, events.c.properties)
        .where(events.c.lead_id == lead_id)
        .order_by(events.c.timestamp.desc(), events.c.event_id)
        .limit(limit)
    )
    with store.read() as conn:
        return [
            EventView(r.event_id, r.type, r.timestamp, _props(r.properties))
            for r in conn.execute(q)
        ]


def _props(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        import json

        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    return dict(value or {})
