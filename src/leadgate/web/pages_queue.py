"""``/app/queue``: the SDR's day. MQLs awaiting sales; accept or reject, one or many at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from leadgate.errors import LeadgateError
from leadgate.service import dispose, reject_reasons
from leadgate.service.workbench import SORTS, queue_board
from leadgate.web.guard import config_of, posted_form, sign_in_check
from leadgate.web.render import page

router = APIRouter()
PAGE_SIZE = 100


def choice(value: str | None) -> str | None:
    """A filter's value from the query: None when absent or blank."""
    return value.strip() or None if value else None


def page_start(value: str | None, size: int = PAGE_SIZE) -> int:
    """The first row of ``?page=N`` (1-based; anything else is the first page)."""
    try:
        return max(0, int(value or "1") - 1) * size
    except ValueError:
        return 0


@router.get("/queue")
async def queue(request: Request) -> Response:
    """The queue, sortable by SLA due, score and age, filtered by segment, channel and owner."""
    viewer = await sign_in_check(request, "queue:read")
    config = config_of(request)
    q = request.query_params
    sort = q.get("sort", "sla") if q.get("sort", "sla") in SORTS else "sla"
    descending = q.get("dir") == "desc"
    filters = {name: choice(q.get(name)) for name in ("segment", "channel", "owner")}
    start = page_start(q.get("page"))
    now = config.now()
    board = await run_in_threadpool(
        lambda: queue_board(
            config.store, as_of=now, sort=sort, descending=descending, offset=start,
            limit=PAGE_SIZE, **filters,
        )
    )  # fmt: skip
    reasons = await run_in_threadpool(reject_reasons, config.store)
    kept = {k: v for k, v in {**filters, "sort": sort, "dir": q.get("dir")}.items() if v}
    return page(
        request, viewer, "queue.html", title="MQL queue", board=board, reasons=reasons,
        filters=filters, sort=sort, descending=descending, now=now, start=start,
        page_size=PAGE_SIZE, query=urlencode(kept), kept=kept,
        can_dispose=viewer.may("dispositions:write"),
    )  # fmt: skip


@router.post("/queue/dispose")
async def dispose_many(request: Request) -> Response:
    """Accept or reject the chosen leads (one row's form, or the bulk form with many)."""
    return await apply_dispositions(request, "lead", "/app/queue", dispose)


async def apply_dispositions(
    request: Request, noun: str, back_path: str, dispose_one: Callable[..., Any]
) -> Response:
    """Accept or reject the ``noun`` ids the form names (field ``noun``), each with
    ``dispose_one(store, id, action, reason=, note=, actor=, at=)``; back to ``back_path`` with
    what was done and what was refused. The MQL queue's and the MQA queue's bulk forms."""
    viewer = await sign_in_check(request, "dispositions:write")
    form = await posted_form(request, viewer)
    config = config_of(request)
    action = form.get("action")
    reason = form.get("reason").strip() or None
    note = form.get("note").strip() or None
    ids = list(dict.fromkeys(form.all(noun)))
    back = back_path + (f"?{form.get('back')}" if form.get("back") else "")
    if action not in ("accept", "reject"):
        viewer.session.flash("error", "choose Accept or Reject")
        return RedirectResponse(back, 303)
    if not ids:
        viewer.session.flash("error", f"no {noun} chosen: tick the {noun}s first")
        return RedirectResponse(back, 303)
    if action == "reject" and not reason:
        viewer.session.flash("error", "a rejection needs a reason code: choose one")
        return RedirectResponse(back, 303)
    done, failed = 0, []
    for one in ids:
        try:
            await config.write(
                lambda one=one: dispose_one(
                    config.store, one, action, reason=reason if action == "reject" else None,
                    note=note, actor=viewer.actor, at=config.now(),
                )
            )  # fmt: skip
            done += 1
        except LeadgateError as exc:
            failed.append(f"{one}: {exc}")
    config.wake_worker()
    verb = "accepted" if action == "accept" else f"rejected ({reason})"
    if done:
        viewer.session.flash("ok", f"{done} {noun}{'s' if done != 1 else ''} {verb}")
    for message in failed[:10]:
        viewer.session.flash("error", message)
    if len(failed) > 10:
        viewer.session.flash("error", f"... and {len(failed) - 10} more not changed")
    return RedirectResponse(back, 303)
