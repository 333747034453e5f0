"""API keys: creation (shown once), salted hashes at rest, roles, revocation and verification.

A key looks like ``lg_<prefix>_<secret>``. The store keeps only ``prefix`` (to find the row and
to show in listings) and ``sha256$<salt>$<digest>`` of the secret with a per-key random salt. The
secret has 256 bits of entropy, so a fast salted hash is enough (a slow KDF protects guessable
passwords, not random tokens) and verification stays cheap on every request.

Roles (``Role``) are coarse on purpose: ``admin`` (models, keys, webhooks, and everything else),
``marketing`` (events, leads, accounts, reports), ``sales`` (queue, dispositions) and
``read-only``. Which role may call which route is the table in ``leadgate.api.auth``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select, update

from leadgate.errors import IngestError, NotFoundError
from leadgate.store.db import Store
from leadgate.store.schema import api_keys

KEY_PREFIX = "lg_"
# How often ``last_used_at`` is written per key: a write per request would serialise readers.
LAST_USED_EVERY = timedelta(minutes=1)


class FieldError(IngestError):
    """Raised for a bad value of one named field (HTTP 422 naming it; CLI: ``field: message``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, field=field)
        Exception.__init__(self, f"{field}: {message}")


class Role(StrEnum):
    """What a key may do; see ``leadgate.api.auth.PERMISSIONS``."""

    ADMIN = "admin"
    MARKETING = "marketing"
    SALES = "sales"
    READ_ONLY = "read-only"


ROLES = tuple(r.value for r in Role)


@dataclass(frozen=True)
class ApiKey:
    """A stored key as listed (never the secret)."""

    id: int
    name: str
    prefix: str
    role: Role
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class NewKey:
    """A freshly created key: ``token`` is the only time the secret exists in clear."""

    key: ApiKey
    token: str


def parse_role(value: str) -> Role:
    """A role name -> ``Role``; raises ``FieldError`` (field ``role``) for an unknown one."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise FieldError(f"unknown role '{value}' (use {', '.join(ROLES)})", "role") from None


def hash_secret(secret: str, salt: str | None = None) -> str:
    """``sha256$<salt>$<hex digest>`` of ``salt + secret``; a fresh random salt by default."""
    salt = salt if salt is not None else secrets.token_hex(16)
    digest = hashlib.sha256((salt + secret).encode()).hexdigest()
    return f"sha256${salt}${digest}"


def check_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches a stored ``hash_secret`` value (constant-time compare)."""
    try:
        scheme, salt, _digest = stored.split("$", 2)
    except ValueError:
        return False
    if scheme != "sha256":
        return False
    return hmac.compare_digest(hash_secret(secret, salt), stored)


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = token[len(KEY_PREFIX) :].partition("_")
    if not sep or not prefix or not secret:
        return None
    return prefix, secret


def _row_to_key(row: object) -> ApiKey:
    m = row._mapping  # type: ignore[attr-defined]
    return ApiKey(
        id=m["id"],
        name=m["name"],
        prefix=m["prefix"],
        role=Role(m["role"]),
        created_at=m["created_at"],
        created_by=m["created_by"],
        revoked_at=m["revoked_at"],
        last_used_at=m["last_used_at"],
    )


def create_key(
    store: Store,
    role: str | Role,
    *,
    name: str = "",
    created_by: str | None = None,
    now: datetime | None = None,
) -> NewKey:
    """Create a key with ``role``; the returned ``token`` is never stored and never shown again.

    Raises:
        FieldError: unknown role (field ``role``).
    """
    role = parse_role(role) if not isinstance(role, Role) else role
    now = now or datetime.now(UTC)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = f"{KEY_PREFIX}{prefix}_{secret}"
    name = name.strip() or f"{role.value}-{prefix}"
    if len(name) > 200:  # "key:<name>" is the actor of what the key does (255 characters)
        raise FieldError("longer than 200 characters", "name")
    with store.write() as conn:
        key_id = conn.execute(
            api_keys.insert().values(
                name=name,
                prefix=prefix,
                key_hash=hash_secret(secret),
                role=role.value,
                created_at=now,
                created_by=created_by,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    key = ApiKey(key_id, name, prefix, role, now, created_by, None, None)
    return NewKey(key=key, token=token)


def list_keys(store: Store, *, include_revoked: bool = False) -> list[ApiKey]:
    """Every key (without secrets), oldest first."""
    query = select(api_keys).order_by(api_keys.c.id)
    if not include_revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    with store.read() as conn:
        return [_row_to_key(row) for row in conn.execute(query)]


def revoke_key(store: Store, ident: str, *, now: datetime | None = None) -> ApiKey:
    """Revoke a key named by its id, prefix or name; revoking twice is harmless.

    Raises:
        NotFoundError: no key has that id, prefix or name.
    """
    now = now or datetime.now(UTC)
    clauses = [api_keys.c.prefix == ident, api_keys.c.name == ident]
    # ASCII digits only: str.isdigit() is also true for "٣", which int() reads as 3.
    if ident.isascii() and ident.isdigit() and int(ident) < 2**31:  # INTEGER ids
        clauses.append(api_keys.c.id == int(ident))
    with store.write() as conn:
        rows = conn.execute(select(api_keys).where(or_(*clauses))).all()
        if not rows:
            raise NotFoundError(f"no API key with id, prefix or name '{ident}'")
        if len(rows) > 1:
            raise NotFoundError(
                f"'{ident}' names {len(rows)} keys; revoke by id ({', '.join(str(r.id) for r in rows)})"
            )
        key = _row_to_key(rows[0])
        if key.revoked_at is None:
            conn.execute(update(api_keys).where(api_keys.c.id == key.id).values(revoked_at=now))
            key = ApiKey(**{**key.__dict__, "revoked_at": now})
    _CACHE.clear()
    return key


class _KeyCache:
    """Verified tokens for a few seconds, so a request costs no key lookup in the common case.

    Revocation through this process clears it at once; through another process it takes effect
    within ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._items: dict[tuple[str, str], tuple[float, ApiKey]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, token: str) -> ApiKey | None:
        with self._lock:
            hit = self._items.get((url, token))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, url: str, token: str, key: ApiKey) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[(url, token)] = (time.monotonic() + self.ttl, key)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHE = _KeyCache()


def verify_key(store: Store, token: str, *, now: datetime | None = None) -> ApiKey | None:
    """The active key ``token`` belongs to, or ``None`` (unknown, malformed or revoked)."""
    cached = _CACHE.get(store.url, token)
    if cached is not None:
        return cached
    parts = _split(token)
    if parts is None:
        return None
    prefix, secret = parts
    with store.read() as conn:
        rows = conn.execute(
            select(api_keys).where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        ).all()
    match = next((r for r in rows if check_secret(secret, r.key_hash)), None)
    if match is None:
        return None
    key = _row_to_key(match)
    now = now or datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
        with store.write() as conn:
            conn.execute(update(api_keys).where(api_keys.c.id == key.id).values(last_used_at=now))
    _CACHE.put(store.url, token, key)
    return key
