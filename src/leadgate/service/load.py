"""Bulk loads (``leadgate load leads|accounts|events|outcomes FILE``): all or nothing.

The file is read and every row validated first (``leadgate.io``); then one transaction writes
the rows and re-scores the affected leads with the published model. A bad row anywhere, or a
failure while writing, leaves the store exactly as it was.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from leadgate.engine import as_utc
from leadgate.errors import IngestError
from leadgate.io import read_accounts, read_events, read_leads
from leadgate.lifecycle.sla import DEFAULT_SLA_HOURS
from leadgate.lifecycle.stages import Cause
from leadgate.service.models import active_model
from leadgate.service.rescore import ActiveModel, Progress, rescore
from leadgate.service.sales import REASONS_KEY
from leadgate.service.shapes import LoadReport
from leadgate.store.db import Store
from leadgate.store.ingest import (
    insert_events,
    leads_of_accounts,
    upsert_accounts,
    upsert_leads,
)
from leadgate.store.outcomes import import_outcomes
from leadgate.store.settings import get_setting

KINDS = ("leads", "accounts", "events", "outcomes")


def _default_terms(model: ActiveModel | None) -> dict[str, float | None]:
    """SLA and recycling terms for imported cycles: the active model's default segment."""
    if model is None:
        return {"sla_hours": DEFAULT_SLA_HOURS, "recycle_after_days": None}
    policy = model.plan.segments[-1].policy
    return {
        "sla_hours": policy.sla_hours or DEFAULT_SLA_HOURS,
        "recycle_after_days": policy.recycle_after_days,
    }


def load_file(
    store: Store,
    kind: str,
    path: str | Path,
    *,
    as_of: datetime,
    actor: str = "import",
    progress: Progress | None = None,
) -> LoadReport:
    """Load a file of ``kind`` (leads, accounts, events, outcomes) atomically and idempotently.

    Leads whose data changed are re-scored at ``as_of`` when a model is published.

    Raises:
        IngestError: a bad row (file, line, field); nothing was written.
    """
    if kind not in KINDS:
        raise IngestError(f"unknown kind '{kind}' (use {', '.join(KINDS)})", file=str(path))
    as_of = as_utc(as_of)
    file = str(path)
    if kind == "leads":
        profiles = read_leads(path)
    elif kind == "accounts":
        accounts = read_accounts(path)
    elif kind == "events":
        events = read_events(path)
    report = LoadReport(
        kind=kind, file=file, rows=0, inserted=0, updated=0, ignored=0, duplicates=0
    )
    with store.write() as conn:
        model = active_model(conn, store)
        affected: list[str] = []
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
            fresh = insert_events(conn, events, as_of)
            report.rows, report.inserted = len(events), len(fresh)
            report.ignored = len(events) - len(fresh)
            from leadgate.service.leads import canonical_ids

            affected = canonical_ids(conn, (e.lead_id for e in fresh))
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
    return report
