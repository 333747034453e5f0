"""Server-side sessions of the web app: sign-in with an API key, expiry, CSRF tokens, flashes.

The browser holds only a random session id (cookie ``lg_session``: HttpOnly, SameSite=Strict,
Secure when the request came over https). The API key the user signed in with stays in server
memory and is verified again on every request (``verify_key`` caches it for a few seconds), so a
revoked key ends its sessions within that time. Each session has its own CSRF token, which every
form carries and every POST must return (``check_csrf``).

Sessions live in the server process: a restart signs everyone out, and several servers behind a
load balancer need sticky sessions (the store holds no session).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

COOKIE = "lg_session"
PRE_COOKIE = "lg_presession"  # CSRF token of the sign-in form, before any session exists
IDLE_SECONDS = 8 * 3600  # signed out after this long without a request
MAX_SECONDS = 12 * 3600  # and after this long in any case (a working day)
MAX_SESSIONS = 10_000


@dataclass
class Session:
    """One signed-in browser: the key's token (server side only), CSRF token, times, flashes."""

    sid: str
    token: str
    csrf: str
    created: float
    seen: float
    flashes: list[tuple[str, str]] = field(default_factory=list)
    draft: str | None = None  # the model page's draft YAML, kept while the session lasts

    def flash(self, kind: str, text: str) -> None:
        """A message for the next page shown (``kind``: ok or error)."""
        self.flashes.append((kind, text))

    def take_flashes(self) -> list[tuple[str, str]]:
        out, self.flashes = self.flashes, []
        return out


class Sessions:
    """The sessions of one web app, by id; thread-safe (views run in a thread pool)."""

    def __init__(self, idle: float = IDLE_SECONDS, longest: float = MAX_SECONDS) -> None:
        self.idle = idle
        self.longest = longest
        self._items: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, token: str) -> Session:
        now = time.monotonic()
        session = Session(secrets.token_urlsafe(32), token, secrets.token_urlsafe(32), now, now)
        with self._lock:
            if len(self._items) >= MAX_SESSIONS:
                self._expire(now)
            self._items[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        """The live session ``sid`` names (its idle clock restarts), or ``None``."""
        if not sid:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._items.get(sid)
            if session is None:
                return None
            if now - session.seen > self.idle or now - session.created > self.longest:
                del self._items[sid]
                return None
            session.seen = now
            return session

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._items.pop(sid or "", None)

    def _expire(self, now: float) -> None:
        for sid, s in list(self._items.items()):
            if now - s.seen > self.idle or now - s.created > self.longest:
                del self._items[sid]
        if len(self._items) >= MAX_SESSIONS:  # still full: the oldest go first
            for sid in sorted(self._items, key=lambda k: self._items[k].seen)[: MAX_SESSIONS // 10]:
                del self._items[sid]


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the expected one."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
