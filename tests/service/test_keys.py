"""Key lifecycle in the library: expiry, rotation with an overlap, last use, audit rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadgate.errors import ConflictError, NotFoundError
from leadgate.service.keys import (
    FieldError,
    create_key,
    list_keys,
    parse_duration,
    revoke_key,
    rotate_key,
    verify_key,
)
from leadgate.store import Store
from leadgate.store.audit import list_audit

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "delta"),
    [("30d", timedelta(days=30)), ("24h", 24 * H), (" 90m ", timedelta(minutes=90)),
     ("2w", timedelta(weeks=2)), ("0s", timedelta(0))],
)  # fmt: skip
def test_durations(text: str, delta: timedelta) -> None:
    assert parse_duration(text, "--expires-in") == delta


@pytest.mark.parametrize("text", ["", "30", "d", "1.5d", "-3d", "3 days", "٣d", "9999999999d"])
def test_bad_durations_name_the_option(text: str) -> None:
    with pytest.raises(FieldError, match=r"^--overlap: "):
        parse_duration(text, "--overlap")


def test_a_key_expires(store: Store) -> None:
    made = create_key(store, "sales", name="temp", now=T0, expires_in=timedelta(days=30))
    assert made.key.expires_at == T0 + timedelta(days=30)
    assert verify_key(store, made.token, now=T0 + timedelta(days=29)) is not None
    # Refused from the expiry instant on, cached or not.
    assert verify_key(store, made.token, now=T0 + timedelta(days=30)) is None
    (listed,) = list_keys(store)
    assert listed.status(T0 + timedelta(days=31)) == "expired"
    assert listed.last_used_at == T0 + timedelta(days=29)
    with pytest.raises(FieldError, match="expires_in: must be longer than zero"):
        create_key(store, "sales", now=T0, expires_in=timedelta(0))


def test_rotation_overlaps_then_the_old_key_stops(store: Store) -> None:
    old = create_key(store, "marketing", name="forms", now=T0, expires_in=timedelta(days=90))
    new = rotate_key(store, "forms", overlap=24 * H, now=T0 + H, actor="cli:ops")
    assert new.token != old.token and (new.key.name, new.key.role) == ("forms", old.key.role)
    assert new.key.expires_at == T0 + H + timedelta(days=90)  # the same lifetime, from now
    during = T0 + 20 * H
    assert verify_key(store, old.token, now=during) is not None
    assert verify_key(store, new.token, now=during) is not None
    after = T0 + 26 * H
    assert verify_key(store, old.token, now=after) is None
    assert verify_key(store, new.token, now=after) is not None
    with pytest.raises(ConflictError, match=f"already rotated to key {new.key.id}"):
        rotate_key(store, str(old.key.id), now=T0 + 2 * H)
    # By name, a second rotation means the current key.
    third = rotate_key(store, "forms", overlap=timedelta(0), now=T0 + 3 * H)
    assert verify_key(store, new.token, now=T0 + 3 * H) is None  # overlap 0: at once
    assert verify_key(store, third.token, now=T0 + 3 * H) is not None


def test_rotation_refuses_expired_and_unknown_keys(store: Store) -> None:
    made = create_key(store, "sales", name="x", now=T0, expires_in=H)
    with pytest.raises(ConflictError, match="has expired"):
        rotate_key(store, "x", now=T0 + 2 * H)
    revoke_key(store, "x", now=T0 + 2 * H)
    with pytest.raises(NotFoundError):
        rotate_key(store, str(made.key.id), now=T0 + 3 * H)
    with pytest.raises(NotFoundError):
        revoke_key(store, "٣")  # a non-ASCII digit is not key 3


def test_key_changes_are_audited_with_who(store: Store) -> None:
    create_key(store, "admin", name="root", created_by="cli:alice", now=T0)
    rotate_key(store, "root", now=T0 + H, actor="key:root", by_key=1)
    revoke_key(store, "1", now=T0 + 2 * H, actor="cli:bob")
    revoke_key(store, "1", now=T0 + 3 * H, actor="cli:bob")  # twice: audited once
    rows = list_audit(store, action="key")
    assert [(r.action, r.actor, r.key_id, r.target) for r in rows] == [
        ("key.revoke", "cli:bob", None, "1"),
        ("key.rotate", "key:root", 1, "1"),
        ("key.create", "cli:alice", None, "1"),
    ]
    assert all("token" not in str(r.details) and "hash" not in str(r.details) for r in rows)
