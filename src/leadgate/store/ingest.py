"""Writing leads, accounts, events and historical outcomes into the store, idempotently.

Files are read and validated by ``leadgate.io`` (a bad row raises ``IngestError`` with file,
line and field); these functions write inside the caller's transaction, so a failure anywhere
leaves the store unchanged (invariant 5). Event files are streamed: ``service.load`` calls
``insert_events`` once per chunk inside one transaction, and a bad row in a later chunk rolls
the earlier chunks back.

- Events: an ``event_id`` seen before is ignored (ids are derived from content when the source
  gives none), so a replayed file adds nothing. Events for an unknown lead create a bare lead.
- Leads: emails are normalised (strip + lower) so one person is one lead; a second lead with the
  same email is stored but flagged ``duplicate_of`` the first, and never scored itself (its
  events count for the first).
- Outcomes (historical funnel rows) are imported by ``store/outcomes.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from leadgate.engine import Event, as_utc
from leadgate.io.readers import event_id_of
from leadgate.lifecycle.stages import Stage
from leadgate.store.history import LeadRow, fetch_leads
from leadgate.store.lead_states import drop_states
from leadgate.store.schema import accounts, events, leads

CHUNK = 2000


def _sqlite_time(moment: datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime writes (and ``UTCDateTime`` reads back as UTC).
    return as_utc(moment).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), ensure_ascii=False, separators=(",", ":"), default=str)


# Per dialect: an INSERT that skips rows whose key exists (kept as data, not branches).
INSERT_IGNORE: dict[str, Callable[[Any], Any]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}

# Bulk event insert per dialect: a replayed event id is skipped by the database itself. Events
# are the largest table, so this bypasses SQLAlchemy's per-value processing (the schema's column
# order and types are written out here instead; tests/store/test_ingest.py reads them back).
_COLS = "(event_id, lead_id, type, timestamp, properties, ingested_at)"
_EVENT_INSERT: dict[str, tuple[str, Callable[[datetime], Any]]] = {
    "sqlite": (f"INSERT OR IGNORE INTO events {_COLS} VALUES (?, ?, ?, ?, ?, ?)", _sqlite_time),
    "postgresql": (
        f"INSERT INTO events {_COLS} VALUES (%s, %s, %s, %s, %s::json, %s) "
        "ON CONFLICT (event_id) DO NOTHING",
        as_utc,
    ),
}


# Per dialect: do writers wait on each other's row locks? On PostgreSQL every writer locks the
# leads it changes in lead_id order, so a load that writes in chunks takes its leads' locks up
# front, in that order (``lock_lead_times``), or it could deadlock with a concurrent writer.
# SQLite has one writer at a time.
ROW_LOCKS: dict[str, bool] = {"sqlite": False, "postgresql": True}

# Per dialect and purpose: the table lock a transaction takes before it reads the published model,
# so a full re-score (publish, tick) and the writes that change what it scores never interleave.
# "write" (events, profiles, accounts, loads): ROW EXCLUSIVE lets such writers run side by side
# (their leads' row locks order them) but waits for a full re-score and holds the next one off.
# "rescore": EXCLUSIVE waits for every writer in flight and holds new ones off until it commits,
# while plain reads (the API's GETs, reports) go on. Without it a publish on PostgreSQL read a
# lead, an event committed, and the publish wrote its older score over the event's (issue 11);
# or a live write scored with the model a publish had just replaced. SQLite has one writer at a
# time (``BEGIN IMMEDIATE``), which serialises the same way already.
LEAD_TABLE_LOCKS: dict[str, dict[str, str]] = {
    "sqlite": {},
    "postgresql": {
        "write": "LOCK TABLE leads IN ROW EXCLUSIVE MODE",
        "rescore": "LOCK TABLE leads IN EXCLUSIVE MODE",
    },
}


def lock_leads_table(conn: Connection, purpose: Literal["write", "rescore"]) -> None:
    """Take the ``purpose`` lock of ``LEAD_TABLE_LOCKS``: first thing in a transaction that
    re-scores (``rescore``: the whole store) or changes what scores read (``write``)."""
    statement = LEAD_TABLE_LOCKS[conn.dialect.name].get(purpose)
    if statement:
        conn.exec_driver_sql(statement)


# Per dialect: statements that refresh the planner's statistics of the tables a load grows.
# PostgreSQL plans each chunk's lookups from statistics taken before the load: into a store that
# held few events it scanned the whole events table for every lookup (500k events into an empty
# store: the second chunk of 50k took 96 s instead of 3.6 s). ANALYZE inside the transaction
# counts the rows the transaction inserted; it blocks no writer.
REFRESH_STATS: dict[str, tuple[str, ...]] = {
    "sqlite": (),
    "postgresql": ("ANALYZE events", "ANALYZE leads"),
}


def refresh_stats(conn: Connection) -> None:
    """Let the planner see how large the tables have grown in this transaction (see above)."""
    for statement in REFRESH_STATS[conn.dialect.name]:
        conn.exec_driver_sql(statement)


def normalise_email(value: Any) -> str | None:
    """An email as the store keys people by: surrounding whitespace removed, lower case."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    return text or None


def new_lead_row(lead_id: str, at: datetime) -> dict[str, Any]:
    """The column values of a lead that has just appeared (stage ``lead``, never scored)."""
    return {
        "lead_id": lead_id, "attrs": {}, "email": None, "account_id": None, "owner": None,
        "duplicate_of": None, "created_at": at, "updated_at": at, "last_event_at": None,
        "stage": Stage.LEAD.value, "stage_since": at, "cycle": 0, "score": None,
        "score_total": None, "qualifies": None, "segment": None, "score_model_hash": None,
        "scored_at": None,
    }  # fmt: skip


@dataclass
class LeadUpsert:
    """What ``upsert_leads`` did."""

    inserted: int = 0
    updated: int = 0
    duplicates: list[str] = field(default_factory=list)  # lead ids flagged duplicate
    lead_ids: list[str] = field(default_factory=list)  # every lead written, in input order


def text_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


_PROFILE = ("attrs", "email", "account_id", "owner", "duplicate_of", "updated_at")


def upsert_leads(
    conn: Connection, profiles: Sequence[Mapping[str, Any]], at: datetime
) -> LeadUpsert:
    """Insert or replace lead profiles (each with ``lead_id``); flag duplicates by email.

    A profile replaces the stored attributes (PUT semantics). The first lead with an email owns
    it; a later lead (another id) with the same normalised email gets ``duplicate_of``.
    """
    out = LeadUpsert()
    ids = [str(p["lead_id"]) for p in profiles]
    existing = fetch_leads(conn, ids, lock=True)
    emails = {normalise_email(p.get("email")) for p in profiles} - {None}
    owners: dict[str, str] = {}  # email -> primary lead id
    email_list = sorted(e for e in emails if e)
    for start in range(0, len(email_list), CHUNK):
        q = (
            select(leads.c.email, leads.c.lead_id)
            .where(
                leads.c.email.in_(email_list[start : start + CHUNK]), leads.c.duplicate_of.is_(None)
            )
            .order_by(leads.c.created_at, leads.c.lead_id)
        )
        for row in conn.execute(q):
            owners.setdefault(row.email, row.lead_id)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    moved: set[str] = set()  # leads whose events now count for another lead
    for profile in profiles:
        lead_id = str(profile["lead_id"])
        attrs = {k: v for k, v in profile.items() if k != "lead_id" and v is not None}
        email = normalise_email(attrs.get("email"))
        if email is not None:
            attrs["email"] = email
        primary = owners.setdefault(email, lead_id) if email else lead_id
        duplicate_of = primary if primary != lead_id else None
        if duplicate_of:
            out.duplicates.append(lead_id)
        values = {
            "attrs": attrs,
            "email": email,
            "account_id": text_id(attrs.get("account_id")),
            "owner": text_id(attrs.get("owner")),
            "duplicate_of": duplicate_of,
            "updated_at": at,
        }
        if lead_id in existing:
            before = existing[lead_id].duplicate_of
            if before != duplicate_of:
                moved.update(i for i in (lead_id, before, duplicate_of) if i is not None)
            out.updated += 1
            updates.append({"b_lead_id": lead_id, **{f"v_{k}": v for k, v in values.items()}})
        else:
            out.inserted += 1
            fresh_row = {**new_lead_row(lead_id, at), **values}
            existing[lead_id] = LeadRow(**fresh_row)  # a repeat of this id in the batch updates
            inserts.append(fresh_row)
        out.lead_ids.append(lead_id)
    if inserts:
        # A concurrent writer (PostgreSQL) may have created one of these leads since we looked
        # (an event creating a bare lead): skip the clash and update that row instead.
        stmt = INSERT_IGNORE[conn.dialect.name](leads).on_conflict_do_nothing()
        done = set(conn.execute(stmt.returning(leads.c.lead_id), inserts).scalars())
        clashed = [r for r in inserts if r["lead_id"] not in done]
        # A bare lead created meanwhile may have events: as a duplicate they move to its primary.
        moved.update(
            i for r in clashed if r["duplicate_of"] for i in (r["lead_id"], r["duplicate_of"])
        )
        fetch_leads(conn, (r["lead_id"] for r in clashed), lock=True)
        updates += [
            {"b_lead_id": r["lead_id"], **{f"v_{c}": r[c] for c in _PROFILE}} for r in clashed
        ]
    if updates:
        cols = _PROFILE
        stmt = (
            update(leads)
            .where(leads.c.lead_id == bindparam("b_lead_id"))
            .values({c: bindparam(f"v_{c}") for c in cols})
        )
        conn.execute(stmt, updates)
    if moved:  # their incremental states counted other events than they now do
        drop_states(conn, moved)
    return out


def upsert_accounts(
    conn: Connection, rows: Mapping[str, Mapping[str, Any]], at: datetime
) -> tuple[int, int]:
    """Insert or replace accounts by id; return (inserted, updated)."""
    ids = list(rows)
    have: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        q = select(accounts.c.account_id).where(
            accounts.c.account_id.in_(ids[start : start + CHUNK])
        )
        have.update(conn.execute(q).scalars())
    inserts, updates = [], []
    for account_id, row in rows.items():
        attrs = {k: v for k, v in row.items() if k != "account_id" and v is not None}
        if account_id in have:
            updates.append({"b_id": account_id, "v_attrs": attrs, "v_at": at})
        else:
            inserts.append(
                {"account_id": account_id, "attrs": attrs, "created_at": at, "updated_at": at}
            )
    if inserts:
        conn.execute(accounts.insert(), inserts)
    if updates:
        stmt = (
            update(accounts)
            .where(accounts.c.account_id == bindparam("b_id"))
            .values(attrs=bindparam("v_attrs"), updated_at=bindparam("v_at"))
        )
        conn.execute(stmt, updates)
    return len(inserts), len(updates)


def leads_of_accounts(conn: Connection, account_ids: Iterable[str]) -> list[str]:
    """Ids of the leads that belong to these accounts."""
    ids = sorted(set(account_ids))
    out: list[str] = []
    for start in range(0, len(ids), CHUNK):
        q = select(leads.c.lead_id).where(leads.c.account_id.in_(ids[start : start + CHUNK]))
        out.extend(conn.execute(q).scalars())
    return out


def lock_lead_times(conn: Connection, lead_ids: Iterable[str]) -> dict[str, datetime | None]:
    """Lock the stored leads among ``lead_ids`` in ``lead_id`` order; their ``last_event_at``.

    Two columns only, so that a load can claim every lead of a large file before it writes.
    """
    ids = sorted(set(lead_ids))
    out: dict[str, datetime | None] = {}
    for start in range(0, len(ids), CHUNK):
        q = (
            select(leads.c.lead_id, leads.c.last_event_at)
            .where(leads.c.lead_id.in_(ids[start : start + CHUNK]))
            .order_by(leads.c.lead_id)
            .with_for_update()
        )
        out.update((lead_id, at) for lead_id, at in conn.execute(q))
    return out


def _older(stored: datetime | None, newest: datetime) -> bool:
    return stored is None or stored < newest


def insert_events(
    conn: Connection,
    items: Sequence[Event],
    at: datetime,
    *,
    held: dict[str, datetime | None] | None = None,
) -> list[Event]:
    """Store events not seen before (by ``event_id``); return the ones actually inserted.

    Events without an id get one derived from their content (``io.readers.event_id_of``).
    Events for leads the store does not know yet create bare leads (stage ``lead``), so activity
    that arrives before the profile is kept and scored once the profile comes.

    Args:
        held: for a caller that inserts in several calls inside one transaction (a streamed
            load): the leads already created and locked in it, with their ``last_event_at``.
            Those are not fetched or locked again; the leads of this call's new events are
            added, and every value kept up to date.
    """
    fresh: dict[str, Event] = {}
    for ev in items:
        if not ev.event_id:  # derived from content, as the file readers do: replays add nothing
            ev = replace(
                ev, event_id=event_id_of(ev.lead_id, ev.type, ev.timestamp, dict(ev.properties))
            )
        fresh.setdefault(ev.event_id, ev)
    ids = list(fresh)
    for start in range(0, len(ids), CHUNK):
        q = select(events.c.event_id).where(events.c.event_id.in_(ids[start : start + CHUNK]))
        for seen in conn.execute(q).scalars():
            fresh.pop(seen, None)
    if not fresh:
        return []
    newest: dict[str, datetime] = {}
    for ev in fresh.values():
        if ev.lead_id not in newest or ev.timestamp > newest[ev.lead_id]:
            newest[ev.lead_id] = ev.timestamp
    held = {} if held is None else held
    pending = [i for i in newest if i not in held]
    present = fetch_leads(conn, pending)
    stubs = [new_lead_row(i, at) for i in pending if i not in present]
    if stubs:
        # Another writer may create the same lead meanwhile (PostgreSQL): theirs is as good.
        conn.execute(INSERT_IGNORE[conn.dialect.name](leads).on_conflict_do_nothing(), stubs)
    # Lock every lead these events belong to (in id order), so concurrent writers re-score and
    # move each lead one after the other and never open the same MQL cycle twice.
    known = fetch_leads(conn, pending, lock=True)
    held.update((i, known[i].last_event_at) for i in pending)
    later = {i: ts for i, ts in newest.items() if _older(held[i], ts)}
    if later:
        stmt = (
            update(leads)
            .where(leads.c.lead_id == bindparam("b_lead_id"))
            .values(last_event_at=bindparam("v_last"))
        )
        conn.execute(stmt, [{"b_lead_id": i, "v_last": ts} for i, ts in later.items()])
        held.update(later)
    sql, stamp = _EVENT_INSERT[conn.dialect.name]
    ingested = stamp(at)
    rows = [
        (ev.event_id, ev.lead_id, ev.type, stamp(ev.timestamp), _json(ev.properties), ingested)
        for ev in fresh.values()
    ]
    for start in range(0, len(rows), 10 * CHUNK):
        conn.exec_driver_sql(sql, rows[start : start + 10 * CHUNK])
    return list(fresh.values())
