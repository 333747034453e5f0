"""The FastAPI application factory: ``create_app(store_url)``.

The app holds an ``ApiConfig`` (``app.state.config``): the open store, the clock the routes read
"now" from (the engine never reads a clock; the server passes the real time as ``as_of``), the
request limits, and optionally the background work ``leadgate serve`` runs with it: the webhook
delivery worker and the periodic ``tick`` (decay and MQL expiry).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

import leadgate
from leadgate.api.batching import EventBatcher
from leadgate.api.docs_pages import add_docs_pages
from leadgate.api.errors import install_error_handlers
from leadgate.api.limits import BodyLimitMiddleware
from leadgate.api.throttle import DEFAULT_FAILURES_PER_MINUTE, AuthThrottle
from leadgate.store.db import Store, open_store
from leadgate.webhooks.delivery import DeliveryPolicy, WebhookWorker

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_BATCH = 1000
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiConfig:
    """What the routes need: the store, the clock and the limits; plus the background work."""

    store: Store
    clock: Callable[[], datetime] = _now
    max_batch: int = DEFAULT_MAX_BATCH
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    worker: WebhookWorker | None = None
    tick_seconds: float | None = None
    tick_runs: int = 0
    write_lock: threading.Lock | None = None
    batcher: EventBatcher | None = None
    auth_throttle: AuthThrottle = field(default_factory=AuthThrottle)
    report_caches: Any = None  # report.store_frame.ReportCache, made on first use

    def report_cache(self) -> Any:
        """The server's caches of what reports read from the store (funnel frame, history,
        published plans; ``leadgate.report``), one per app."""
        if self.report_caches is None:
            from leadgate.report.store_frame import ReportCache

            self.report_caches = ReportCache()
        return self.report_caches

    def now(self) -> datetime:
        return self.clock()

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a writing library call in the thread pool, one at a time on SQLite.

        SQLite has one writer; concurrent ``BEGIN IMMEDIATE`` transactions wait in SQLite's busy
        handler, which sleeps in growing steps and makes the latency tail long under load.
        Queueing the writers of this process on a lock hands the database over without sleeping.
        PostgreSQL takes row locks and needs no such queue.
        """
        if self.write_lock is None:
            return await run_in_threadpool(fn, *args, **kwargs)
        lock = self.write_lock

        def locked() -> T:
            with lock:
                return fn(*args, **kwargs)

        return await run_in_threadpool(locked)

    def wake_worker(self) -> None:
        """Deliver new outbox rows now instead of at the next poll."""
        if self.worker is not None:
            self.worker.wake()


def config_of(request: Request) -> ApiConfig:
    """The app's ``ApiConfig`` (typed access for the routes)."""
    config: ApiConfig = request.app.state.config
    return config


async def _tick_loop(config: ApiConfig) -> None:
    """``tick`` every ``tick_seconds``: decay moves scores and MQLs expire without new events."""
    from leadgate.service import tick

    assert config.tick_seconds
    while True:
        await asyncio.sleep(config.tick_seconds)
        try:
            report = await config.write(lambda: tick(config.store, config.now(), pinned=False))
            config.tick_runs += 1
            if report.summary.new_mqls or report.summary.expired:
                config.wake_worker()
        except Exception:  # a failed tick must not stop the next one; the store is unchanged
            log.exception("periodic tick failed; retrying at the next interval")


def create_app(
    store_url: str | None = None,
    *,
    store: Store | None = None,
    clock: Callable[[], datetime] | None = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    webhooks: bool = False,
    webhook_policy: DeliveryPolicy | None = None,
    webhook_interval: float = 1.0,
    tick_seconds: float | None = None,
    group_commit: bool = True,
    auth_failures_per_minute: int = DEFAULT_FAILURES_PER_MINUTE,
) -> FastAPI:
    """Build the API over the store at ``store_url`` (or an open ``store``).

    Args:
        store_url: ``--db`` URL (see ``leadgate.store.resolve_db_url``); migrations are applied.
        clock: where "now" comes from (tests pass a fixed clock); default: the real UTC time.
        max_batch: most events in one ``POST /v1/events`` (more: 413).
        max_body_bytes: largest request body accepted (more: 413).
        webhooks: run the webhook delivery worker while the app runs (``leadgate serve``).
        webhook_policy: retry schedule of the worker.
        tick_seconds: run ``tick`` at this interval while the app runs (``None``: never).
        group_commit: merge concurrent ``POST /v1/events`` into one write (``api/batching.py``).
        auth_failures_per_minute: failed authentications one client address may make in a
            minute before it is answered 429 (``api/throttle.py``); 0 turns throttling off.
    """
    from leadgate.api.routes import ROUTERS

    store = store if store is not None else open_store(store_url)
    config = ApiConfig(
        store=store,
        clock=clock or _now,
        max_batch=max_batch,
        max_body_bytes=max_body_bytes,
        tick_seconds=tick_seconds,
        write_lock=threading.Lock() if store.dialect == "sqlite" else None,
        auth_throttle=AuthThrottle(auth_failures_per_minute),
    )
    config.batcher = EventBatcher(config, max_events=max_batch, merge=group_commit)
    if webhooks:
        config.worker = WebhookWorker(
            store, policy=webhook_policy, interval=webhook_interval, clock=config.clock
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if config.worker is not None:
            config.worker.start()
        if config.tick_seconds:
            tasks.append(asyncio.create_task(_tick_loop(config)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if config.worker is not None:
                await run_in_threadpool(config.worker.stop)

    app = FastAPI(
        title="leadgate",
        version=leadgate.__version__,
        summary="Explainable MQL scoring: events in, scores, stages and sales dispositions out.",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc come from packaged assets (no CDN): docs_pages.py
        redoc_url=None,
    )
    add_docs_pages(app)
    app.state.config = config
    # Added before the request-id middleware, so it runs inside it and its refusals carry the id.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    _mount_web(app, config)
    _add_security_scheme(app)
    return app


def _mount_web(app: FastAPI, config: ApiConfig) -> None:
    """The web app's pages under ``/app`` (``leadgate.web``), when Jinja2 is installed."""
    try:
        from leadgate.web import create_web_app
    except ImportError:  # Jinja2 not installed (server or web extra): the API alone
        log.info("jinja2 not installed: the web app under /app is off")
        return
    app.mount("/app", create_web_app(config))


def _add_security_scheme(app: FastAPI) -> None:
    """Declare the bearer scheme the routes' ``security`` entries refer to."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `leadgate keys create --role ROLE`.",
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
