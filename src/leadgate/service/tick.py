"""``tick``: what the passage of time changes. Expired MQLs are recycled; scores that decay or
whose windows moved are re-scored. ``leadgate tick`` and the server's periodic task call it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, select

from leadgate.engine import as_utc
from leadgate.lifecycle.recycling import EXPIRED, expired_at
from leadgate.lifecycle.stages import Cause, Stage
from leadgate.service.accounts import rescore_accounts_if_any
from leadgate.service.models import active_model
from leadgate.service.rescore import BATCH_MIN_LEADS, Progress, rescore
from leadgate.service.shapes import RescoreSummary, TickReport
from leadgate.service.timeline import forward_as_of
from leadgate.store.db import Store
from leadgate.store.history import Changes, LeadRow, lead_select
from leadgate.store.ingest import lock_leads_table
from leadgate.store.schema import leads, mql_cycles

SYSTEM_ACTOR = "system"


def apply_expiries(conn: Connection, as_of: datetime, summary: RescoreSummary) -> None:
    """Move every MQL whose recycle time has run out by ``as_of`` to nurture ("expired")."""
    c = mql_cycles.c
    q = lead_select().add_columns(c.mql_at, c.last_action_at, c.recycle_after_days, c.model_hash)
    q = q.select_from(
        leads.join(mql_cycles, and_(c.lead_id == leads.c.lead_id, c.cycle == leads.c.cycle))
    ).where(leads.c.stage == Stage.MQL.value, c.recycle_after_days.is_not(None))
    changes = Changes()
    for row in conn.execute(q):
        data = dict(row._mapping)
        due = expired_at(
            data.pop("mql_at"), data.pop("last_action_at"), data.pop("recycle_after_days"), as_of
        )
        model_hash = data.pop("model_hash")
        if due is None:
            continue
        lead = LeadRow(**data)
        changes.move(
            lead, Stage.NURTURE, at=due, cause=Cause.EXPIRY.value, actor=SYSTEM_ACTOR,
            model_hash=model_hash, reason=EXPIRED,
        )  # fmt: skip
        summary.expired += 1
    changes.flush(conn)


def tick(
    store: Store, as_of: datetime, *, progress: Progress | None = None, engine: str = "auto",
    force: bool = False,
    pinned: bool = True,
) -> TickReport:  # fmt: skip
    """Apply expiries due by ``as_of``, then re-score every lead with events at ``as_of``.

    Leads without events cannot change with time (profile rules do not decay), so they are
    skipped (on the batch path every lead is scored: it costs less than picking them out).
    New MQLs found here are recorded with cause ``score``; score history with ``tick``.

    Raises:
        HistoryBackwardsError: a ``pinned`` ``as_of`` is before the store's latest scoring
            (unless ``force``); an unpinned one moves up to it (``timeline.forward_as_of``).
    """
    as_of = as_utc(as_of)
    summary = RescoreSummary()
    with store.write() as conn:
        lock_leads_table(conn, "rescore")  # no write lands between its reads and its writes
        as_of = forward_as_of(conn, as_of, pinned=pinned, force=force)
        apply_expiries(conn, as_of, summary)
        model = active_model(conn, store)
        if model is not None:
            ids: list[str] | None = list(
                conn.execute(
                    select(leads.c.lead_id).where(
                        leads.c.last_event_at.is_not(None), leads.c.duplicate_of.is_(None)
                    )
                ).scalars()
            )
            if engine == "duckdb" or (engine == "auto" and len(ids or ()) >= BATCH_MIN_LEADS):
                ids = None  # the batch path scores the whole store in one pass
            rescore(
                conn,
                model,
                ids,
                as_of,
                cause=Cause.TICK,
                actor=SYSTEM_ACTOR,
                summary=summary,
                progress=progress,
                engine=engine,
            )
    rescore_accounts_if_any(store, as_of)  # accounts follow their leads (issue #15)
    return TickReport(as_of=as_of, summary=summary)
