"""Bulk loads (``leadgate load leads|accounts|events|outcomes|account-outcomes FILE``): all or
nothing.

Leads, accounts and outcomes files are read and every row validated first (``leadgate.io``);
then one transaction writes the rows and re-scores the affected leads with the published model.
Events files can be far larger than memory, so they stream: inside that one transaction the
file is read and written ``chunk_rows`` events at a time, and only the ids of the affected leads
are kept for the re-score at the end. A bad row anywhere (even in the last chunk), or a failure
while writing, rolls the transaction back and leaves the store exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection

from leadgate.engine import as_utc
from leadgate.errors import IngestError
from leadgate.io import Position, read_accounts, read_leads
from leadgate.io.account_events import OwnedEvent, iter_split_events
from leadgate.lifecycle.stages import Cause
from leadgate.service.account_events import insert_account_events, lock_accounts, unknown_accounts
from leadgate.service.accounts_live import accounts_of_leads, follow_accounts, reads_accounts_of
from leadgate.service.models import active_model
from leadgate.service.rescore import ActiveModel, Progress, cycle_terms, rescore
from leadgate.service.sales import REASONS_KEY
from leadgate.service.shapes import LoadReport
from leadgate.service.timeline import forward_as_of
from leadgate.store.db import Store
from leadgate.store.ingest import (
    ROW_LOCKS,
    insert_events,
    leads_of_accounts,
    lock_lead_times,
    lock_leads_table,
    refresh_stats,
    upsert_accounts,
    upsert_leads,
)
from leadgate.store.lead_states import drop_states
from leadgate.store.outcomes import import_outcomes
from leadgate.store.settings import get_setting

KINDS = ("leads", "accounts", "events", "outcomes", "account-outcomes")

# Events written per step of a streamed load: memory holds about this many events (a few KB
# each as Python objects and bound parameters), whatever the size of the file.
CHUNK_ROWS = 50_000

ReadProgress = Callable[[int, float], None]  # rows read so far, fraction of the file read
PROGRESS_ROWS = 5_000  # rows read between two calls of a ReadProgress (at most a chunk)


def _default_terms(model: ActiveModel | None) -> dict[str, float | None]:
    """SLA and recycling terms for imported cycles: the active model's default segment."""
    return cycle_terms(None if model is None else model.plan.segments[-1].policy)


def load_file(
    store: Store,
    kind: str,
    path: str | Path,
    *,
    as_of: datetime,
    actor: str = "import",
    progress: Progress | None = None,
    read_progress: ReadProgress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    force: bool = False,
    pinned: bool = True,
) -> LoadReport:
    """Load a file of ``kind`` (leads, accounts, events, outcomes, account-outcomes) atomically
    and idempotently.

    Leads whose data changed are re-scored at ``as_of`` when a model is published; an
    unpinned ``as_of`` (now) moves up to the store's latest scoring (``timeline.forward_as_of``).

    Args:
        progress: called with the number of leads just re-scored.
        read_progress: events only: called with the rows read so far and the fraction of the
            file read, every ``min(chunk_rows, PROGRESS_ROWS)`` rows and once at the end.
        chunk_rows: events only: events read and written per step (memory is bounded by it).

    Raises:
        IngestError: a bad row (file, line, field); nothing was written.
        HistoryBackwardsError: leads would be re-scored at an ``as_of`` before the store's
            latest scoring (unless ``force``); nothing was written.
    """
    if kind not in KINDS:
        raise IngestError(f"unknown kind '{kind}' (use {', '.join(KINDS)})", file=str(path))
    as_of = as_utc(as_of)
    file = str(path)
    if kind == "leads":
        profiles = read_leads(path)
    elif kind == "accounts":
        accounts = read_accounts(path)
    report = LoadReport(
        kind=kind, file=file, rows=0, inserted=0, updated=0, ignored=0, duplicates=0
    )
    with store.write() as conn:
        lock_leads_table(conn, "write")  # before reading the model a publish may replace
        as_of = forward_as_of(conn, as_of, pinned=pinned, force=force)
        model = active_model(conn, store)
        affected: list[str] = []
        account_ids: list[str] = []  # accounts of account-level events
        cause = Cause.SCORE
        if kind == "leads":
            done = upsert_leads(conn, profiles, as_of)
            report.rows, report.inserted, report.updated = (
                len(profiles),
                done.inserted,
                done.updated,
            )
            report.duplicates = len(done.duplicates)
            dups = set(done.duplicates)
            affected = [i for i in done.lead_ids if i not in dups]
        elif kind == "accounts":
            inserted, updated = upsert_accounts(conn, accounts, as_of)
            report.rows, report.inserted, report.updated = len(accounts), inserted, updated
            affected = leads_of_accounts(conn, accounts)
        elif kind == "events":
            affected = _load_events(
                conn, path, as_of, report, read_progress, chunk_rows, account_ids,
                reads_accounts_of(store, conn),
            )  # fmt: skip
        elif kind == "account-outcomes":  # account stage moves: no lead to re-score
            from leadgate.service.account_outcomes import import_account_outcomes

            done_a = import_account_outcomes(conn, path, actor=actor)
            report.rows, report.inserted = done_a.rows, done_a.imported
            report.ignored, report.skipped = done_a.ignored, done_a.skipped
        else:
            reasons = get_setting(conn, REASONS_KEY)
            done_o = import_outcomes(
                conn, path, actor=actor, terms=_default_terms(model), reasons=reasons or None
            )
            report.rows, report.inserted, report.ignored = (
                done_o.rows,
                done_o.imported,
                done_o.ignored,
            )
            report.adjusted = done_o.adjusted
        if model is not None and affected:
            report.summary = rescore(
                conn, model, affected, as_of, cause=cause, actor=actor, progress=progress
            )
        if kind != "outcomes":  # accounts follow their leads (service/accounts_live.py)
            follow_accounts(store, conn, affected, as_of, actor=actor, account_ids=account_ids)
    return report


def _account_rows(
    conn: Connection,
    owned: list[OwnedEvent],
    as_of: datetime,
    account_ids: list[str],
    file: str,
) -> int:
    """Store a chunk's account-level events; return how many were new. An unknown account is
    refused naming the file's line and ``account_id`` (the load rolls back)."""
    if not owned:
        return 0
    missing = unknown_accounts(conn, {o.event.lead_id for o in owned})
    for o in owned:
        if o.event.lead_id in missing:
            raise IngestError(
                f"no account '{o.event.lead_id}' (load the accounts file before its events)",
                file=file, line=o.line, field="account_id",
            )  # fmt: skip
    fresh = insert_account_events(conn, [o.event for o in owned], as_of)
    account_ids.extend(a for a in dict.fromkeys(e.lead_id for e in fresh) if a not in account_ids)
    return len(fresh)


T = TypeVar("T")


def _chunks(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _reported(
    items: Iterator[T], position: Position, every: int, read_progress: ReadProgress | None
) -> Iterator[T]:
    """``items``, telling ``read_progress`` every ``every`` rows read and once at the end."""
    rows = 0
    for rows, item in enumerate(items, start=1):
        if read_progress is not None and rows % every == 0:
            read_progress(rows, position.fraction())
        yield item
    if read_progress is not None and rows % every:
        read_progress(rows, position.fraction())


def _load_events(
    conn: Connection,
    path: str | Path,
    as_of: datetime,
    report: LoadReport,
    read_progress: ReadProgress | None,
    chunk_rows: int,
    account_ids: list[str],
    lock_accounts_first: bool,
) -> list[str]:
    """Stream an events file into the store in chunks; return the leads to re-score (and add
    to ``account_ids`` the accounts of its new account-level events, ``_account_rows``).

    Chunk by chunk gives the store and the counts that one ``insert_events`` over the whole
    file gives: an id repeated in a later chunk finds the earlier one already written in this
    transaction and is ignored, bare leads appear once, ``last_event_at`` only moves forward.
    The affected leads are kept as ids in first-seen order (the re-score order of a whole-file
    insert), not as events. The leads locked so far are kept with their ``last_event_at``, so a
    lead met again in a later chunk is neither fetched nor locked again.

    Where writers hold row locks (PostgreSQL), a first pass over the file (which also validates
    every row) collects its lead ids and the stored ones are locked before anything is written,
    in ``lead_id`` order as every writer locks them: locked chunk by chunk, a load could deadlock
    with a concurrent writer of two of its leads.
    """
    from leadgate.service.leads import canonical_ids

    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be positive, got {chunk_rows}")
    held: dict[str, datetime | None] = {}  # leads created or locked: their last_event_at
    if ROW_LOCKS[conn.dialect.name]:
        lead_ids: set[str] = set()
        owners: set[str] = set()
        for o in iter_split_events(path):
            (owners if o.account else lead_ids).add(o.event.lead_id)
        if lock_accounts_first:  # accounts are re-scored: their locks before the leads'
            lock_accounts(conn, owners.union(accounts_of_leads(conn, lead_ids)))
        held = lock_lead_times(conn, lead_ids)
    position = Position()
    every = min(chunk_rows, PROGRESS_ROWS)
    items = _reported(iter_split_events(path, position), position, every, read_progress)
    touched: dict[str, None] = {}  # the leads of new events, in first-seen order
    analysed = 0  # events inserted when the planner's statistics were last refreshed
    for owned in _chunks(items, chunk_rows):
        chunk = [o.event for o in owned if not o.account]
        report.rows += len(owned)
        accts = [o for o in owned if o.account]
        report.inserted += _account_rows(conn, accts, as_of, account_ids, str(path))
        fresh = insert_events(conn, chunk, as_of, held=held) if chunk else []
        report.inserted += len(fresh)
        touched.update(dict.fromkeys(e.lead_id for e in fresh))
        if report.inserted > 2 * analysed:  # each time the load has doubled what it wrote
            refresh_stats(conn)
            analysed = report.inserted
    report.ignored = report.rows - report.inserted
    affected = canonical_ids(conn, touched)
    drop_states(conn, affected)  # events added without folding them into the leads' states
    return affected
