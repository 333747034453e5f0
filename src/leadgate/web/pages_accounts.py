"""``/app/accounts`` (the MQA queue) and ``/app/accounts/{id}`` (one account: buying-group map,
score waterfall, what it lacks, its leads, dispositions).

The same service functions as ``GET /v1/mqas`` and ``GET /v1/accounts/{id}``
(``service/accounts.py``, arranged by ``service/account_board.py``); the waterfall is the lead
page's (``web/explain.py``, ``web/charts.waterfall``) over the account's explanation.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from leadgate.errors import LeadgateError
from leadgate.lifecycle.account_stages import ACCOUNT_ACTIONS
from leadgate.service import reject_reasons
from leadgate.service.account_board import (
    ACCOUNT_SORTS,
    account_board,
    account_profiles,
    role_map,
)
from leadgate.service.accounts import dispose_account, get_account
from leadgate.web import charts
from leadgate.web.explain import explain
from leadgate.web.guard import config_of, posted_form, sign_in_check
from leadgate.web.pages_queue import PAGE_SIZE, apply_dispositions, choice, page_start
from leadgate.web.render import page

router = APIRouter()


def account_url(account_id: str) -> str:
    """``/app/accounts/<id>`` with every URL character of the id escaped."""
    return "/app/accounts/" + quote(str(account_id), safe="")


@router.get("/accounts")
async def accounts_queue(request: Request) -> Response:
    """Accounts at MQA, sortable by score, SLA, age and completeness, filtered by tier, owner
    and ABM."""
    viewer = await sign_in_check(request, "queue:read")
    config = config_of(request)
    q = request.query_params
    sort = q.get("sort", "score") if q.get("sort", "score") in ACCOUNT_SORTS else "score"
    descending = q.get("dir") == "desc"
    filters = {name: choice(q.get(name)) for name in ("tier", "owner", "abm")}
    abm = {"yes": True, "no": False}.get(filters["abm"] or "")
    start = page_start(q.get("page"))
    now = config.now()
    board = await run_in_threadpool(
        lambda: account_board(
            config.store, as_of=now, sort=sort, descending=descending, tier=filters["tier"],
            owner=filters["owner"], abm=abm,
        )
    )  # fmt: skip
    reasons = await run_in_threadpool(reject_reasons, config.store)
    kept = {k: v for k, v in {**filters, "sort": sort, "dir": q.get("dir")}.items() if v}
    return page(
        request, viewer, "accounts.html", title="MQA queue", board=board, reasons=reasons,
        items=board.items[start : start + PAGE_SIZE], filters=filters, sort=sort,
        descending=descending, start=start, page_size=PAGE_SIZE, query=urlencode(kept),
        account_url=account_url, can_dispose=viewer.may("dispositions:write"),
    )  # fmt: skip


@router.post("/accounts/dispose")
async def dispose_many(request: Request) -> Response:
    """Accept or reject the chosen accounts (one row's form, or the bulk form with many)."""
    return await apply_dispositions(request, "account", "/app/accounts", dispose_account)


@router.get("/accounts/{account_id:path}")
async def account(request: Request, account_id: str) -> Response:
    """One account: buying-group map, score waterfall, lacks, leads, stage moves."""
    viewer = await sign_in_check(request, "leads:read")
    store = config_of(request).store
    view = await run_in_threadpool(get_account, store, account_id)
    roles = await run_in_threadpool(role_map, store, view)
    profile = (await run_in_threadpool(account_profiles, store, [account_id])).get(account_id, {})
    reasons = await run_in_threadpool(reject_reasons, store)
    score = view.score or {}
    explained = explain(view.explanation, score.get("total"))
    waterfall = (
        charts.waterfall(explained.steps, explained.total, explained.threshold, "MQA line")
        if explained
        else None
    )
    return page(
        request, viewer, "account.html", title=f"Account {account_id}", account=view,
        profile=profile, score=score, explained=explained, waterfall=waterfall, roles=roles,
        reasons=reasons, actions=ACCOUNT_ACTIONS, can_dispose=viewer.may("dispositions:write"),
        here=account_url(account_id),
    )  # fmt: skip


@router.post("/accounts/{account_id:path}/dispose")
async def dispose(request: Request, account_id: str) -> Response:
    """Record a disposition on an account (accept, reject with a reason, opportunity, won,
    lost) from its page or a queue row."""
    viewer = await sign_in_check(request, "dispositions:write")
    form = await posted_form(request, viewer)
    config = config_of(request)
    action = form.get("action")
    reason = form.get("reason").strip() or None
    note = form.get("note").strip() or None
    back = form.get("back")
    back = back if back.startswith("/app/accounts") else account_url(account_id)
    if action == "reject" and not reason:
        viewer.session.flash("error", "a rejection needs a reason code: choose one")
        return RedirectResponse(back, 303)
    try:
        await config.write(
            lambda: dispose_account(
                config.store, account_id, action, reason=reason if action == "reject" else None,
                note=note, actor=viewer.actor, at=config.now(),
            )
        )  # fmt: skip
    except LeadgateError as exc:
        viewer.session.flash("error", f"{account_id}: {exc}")
        return RedirectResponse(back, 303)
    config.wake_worker()
    viewer.session.flash("ok", f"{account_id}: {action}" + (f" ({reason})" if reason else ""))
    return RedirectResponse(back, 303)
