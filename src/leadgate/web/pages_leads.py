"""``/app/leads`` (search) and ``/app/leads/{id}`` (one lead, everything about it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from leadgate.service import get_lead, list_models
from leadgate.service.workbench import channel_of, display_name, lead_events, search_leads
from leadgate.web import charts
from leadgate.web.explain import explain
from leadgate.web.guard import config_of, sign_in_check
from leadgate.web.render import page

router = APIRouter()


@router.get("/leads")
async def leads(request: Request) -> Response:
    """Search by id, email, name or company."""
    viewer = await sign_in_check(request, "leads:read")
    text = request.query_params.get("q", "")[:200]
    store = config_of(request).store
    hits = await run_in_threadpool(search_leads, store, text) if text.strip() else []
    return page(request, viewer, "leads.html", title="Leads", q=text, hits=hits)


@router.get("/leads/{lead_id:path}")
async def lead(request: Request, lead_id: str) -> Response:
    """One lead: profile, stage and history, the score's waterfall, timeline, dispositions."""
    viewer = await sign_in_check(request, "leads:read")
    store = config_of(request).store
    view = await run_in_threadpool(get_lead, store, lead_id)
    events = await run_in_threadpool(lead_events, store, lead_id)
    versions = await run_in_threadpool(list_models, store)
    labels = {v.hash: f"v{v.version}" for v in versions}
    score = view.score or {}
    explained = explain(view.explanation, score.get("total"))
    points = [(p.at, p.total) for p in view.score_history]
    marks = []
    previous = None
    for p in view.score_history:
        if previous is not None and p.model_hash != previous:
            marks.append((p.at, labels.get(p.model_hash, p.model_hash[:8])))
        previous = p.model_hash
    history_chart = charts.score_history(points, marks, score.get("threshold"))
    waterfall = (
        charts.waterfall(explained.steps, explained.total, explained.threshold)
        if explained
        else None
    )
    return page(
        request, viewer, "lead.html", title=f"Lead {lead_id}", lead=view, score=score,
        name=display_name(view.attrs), channel=channel_of(view.attrs), explained=explained,
        waterfall=waterfall, history_chart=history_chart, events=events, labels=labels,
    )  # fmt: skip
