"""``leadgate serve``: the API under uvicorn, with the webhook worker and the periodic tick.

The worker and the tick run inside the app's lifespan (``create_app(webhooks=True,
tick_seconds=...)``), so they start and stop with the server. Several servers may share one
PostgreSQL store: deliveries are claimed with ``SKIP LOCKED`` and ``tick`` is idempotent.
``--workers N`` runs N such server processes on one listening socket (bound once, then forked:
each process opens its own store connections after the fork); the parent only waits and passes
a stop signal on.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leadgate.api.gc_settle import settle
from leadgate.api.throttle import DEFAULT_FAILURES_PER_MINUTE
from leadgate.errors import LeadgateError
from leadgate.webhooks.delivery import DeliveryPolicy


@dataclass(frozen=True)
class ServeOptions:
    """How to run the server (the ``leadgate serve`` options)."""

    db: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    tick_seconds: float | None = 900.0
    webhooks: bool = True
    webhook_backoff: float = 2.0
    max_batch: int = 1000
    log_level: str = "info"
    access_log: bool = False
    group_commit: bool = True
    auth_failures_per_minute: int = DEFAULT_FAILURES_PER_MINUTE
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    workers: int = 1

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_certfile else "http"


def build_server(options: ServeOptions) -> object:
    """A configured ``uvicorn.Server`` over a fresh app (not started)."""
    import uvicorn

    from leadgate.api.app import create_app

    app = create_app(
        options.db,
        max_batch=options.max_batch,
        webhooks=options.webhooks,
        webhook_policy=DeliveryPolicy(base_seconds=options.webhook_backoff),
        tick_seconds=options.tick_seconds,
        group_commit=options.group_commit,
        auth_failures_per_minute=options.auth_failures_per_minute,
    )
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        access_log=options.access_log,
        lifespan="on",
        ssl_certfile=options.ssl_certfile,
        ssl_keyfile=options.ssl_keyfile,
    )
    return uvicorn.Server(config)


def _ready(server: Any) -> None:
    """Before listening: the published model compiled (``service.accounts.warm_up``), then what
    start-up made set aside from the garbage collector (``gc_settle``)."""
    from leadgate.service.accounts import warm_up

    warm_up(server.config.app.state.config.store)
    settle()


def check_tls(options: ServeOptions) -> None:
    """Refuse half a TLS configuration, unreadable files or a negative failed-authentication
    limit before the server starts.

    Raises:
        LeadgateError: naming the option at fault.
    """
    import ssl

    if options.workers < 1:
        raise LeadgateError("--workers: must be 1 or more")
    if options.auth_failures_per_minute < 0:
        raise LeadgateError("--auth-failures: must be 0 (no limit) or more")
    if bool(options.ssl_certfile) != bool(options.ssl_keyfile):
        given = "--ssl-certfile" if options.ssl_certfile else "--ssl-keyfile"
        missing = "--ssl-keyfile" if options.ssl_certfile else "--ssl-certfile"
        raise LeadgateError(f"{given} needs {missing} too")
    if not options.ssl_certfile:
        return
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(options.ssl_certfile, options.ssl_keyfile)
    except FileNotFoundError as exc:
        raise LeadgateError(f"--ssl-certfile/--ssl-keyfile: no such file: {exc.filename}") from None
    except (ssl.SSLError, OSError) as exc:
        raise LeadgateError(
            f"--ssl-certfile/--ssl-keyfile: not a PEM certificate and its private key ({exc})"
        ) from None


def serve(options: ServeOptions, announce: Callable[[str], None] | None = None) -> None:
    """Run the API until interrupted; ``announce`` receives the lines saying where it listens."""
    logging.basicConfig(level=getattr(logging, options.log_level.upper(), logging.INFO))
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migrations on open: not news
    check_tls(options)
    if announce is not None:
        base = f"{options.scheme}://{_host_for_url(options.host)}:{options.port}"
        announce(f"leadgate API on {base}")
        announce(f"  OpenAPI schema: {base}/openapi.json")
        announce(f"  interactive docs: {base}/docs")
        announce(f"  web app: {base}/app (sign in with an API key)")
        announce(f"  health: {base}/healthz")
        if options.workers > 1:
            announce(f"  {options.workers} worker processes")
    if options.workers > 1:
        _run_workers(options)
        return
    server = build_server(options)
    _ready(server)
    server.run()  # type: ignore[attr-defined]


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening, for uvicorn's ``sockets=``.

    Its proto is named: asyncio disables Nagle's algorithm (TCP_NODELAY) only on sockets whose
    proto is TCP, and accepted sockets copy the listener's. With proto 0 (``create_server``'s)
    every response on a kept-alive connection waited ~40 ms for the client's delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    return socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fileno=sock.detach())


def _run_workers(options: ServeOptions) -> None:
    """Bind once, fork ``options.workers`` servers on that socket, wait for them all.

    A stop signal to this process (SIGTERM, or SIGINT) reaches each worker as SIGTERM: a
    graceful shutdown. (SIGINT is not passed on as SIGINT: from a terminal the workers get their
    own, and a second SIGINT makes uvicorn quit without finishing requests.)
    """
    import contextlib
    import os
    import signal

    sock = listening_socket(options.host, options.port)
    sock.set_inheritable(True)
    children: list[int] = []
    for _ in range(options.workers):
        pid = os.fork()
        if pid == 0:  # the worker: its own app, store connections and event loop
            code = 0
            try:
                server = build_server(options)
                _ready(server)
                server.run(sockets=[sock])  # type: ignore[attr-defined]
            except BaseException:  # reported by uvicorn's logging: the worker exits non-zero
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    sock.close()

    def stop(signum: int, frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue


def _host_for_url(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
