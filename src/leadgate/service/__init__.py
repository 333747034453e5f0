"""The service layer: the functions both the CLI and the HTTP API call.

Every function takes the store first and an explicit time (``as_of`` / ``at``): there is no wall
clock below the adapters (ARCHITECTURE.md invariant 2). Answers are pydantic shapes
(``service/shapes.py``); every answer about one lead carries ``lead_id``, ``stage`` and
``score`` (``Score.to_record()``).

    ingest_events(store, events, as_of, *, actor="api") -> IngestResult
    upsert_lead(store, lead_id, attrs, as_of, *, actor="api") -> LeadState
    upsert_account(store, account_id, attrs, as_of, *, actor="api") -> list[LeadState]
    get_lead(store, lead_id, as_of=None) -> LeadView
    mql_queue(store, *, as_of, segment=None, owner=None, sla_state=None, limit=None) -> list[QueueItem]
    dispose(store, lead_id, action, *, reason=None, note=None, amount=None, actor, at) -> LeadState
    sla_breaches(store, *, as_of, segment=None, owner=None) -> list[SlaBreach]
    publish_model(store, path_or_text, *, actor, as_of, dry_run=False, progress=None) -> PublishReport
    list_models(store) -> list[ModelVersionView]
    diff_models(store, a, b) -> ModelDiff
    tick(store, as_of, *, progress=None) -> TickReport
    load_file(store, kind, path, *, as_of, actor="import", progress=None, read_progress=None,
              chunk_rows=CHUNK_ROWS) -> LoadReport   (events stream, chunk by chunk)
    reject_reasons(store) / set_reject_reasons(store, reasons, at)
    change_reject_reasons(store, *, at, add=None, remove=()) / reset_reject_reasons(store, at)
    reject_reason_usage(store) -> {code: rejections recorded with it}
"""

from __future__ import annotations

from leadgate.service.leads import get_lead, ingest_events, upsert_account, upsert_lead
from leadgate.service.load import KINDS, load_file
from leadgate.service.models import active_model, diff_models, list_models, publish_model
from leadgate.service.sales import (
    change_reject_reasons,
    dispose,
    mql_queue,
    reject_reason_usage,
    reject_reasons,
    reset_reject_reasons,
    set_reject_reasons,
    sla_breaches,
)
from leadgate.service.shapes import (
    CycleView,
    DispositionView,
    IngestResult,
    LeadChange,
    LeadState,
    LeadView,
    LoadReport,
    ModelDiff,
    ModelVersionView,
    PublishReport,
    QueueItem,
    RescoreSummary,
    ScorePoint,
    SlaBreach,
    TickReport,
    TransitionView,
)
from leadgate.service.tick import tick

__all__ = [
    "KINDS",
    "CycleView",
    "DispositionView",
    "IngestResult",
    "LeadChange",
    "LeadState",
    "LeadView",
    "LoadReport",
    "ModelDiff",
    "ModelVersionView",
    "PublishReport",
    "QueueItem",
    "RescoreSummary",
    "ScorePoint",
    "SlaBreach",
    "TickReport",
    "TransitionView",
    "active_model",
    "change_reject_reasons",
    "diff_models",
    "dispose",
    "get_lead",
    "ingest_events",
    "list_models",
    "load_file",
    "mql_queue",
    "publish_model",
    "reject_reason_usage",
    "reject_reasons",
    "reset_reject_reasons",
    "set_reject_reasons",
    "sla_breaches",
    "tick",
    "upsert_account",
    "upsert_lead",
]
