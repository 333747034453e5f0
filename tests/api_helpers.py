"""Real parts for API and webhook tests: a webhook receiver and a uvicorn server on loopback.

``Receiver`` is a tiny threaded HTTP server that records every POST (and can fail the first N
with 500, or all of them while ``down``); ``LiveServer`` runs ``create_app`` under a real uvicorn
in a thread on a socket bound to a free port; ``Clock`` is a settable "now" for the app.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from leadgate.api.keys import ROLES, create_key
from leadgate.store import Store


class Clock:
    """A settable clock for ``create_app(clock=...)``; ``advance`` moves it forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def role_keys(store: Store) -> dict[str, str]:
    """One fresh API key per role: role -> token."""
    return {role: create_key(store, role, name=f"test-{role}").token for role in ROLES}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records webhook POSTs; answers 500 to the first ``fail_first`` ones, or all while ``down``."""

    fail_first: int = 0
    down: bool = False
    port: int = 0  # 0: any free port
    hits: list[Hit] = field(default_factory=list)
    failures: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._cond:
                    fail = receiver.down or receiver.failures < receiver.fail_first
                    if fail:
                        receiver.failures += 1
                    else:
                        receiver.hits.append(Hit(self.path, dict(self.headers.items()), body))
                    receiver._cond.notify_all()
                self.send_response(500 if fail else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Hit]:
        """Block until ``count`` successful POSTs arrived (or fail after ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.hits) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} webhook(s), got {len(self.hits)}")
                self._cond.wait(left)
            return list(self.hits)


@contextmanager
def receiver(**kwargs: Any) -> Iterator[Receiver]:
    r = Receiver(**kwargs).start()
    try:
        yield r
    finally:
        r.stop()


def free_socket() -> socket.socket:
    """A listening-ready TCP socket bound to a free loopback port (no race with other tests)."""
    # proto named: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto is TCP, and
    # accepted sockets copy the listener's. With proto 0, uvicorn's separate writes of headers
    # and body met the client's delayed ACK: every response on a kept-alive connection waited
    # ~40 ms (schemathesis' thousands of requests spent most of their time waiting).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(store_url: str, **app_kwargs: Any) -> Iterator[str]:
    """Run ``create_app(store_url, **app_kwargs)`` under uvicorn in a thread; yield its base URL."""
    import uvicorn

    from leadgate.api.app import create_app

    app = create_app(store_url, **app_kwargs)
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        app.state.config.store.close()


def port_in(first: int, last: int) -> int:
    """A free loopback port in ``first..last`` (a test's agreed range on a shared machine).

    Tried in random order: two test workers scanning from ``first`` would both pick the same
    free port, and one's clients would then talk to the other's server.
    """
    ports = list(range(first, last + 1))
    random.shuffle(ports)
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}..{last}")


@contextmanager
def served(db: str, port: int, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """A real ``leadgate serve`` process on ``port`` (no periodic tick); yields its base URL.

    Stopped with SIGTERM afterwards; its output is returned in the error if it fails to start.
    """
    with served_together(db, [port], *extra, env=env) as (base,):
        yield base


@contextmanager
def served_together(
    db: str, ports: list[int], *extra: str, env: dict[str, str] | None = None
) -> Iterator[list[str]]:
    """``leadgate serve`` processes on ``ports`` sharing the store ``db``, all started before
    waiting for the first (their start-ups, ~1.5 CPU-s of imports each, overlap); yields their
    base URLs once each answers on its own port. Stopped with SIGTERM afterwards."""
    import os
    import subprocess
    import sys

    procs: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            cmd = [sys.executable, "-m", "leadgate", "serve", "--db", db, "--port", str(port),
                   "--tick-seconds", "0", "--log-level", "warning", *extra]  # fmt: skip
            procs.append(
                subprocess.Popen(
                    cmd,
                    env={**os.environ, **(env or {})},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            )
        for proc, port in zip(procs, ports, strict=True):
            _wait_serving(proc, port)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            if proc.stdout:
                proc.stdout.close()


def _wait_serving(proc: Any, port: int) -> None:
    """Until ``proc`` answers ``/healthz`` on ``port`` from a socket of its own (another
    server on the port would answer too; ours would then fail to bind and exit)."""
    import httpx

    def exited() -> RuntimeError:
        out = proc.stdout.read().decode() if proc.stdout else ""
        return RuntimeError(f"leadgate serve exited: {out}")

    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise exited()
        try:
            answered = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            answered = False
        if answered:
            owner = _listens(proc.pid, port)
            if owner is None:  # no /proc to tell: give a server that could not bind time to exit
                time.sleep(0.3)
                if proc.poll() is not None:
                    raise exited()
                return
            if owner:
                return
        if time.monotonic() > deadline:
            raise RuntimeError("leadgate serve did not come up")
        time.sleep(0.1)


def _listens(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` holds the socket listening on loopback ``port`` (Linux's /proc;
    None where there is none)."""
    import os
    from pathlib import Path

    try:
        rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    # Columns: sl, local address (hex ip:port), remote, state (0A: LISTEN), ..., inode (10th).
    sockets = {
        f"socket:[{r[9]}]" for r in rows if r[3] == "0A" and int(r[1].split(":")[1], 16) == port
    }
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in sockets:
                return True
        except OSError:
            continue
    return False
