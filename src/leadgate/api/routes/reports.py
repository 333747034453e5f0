"""Reports over HTTP: funnel, quality, rejections, speed-to-lead, model comparison, targets, MQA.

Thin adapters over ``leadgate.report``, the same library ``leadgate report ...`` and
``leadgate targets`` call: each route parses its query (the CLI's options under snake_case
names), reads the history from the server's open store with the report library's store-backed
source (``report/store_frame.py``, what ``HistorySource(db=...)`` uses), calls the report
function and answers with the report's ``to_dict()`` -- the CLI's ``--format json``. The funnel
frame, the replay history (profiles and events) and the published plans are kept between
requests while the store's fingerprint is unchanged (``ReportCache``); so is the MQA report
itself, with the funnel frame, while the accounts' fingerprint holds too.

A bad query value is a 422 naming the parameter, including values only the library can judge
(an unknown ``by`` dimension, a model version with no leads, a malformed ``rates``). Models are
named by published version only: a report never loads a file from the server's disk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from leadgate.api.app import config_of
from leadgate.api.auth import GuardedRoute, needs
from leadgate.api.keys import FieldError
from leadgate.api.schemas import query_time
from leadgate.errors import LeadgateError, NotFoundError

router = APIRouter(route_class=GuardedRoute, tags=["reports"])

READ = needs("reports:read")
MAX_MONEY = 1e15  # revenue and deal sizes: beyond this the back-solved counts lose meaning

By = Annotated[
    str,
    Query(description="comma-separated: channel, segment, persona, region, industry, cohort, "
          "model_version"),
]  # fmt: skip
Since = Annotated[str | None, Query(description="window start, ISO 8601 (inclusive)")]
Until = Annotated[str | None, Query(description="window end, ISO 8601 (exclusive)")]
Versions = Annotated[
    list[str] | None,
    Query(description="only these model versions (label or hash prefix); repeat or comma-separate"),
]
Mix = Annotated[bool, Query(description="pool model versions instead of separating them")]
AsOf = Annotated[str | None, Query(description="ISO 8601 (default: the latest time in the data)")]


# -- parsing: every library complaint about a query value becomes a 422 naming the parameter ------


def _message(exc: Exception, param: str) -> str:
    """The library's one-line message without the CLI option it starts with (``--by: ...``)."""
    text = str(exc)
    for prefix in (f"--{param.replace('_', '-')}: ", f"--{param}: "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _by(value: str, param: str = "by") -> list[str]:
    from leadgate.report.frame import group_columns

    names = [v for v in (p.strip() for p in value.split(",")) if v]
    try:
        group_columns(names)  # checked here so an unknown name is a 422, not a 400
    except LeadgateError as exc:
        raise FieldError(_message(exc, param), param) from None
    return names


def _versions(values: list[str] | None) -> list[str] | None:
    out = [v.strip() for value in values or [] for v in value.split(",") if v.strip()]
    return out or None


async def _run(fn: Callable[[], Any], versions_param: str = "model_version") -> dict[str, Any]:
    """Run a report off the event loop; a version the history does not have names its parameter."""
    try:
        report = await run_in_threadpool(fn)
    except NotFoundError as exc:
        raise FieldError(str(exc), versions_param) from None
    return report.to_dict()  # type: ignore[no-any-return]


def _store_frame(request: Request) -> Any:
    config = config_of(request)
    return config.report_cache().frames.get(config.store)


def _store_history(request: Request) -> Any:
    """The store's replay history (read-only profiles and events, a copy of the frame)."""
    config = config_of(request)
    return config.report_cache().histories.get(config.store)


def _store_plan(store: Any, ref: str, param: str) -> Any:
    """A published version's compiled plan; an unknown one is a 422 naming ``param``."""
    from leadgate.engine import compile_model
    from leadgate.report.store_frame import store_model

    try:
        return compile_model(store_model(store, ref))
    except NotFoundError as exc:
        raise FieldError(str(exc), param) from None


# -- routes ----------------------------------------------------------------------------------------


@router.get("/v1/reports/funnel", openapi_extra=READ)
async def funnel(
    request: Request, by: By = "", since: Since = None, until: Until = None,
    model_version: Versions = None, mix_versions: Mix = False,
) -> dict[str, Any]:  # fmt: skip
    """Cohort conversion lead -> MQL -> SAL -> SQL -> opportunity -> won, with revenue."""
    from leadgate.report.funnel import funnel_report

    cols, start, end = _by(by), query_time(since, "since"), query_time(until, "until")
    versions = _versions(model_version)
    return await _run(
        lambda: funnel_report(
            _store_frame(request), cols, since=start, until=end, model_version=versions,
            mix_versions=mix_versions,
        )
    )  # fmt: skip


@router.get("/v1/reports/quality", openapi_extra=READ)
async def quality(
    request: Request, by: By = "channel", since: Since = None, until: Until = None,
    model_version: Versions = None, mix_versions: Mix = False,
    min_n: Annotated[int, Query(ge=0, le=1_000_000_000, description="fewer MQLs: marked low n, not flagged")] = 20,
) -> dict[str, Any]:  # fmt: skip
    """MQL volume beside MQL->SQL and SAL acceptance per channel (or ``by``), with flags."""
    from leadgate.report.quality import quality_report

    cols, start, end = _by(by), query_time(since, "since"), query_time(until, "until")
    versions = _versions(model_version)
    return await _run(
        lambda: quality_report(
            _store_frame(request), cols, since=start, until=end, model_version=versions,
            mix_versions=mix_versions, min_n=min_n,
        )
    )  # fmt: skip


@router.get("/v1/reports/rejections", openapi_extra=READ)
async def rejections(
    request: Request, by: By = "channel,segment", since: Since = None, until: Until = None,
    model_version: Versions = None, mix_versions: Mix = False,
    model: Annotated[str | None, Query(description="published version to explain rejected MQLs "
                     "whose own model is unknown (imported outcomes)")] = None,
) -> dict[str, Any]:  # fmt: skip
    """Sales rejection reasons by channel, segment and the rule that contributed most.

    Each rejected MQL is explained under the published version that made it an MQL.
    """
    from leadgate.report.rejections import rejection_report

    cols, start, end = _by(by), query_time(since, "since"), query_time(until, "until")
    versions = _versions(model_version)
    config = config_of(request)
    store = config.store
    plan = None if model is None else await run_in_threadpool(_store_plan, store, model, "model")

    def report() -> Any:
        history = _store_history(request)
        plans = config.report_cache().plans.get(store)
        return rejection_report(
            history.frame, cols, history=history, plan=plan, plans=plans,
            since=start, until=end, model_version=versions, mix_versions=mix_versions,
        )  # fmt: skip

    return await _run(report)


@router.get("/v1/reports/speed", openapi_extra=READ)
async def speed(
    request: Request, since: Since = None, until: Until = None, model_version: Versions = None,
    mix_versions: Mix = False, as_of: AsOf = None,
) -> dict[str, Any]:  # fmt: skip
    """Time to first touch, SLA breaches and conversion by response bucket.

    ``as_of``: untouched MQLs breach when their SLA ran out by then.
    """
    from leadgate.report.speed import speed_report

    start, end, at = (
        query_time(since, "since"),
        query_time(until, "until"),
        query_time(as_of, "as_of"),
    )
    versions = _versions(model_version)
    return await _run(
        lambda: speed_report(
            _store_frame(request), since=start, until=end, as_of=at, model_version=versions,
            mix_versions=mix_versions,
        )
    )  # fmt: skip


@router.get("/v1/reports/compare", openapi_extra=READ)
async def compare(
    request: Request,
    model_a: Annotated[str, Query(description="published version (label or hash prefix)")],
    model_b: Annotated[str, Query(description="published version (label or hash prefix)")],
    since: Annotated[str | None, Query(description="only leads created at or after this")] = None,
    until: Annotated[str | None, Query(description="only leads created before this")] = None,
    as_of: AsOf = None,
) -> dict[str, Any]:  # fmt: skip
    """Two model versions over the same leads: MQLs, overlap, known-outcome rates.

    Replays every lead in the window under both versions; on a large store this takes a while.
    """
    from leadgate.report.compare import compare_models

    start, end, at = (
        query_time(since, "since"),
        query_time(until, "until"),
        query_time(as_of, "as_of"),
    )
    store = config_of(request).store
    a = await run_in_threadpool(_store_plan, store, model_a, "model_a")
    b = await run_in_threadpool(_store_plan, store, model_b, "model_b")
    return await _run(
        lambda: compare_models(_store_history(request), a, b, as_of=at, since=start, until=end)
    )


@router.get("/v1/reports/mqa", openapi_extra=READ)
async def mqa(
    request: Request,
    by: Annotated[str, Query(description="comma-separated: tier, segment, abm")] = "tier",
    since: Since = None, until: Until = None,
) -> dict[str, Any]:  # fmt: skip
    """MQA -> opportunity -> won by tier or segment; inbound (MQL/PQL) and ABM (MQA) hand-offs
    side by side, each counted once (a lead of an ABM account is its account's hand-off)."""
    from leadgate.report.mqa import account_groups
    from leadgate.report.mqa_store import accounts_fingerprint, mqa_report_from_store

    names = [v for v in (p.strip() for p in by.split(",")) if v]
    try:
        account_groups(names)
    except LeadgateError as exc:
        raise FieldError(_message(exc, "by"), "by") from None
    start, end = query_time(since, "since"), query_time(until, "until")
    config = config_of(request)
    store, frames = config.store, config.report_cache().frames

    def report() -> Any:
        # Kept with the funnel frame while neither it nor the accounts' stages move (account
        # moves are not in the frame's fingerprint): a repeated ask costs the fingerprints.
        key = (*frames.fingerprint(store), *accounts_fingerprint(store))
        return frames.derived(
            store, ("api mqa", tuple(names), start, end, key),
            lambda frame: mqa_report_from_store(store, frame, by=names, since=start, until=end),
        )  # fmt: skip

    return await _run(report)


@router.get("/v1/reports/targets", openapi_extra=READ)
async def targets(
    request: Request,
    revenue: Annotated[
        float, Query(gt=0, le=MAX_MONEY, allow_inf_nan=False, description="revenue goal per year")
    ],
    deal_size: Annotated[
        float,
        Query(ge=0.01, le=MAX_MONEY, allow_inf_nan=False, description="average won deal size"),
    ],
    rates: Annotated[str, Query(description="'measured' (from the store) or "
                     "lead:mql=.2,mql:sal=.7,sal:sql=.5,sql:opp=.6,opp:won=.25")] = "measured",
    period: Literal["month", "quarter", "year"] = "month",
) -> dict[str, Any]:  # fmt: skip
    """Back-solve wins -> opportunities -> SQLs -> SALs -> MQLs -> leads per period.

    Measured rates come from the store, overall and per channel (the leads each channel supplies).
    """
    from leadgate.report.targets import funnel_targets, parse_rates

    if rates.strip().lower() == "measured":
        return await _run(
            lambda: funnel_targets(revenue, deal_size, frame=_store_frame(request), period=period)
        )
    try:
        given = parse_rates(rates)
    except LeadgateError as exc:
        raise FieldError(_message(exc, "rates"), "rates") from None
    return await _run(lambda: funnel_targets(revenue, deal_size, rates=given, period=period))
