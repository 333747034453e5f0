"""``/app/reports``: funnel, quality, rejections, speed, model comparison, calibration, targets.

Each view calls the report library the CLI and ``/v1/reports`` call, over the server's report
caches, and shows its ``to_dict()`` as tables (``web/tables.py``) with a chart where one helps.
A bad form value is shown on the page (422), never as a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from leadgate.errors import LeadgateError
from leadgate.service import list_models
from leadgate.web import charts, report_jobs
from leadgate.web.guard import config_of, sign_in_check, state_of
from leadgate.web.render import page
from leadgate.web.tables import layout

router = APIRouter()

VIEWS = (
    ("funnel", "Funnel"), ("quality", "Quality"), ("rejections", "Rejections"),
    ("speed", "Speed to lead"), ("mqa", "MQA / ABM"), ("compare", "Compare models"), ("calibration", "Calibration"),
    ("targets", "Targets"),
)  # fmt: skip
GROUPS = ("channel", "segment", "cohort", "persona", "region", "industry", "model_version")
WILSON = "Bars: the rate; black whiskers: its 95% Wilson interval."
RATES = ("lead:mql", "mql:sal", "sal:sql", "sql:opp", "opp:won", "mql:sql", "mql:won", "lead:won")


def _float(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise LeadgateError(f"{name}: expected a number, got {value!r}") from None


def _funnel(ctx: _Ctx) -> dict[str, Any]:
    from leadgate.report.funnel import funnel_report

    by = [g for g in ctx.q.getlist("by") if g in GROUPS] or ["channel"]
    rate = ctx.q.get("rate", "lead:mql")
    rate = rate if rate in RATES else "lead:mql"
    result = funnel_report(ctx.frame(), by).to_dict()
    bars = [
        (" · ".join(str(r.get(g, "")) for g in [*by, "model_version"] if g in r),
         r.get(rate), r.get(f"{rate}_lo") or 0.0, r.get(f"{rate}_hi") or 0.0)
        for r in [*result["rows"], {**result["total"], by[0]: "all"}]
    ]  # fmt: skip
    chart = charts.rate_bars(bars, f"{rate} conversion by {', '.join(by)}, with Wilson intervals")
    return {"report": result, "chart": chart, "by": by, "rate": rate, "caption": WILSON}


def _mqa(ctx: _Ctx) -> dict[str, Any]:
    from leadgate.report.mqa import ACCOUNT_GROUPS
    from leadgate.report.mqa_store import mqa_report_from_store

    by = [g for g in ctx.q.getlist("by") if g in ACCOUNT_GROUPS] or ["tier"]
    result = mqa_report_from_store(ctx.store, ctx.frame(), by=by).to_dict()
    bars = [
        (" · ".join(f"{g} {r[g]}" for g in by), r.get("mqa:won"), r.get("mqa:won_lo") or 0.0,
         r.get("mqa:won_hi") or 0.0)
        for r in result["rows"]
    ] + [
        (h["handoff"], h.get("handoff:won"), h.get("handoff:won_lo") or 0.0,
         h.get("handoff:won_hi") or 0.0)
        for h in result["handoffs"]
    ]  # fmt: skip
    chart = charts.rate_bars(bars, f"MQA to won by {', '.join(by)}; hand-offs to won")
    return {"report": result, "chart": chart, "by": by, "caption": WILSON,
            "account_groups": ACCOUNT_GROUPS}  # fmt: skip


def _quality(ctx: _Ctx) -> dict[str, Any]:
    from leadgate.report.quality import quality_report

    by = [g for g in ctx.q.getlist("by") if g in GROUPS] or ["channel"]
    return {"report": quality_report(ctx.frame(), by).to_dict(), "by": by}


def _rejections(ctx: _Ctx) -> dict[str, Any]:
    from leadgate.report.rejections import rejection_report
    from leadgate.report.store_frame import history_of_leads

    # Only the rejected cycles are scored again (for their top rule): read only their leads'
    # profiles and events, not every event in the store. Same numbers as over the full history.
    frame = ctx.frame()
    rejected = frame.loc[frame["is_mql"] & frame["sal_status"].eq("rejected"), "lead_id"]
    history = history_of_leads(ctx.store, rejected.astype(str), frame)
    plans = ctx.cache.plans.get(ctx.store)
    result = rejection_report(frame, ["channel", "segment"], history=history, plans=plans).to_dict()
    return {"report": result}


def _speed(ctx: _Ctx) -> dict[str, Any]:
    from leadgate.report.speed import speed_report

    result = speed_report(ctx.frame(), as_of=ctx.now).to_dict()
    bars = [(b["bucket"], b.get("mql_sql"), b.get("mql_sql_lo") or 0.0, b.get("mql_sql_hi") or 0.0)
            for b in result.get("buckets", [])]  # fmt: skip
    chart = charts.rate_bars(bars, "MQL to SQL by time to first touch")
    return {"report": result, "chart": chart, "caption": WILSON}


def _compare(ctx: _Ctx) -> dict[str, Any]:
    from leadgate.engine import compile_model
    from leadgate.report.compare import compare_models
    from leadgate.report.store_frame import store_model

    labels = [v.version for v in ctx.versions]
    if len(labels) < 2:
        return {"message": "Only one model version is published: nothing to compare yet."}
    a = ctx.q.get("model_a") or labels[-2]
    b = ctx.q.get("model_b") or labels[-1]
    plan_a = compile_model(store_model(ctx.store, a))
    plan_b = compile_model(store_model(ctx.store, b))
    history = ctx.history()
    result = compare_models(history, plan_a, plan_b, as_of=ctx.now).to_dict()
    return {"report": result, "model_a": a, "model_b": b, "labels": labels}


def _calibration(ctx: _Ctx) -> dict[str, Any]:
    from leadgate.report.calibrate import DEFAULT_TARGET, Target, calibrate
    from leadgate.report.store_frame import store_model

    if not ctx.versions:
        return {"message": "No model published yet."}
    target = ctx.q.get("target") or DEFAULT_TARGET
    goal = Target.parse(target)
    version = ctx.q.get("model") or ctx.versions[-1].version
    result = calibrate(store_model(ctx.store, version), ctx.history(), target=goal).to_dict()
    points = [(p["threshold"], p[goal.metric]) for p in result["curve"]
              if p.get(goal.metric) is not None and p.get("floor_scale", 1.0) == result["floor_scale"]]  # fmt: skip
    chart: Markup | None = None
    if points and all(0 <= y <= 1 for _, y in points):
        chart = charts.curve(points, result["recommended"].get("threshold"), "threshold",
                             goal.metric, f"{goal.metric} by threshold")  # fmt: skip
    shown = {k: v for k, v in result.items() if k != "curve"}
    caption = f"{goal.metric} at each threshold; dashed: the recommended threshold."
    return {"report": shown, "chart": chart, "target": target, "model": version, "caption": caption,
            "labels": [v.version for v in ctx.versions]}  # fmt: skip


def _targets(ctx: _Ctx) -> dict[str, Any]:
    from leadgate.report.targets import funnel_targets, parse_rates

    revenue = _float(ctx.q.get("revenue", "1000000"), "revenue")
    deal = _float(ctx.q.get("deal_size", "25000"), "deal_size")
    period = ctx.q.get("period", "month")
    rates_text = ctx.q.get("rates", "measured").strip() or "measured"
    if period not in ("month", "quarter", "year"):
        raise LeadgateError(f"period: use month, quarter or year, got {period!r}")
    if revenue <= 0 or deal <= 0:
        raise LeadgateError("revenue and deal_size must be above 0")
    if rates_text.lower() == "measured":
        result = funnel_targets(revenue, deal, frame=ctx.frame(), period=period)
    else:
        result = funnel_targets(revenue, deal, rates=parse_rates(rates_text), period=period)
    form = {"revenue": revenue, "deal_size": deal, "period": period, "rates": rates_text}
    return {"report": result.to_dict(), "form": form}


class _Ctx:
    """What a report view reads: the query, the store, the server's report caches, now."""

    def __init__(self, request: Request, versions: list[Any]) -> None:
        config = config_of(request)
        self.q = request.query_params
        self.store = config.store
        self.cache = config.report_cache()
        self.now = config.now()
        self.versions = versions
        self.value: Any = None  # the cached frame or history the view is computed from

    def frame(self) -> Any:
        return self.value if self.value is not None else self.cache.frames.get(self.store)

    def history(self) -> Any:
        return self.value if self.value is not None else self.cache.histories.get(self.store)


HANDLERS: dict[str, Callable[[_Ctx], dict[str, Any]]] = {
    "funnel": _funnel, "quality": _quality, "rejections": _rejections, "speed": _speed, "mqa": _mqa,
    "compare": _compare, "calibration": _calibration, "targets": _targets,
}  # fmt: skip


# Views that score leads again: keyed on the events too. Compare and calibration replay every
# lead (the whole history, events included); the others read the funnel frame.
REPLAY_VIEWS = frozenset({"rejections", "compare", "calibration"})
HISTORY_VIEWS = frozenset({"compare", "calibration"})
# Views computed as of now: as of the current minute, so a minute's requests share one result.
AS_OF_VIEWS = frozenset({"speed", "compare"})
Shown = tuple[dict[str, Any], list[Any], list[Any]]


def _key(ctx: _Ctx, view: str) -> tuple[Any, ...]:
    """What the view's result is computed from: the store's fingerprint (with the events for the
    views that replay them) and, for the views computed as of now, the minute (``ctx.now``)."""
    cache = ctx.cache.histories if view in REPLAY_VIEWS else ctx.cache.frames
    if view in AS_OF_VIEWS:
        ctx.now = ctx.now.replace(second=0, microsecond=0)
    key = cache.fingerprint(ctx.store)
    if view == "mqa":  # account stages are not in the history's fingerprint
        from leadgate.report.mqa_store import accounts_fingerprint

        key = (*key, *accounts_fingerprint(ctx.store))
    return (key, ctx.now if view in AS_OF_VIEWS else None)


def _shown(ctx: _Ctx, view: str, key: tuple[Any, ...]) -> Shown:
    """The view's result with its facts and tables, for the form values and ``key``."""
    cache = ctx.cache.histories if view in HISTORY_VIEWS else ctx.cache.frames
    name = (view, tuple(sorted(ctx.q.multi_items())), key)

    def make(value: Any) -> Shown:
        ctx.value = value
        result = HANDLERS[view](ctx)
        facts, tables = layout(result["report"]) if "report" in result else ([], [])
        return result, facts, tables

    shown: Shown = cache.derived(ctx.store, name, make)
    return shown


@router.get("/reports")
async def reports(request: Request) -> Response:
    """One report at a time (``?view=funnel`` ...), with its form, chart and tables."""
    viewer = await sign_in_check(request, "reports:read")
    view = request.query_params.get("view", "funnel")
    view = view if view in HANDLERS else "funnel"
    versions = await run_in_threadpool(list_models, config_of(request).store)
    ctx = _Ctx(request, versions)
    key = await run_in_threadpool(_key, ctx, view)
    name = (view, tuple(sorted(ctx.q.multi_items())))
    done, current = await run_in_threadpool(
        state_of(request).reports.result, name, key, lambda: _shown(ctx, view, key),
        report_jobs.WAIT_SECONDS,
    )  # fmt: skip
    status, error = 200, None
    result: dict[str, Any] = {}
    facts: list[Any] = []
    tables: list[Any] = []
    if done is None:
        status = 202  # being computed: the page reloads itself
    elif done.error is not None:
        status, error = 422, str(done.error)
    else:
        result, facts, tables = done.value
    return page(
        request, viewer, "reports.html", title="Reports", status=status, views=VIEWS, view=view,
        error=error, facts=facts, tables=tables, groups=GROUPS, rates=RATES,
        computing=done is None or not current, computed_at=None if done is None else done.at,
        # Only the minute moved (a view computed as of now), not the store:
        as_of_moved=done is not None and done.key[0] == key[0] and done.key[1] != key[1],
        as_of_then=None if done is None else done.key[1],
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **result,
    )  # fmt: skip
