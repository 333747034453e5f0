"""API keys: creation (shown once), salted hashes at rest, roles, expiry, rotation, revocation and
verification. The CLI (``leadgate keys``) and the HTTP API (``/v1/keys``) both call this module.

A key looks like ``lg_<prefix>_<secret>``. The store keeps only ``prefix`` (to find the row and
to show in listings) and ``sha256$<salt>$<digest>`` of the secret with a per-key random salt. The
secret has 256 bits of entropy, so a fast salted hash is enough (a slow KDF protects guessable
passwords, not random tokens) and verification stays cheap on every request.

Roles (``Role``) are coarse on purpose: ``admin`` (models, keys, webhooks, and everything else),
``marketing`` (events, leads, accounts, reports), ``sales`` (queue, dispositions) and
``read-only``. Which role may call which route is the table in ``leadgate.api.auth``.

A key may expire (``expires_at``; refused from that instant on). ``rotate_key`` makes a new key
with the same name and role and lets the old one live on for an overlap period (it gets an
``expires_at`` and ``replaced_by``), so clients can switch without an outage. ``last_used_at`` is
written at most once a minute per key. Creating, revoking and rotating are audited
(``store/audit.py``) in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, or_, select, update

from leadgate.errors import ConflictError, FieldError, NotFoundError
from leadgate.store.audit import Actor, record_audit
from leadgate.store.db import Store
from leadgate.store.schema import api_keys

KEY_PREFIX = "lg_"
# How often ``last_used_at`` is written per key: a write per request would serialise readers.
LAST_USED_EVERY = timedelta(minutes=1)
DEFAULT_OVERLAP = timedelta(hours=24)
_DURATION = re.compile(r"^\s*([0-9]{1,7})\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


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
    expires_at: datetime | None = None
    replaced_by: int | None = None

    @property
    def active(self) -> bool:
        """Not revoked (an expired key is still listed as active until it is revoked)."""
        return self.revoked_at is None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def status(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expired(now) else "active"


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


def parse_duration(value: str, field: str) -> timedelta:
    """``30d``, ``24h``, ``90m``, ``2w``, ``3600s`` -> a ``timedelta``; ``FieldError`` naming
    ``field`` for anything else."""
    match = _DURATION.match(value)
    if match is None:
        raise FieldError(
            f"expected a whole number with a unit s, m, h, d or w (e.g. 30d, 24h), got {value!r}",
            field,
        )
    amount, unit = int(match.group(1)), match.group(2)
    try:
        return timedelta(**{_UNITS[unit]: amount})
    except OverflowError:
        raise FieldError(f"{value!r} is too long", field) from None


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
        expires_at=m["expires_at"],
        replaced_by=m["replaced_by"],
    )


def _new_secret() -> tuple[str, str, str]:
    """(prefix, secret, token) of a fresh key."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return prefix, secret, f"{KEY_PREFIX}{prefix}_{secret}"


def _expiry(now: datetime, expires_in: timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    if expires_in <= timedelta(0):
        raise FieldError("must be longer than zero", "expires_in")
    try:
        return now + expires_in
    except OverflowError:
        raise FieldError("is too long", "expires_in") from None


def create_key(
    store: Store,
    role: str | Role,
    *,
    name: str = "",
    created_by: str | None = None,
    now: datetime | None = None,
    expires_in: timedelta | None = None,
    by_key: int | None = None,
) -> NewKey:
    """Create a key with ``role``; the returned ``token`` is never stored and never shown again.

    Args:
        created_by: who creates it (``key:<name>`` or ``cli:<user>``); also the audit actor.
        expires_in: the key is refused this long after ``now`` (default: never expires).
        by_key: the id of the API key that asked (audit), ``None`` from the command line.

    Raises:
        FieldError: unknown role (``role``), name too long (``name``), bad ``expires_in``.
    """
    role = parse_role(role) if not isinstance(role, Role) else role
    now = now or datetime.now(UTC)
    expires_at = _expiry(now, expires_in)
    prefix, secret, token = _new_secret()
    name = name.strip() or f"{role.value}-{prefix}"
    if len(name) > 200:  # "key:<name>" is the actor of what the key does (255 characters)
        raise FieldError("longer than 200 characters", "name")
    with store.write() as conn:
        key_id = _insert_key(conn, name, prefix, secret, role, now, created_by, expires_at)
        record_audit(
            conn, Actor(created_by or "system", by_key), "key.create", at=now,
            target=key_id, details={"name": name, "role": role.value, "prefix": prefix,
                                    "expires_at": _iso(expires_at)},
        )  # fmt: skip
    key = ApiKey(key_id, name, prefix, role, now, created_by, None, None, expires_at)
    return NewKey(key=key, token=token)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _insert_key(
    conn: Connection,
    name: str,
    prefix: str,
    secret: str,
    role: Role,
    now: datetime,
    created_by: str | None,
    expires_at: datetime | None,
) -> int:
    return int(
        conn.execute(
            api_keys.insert().values(
                name=name, prefix=prefix, key_hash=hash_secret(secret), role=role.value,
                created_at=now, created_by=created_by, expires_at=expires_at,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )  # fmt: skip


def list_keys(store: Store, *, include_revoked: bool = False) -> list[ApiKey]:
    """Every key (without secrets), oldest first."""
    query = select(api_keys).order_by(api_keys.c.id)
    if not include_revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    with store.read() as conn:
        return [_row_to_key(row) for row in conn.execute(query)]


def _find_key(conn: Connection, ident: str, verb: str, *, active_only: bool = False) -> ApiKey:
    """The one key named by id, prefix or name (``active_only``: among keys not revoked)."""
    clauses = [api_keys.c.prefix == ident, api_keys.c.name == ident]
    # isascii: str.isdigit accepts non-ASCII digits ("٣") that int() turns into 3.
    if ident.isascii() and ident.isdigit() and len(ident) < 19:
        clauses.append(api_keys.c.id == int(ident))
    q = select(api_keys).where(or_(*clauses))
    if active_only:
        q = q.where(api_keys.c.revoked_at.is_(None))
    rows = conn.execute(q).all()
    if not rows:
        raise NotFoundError(f"no API key with id, prefix or name '{ident}'")
    if len(rows) > 1:
        exact = [r for r in rows if str(r.id) == ident]
        if len(exact) == 1:
            return _row_to_key(exact[0])
        # After a rotation the old and the new key share the name; rotating again means the new.
        current = [r for r in rows if r.replaced_by is None]
        if active_only and len(current) == 1:
            return _row_to_key(current[0])
        raise NotFoundError(
            f"'{ident}' names {len(rows)} keys; {verb} by id ({', '.join(str(r.id) for r in rows)})"
        )
    return _row_to_key(rows[0])


def revoke_key(
    store: Store,
    ident: str,
    *,
    now: datetime | None = None,
    actor: str = "system",
    by_key: int | None = None,
) -> ApiKey:
    """Revoke a key named by its id, prefix or name; revoking twice is harmless (audited once).

    Raises:
        NotFoundError: no key has that id, prefix or name.
    """
    now = now or datetime.now(UTC)
    with store.write() as conn:
        key = _find_key(conn, ident, "revoke")
        if key.revoked_at is None:
            conn.execute(update(api_keys).where(api_keys.c.id == key.id).values(revoked_at=now))
            key = ApiKey(**{**key.__dict__, "revoked_at": now})
            record_audit(
                conn, Actor(actor, by_key), "key.revoke", at=now, target=key.id,
                details={"name": key.name, "role": key.role.value, "prefix": key.prefix},
            )  # fmt: skip
    _CACHE.clear()
    return key


def rotate_key(
    store: Store,
    ident: str,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    now: datetime | None = None,
    actor: str = "system",
    by_key: int | None = None,
) -> NewKey:
    """Replace a key by a new one with the same name and role; the old one keeps working for
    ``overlap`` (then it is refused like an expired key).

    The new key gets the old key's lifetime (``expires_at - created_at``) from ``now`` when the
    old one had an expiry, else none. An old key that expires sooner than the overlap keeps its
    earlier expiry.

    Raises:
        NotFoundError: no active key has that id, prefix or name.
        ConflictError: the key was already rotated (rotate its successor) or has expired.
        FieldError: a negative ``overlap`` (field ``overlap``).
    """
    now = now or datetime.now(UTC)
    if overlap < timedelta(0):
        raise FieldError("must not be negative", "overlap")
    with store.write() as conn:
        old = _find_key(conn, ident, "rotate", active_only=True)
        if old.replaced_by is not None:
            raise ConflictError(
                f"key {old.id} was already rotated to key {old.replaced_by}; rotate that one"
            )
        if old.expired(now):
            raise ConflictError(f"key {old.id} has expired; create a new key instead")
        lifetime = None if old.expires_at is None else old.expires_at - old.created_at
        expires_at = None if lifetime is None else now + lifetime
        prefix, secret, token = _new_secret()
        new_id = _insert_key(conn, old.name, prefix, secret, old.role, now, actor, expires_at)
        try:
            ends = now + overlap
        except OverflowError:
            raise FieldError("is too long", "overlap") from None
        if old.expires_at is not None and old.expires_at < ends:
            ends = old.expires_at
        conn.execute(
            update(api_keys)
            .where(api_keys.c.id == old.id)
            .values(expires_at=ends, replaced_by=new_id)
        )
        record_audit(
            conn, Actor(actor, by_key), "key.rotate", at=now, target=old.id,
            details={"name": old.name, "role": old.role.value, "new_key": new_id,
                     "new_prefix": prefix, "old_expires_at": ends.isoformat()},
        )  # fmt: skip
    _CACHE.clear()
    key = ApiKey(new_id, old.name, prefix, old.role, now, actor, None, None, expires_at)
    return NewKey(key=key, token=token)


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
    """The active key ``token`` belongs to, or ``None`` (unknown, malformed, revoked or expired)."""
    now = now or datetime.now(UTC)
    cached = _CACHE.get(store.url, token)
    if cached is not None:
        # The cache never outlives an expiry: it is checked on every hit.
        return None if cached.expired(now) else cached
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
    if key.expired(now):
        return None
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
        with store.write() as conn:
            conn.execute(update(api_keys).where(api_keys.c.id == key.id).values(last_used_at=now))
    _CACHE.put(store.url, token, key)
    return key
