"""API keys at rest: salted hashes only, verification, revocation."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from leadgate.api.keys import (
    check_secret,
    create_key,
    hash_secret,
    list_keys,
    parse_role,
    revoke_key,
    verify_key,
)
from leadgate.errors import IngestError, NotFoundError
from leadgate.store import Store, open_store
from leadgate.store.schema import api_keys


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(str(tmp_path / "keys.db"))


def test_only_a_salted_hash_is_stored(store: Store) -> None:
    made = create_key(store, "marketing", name="forms")
    token = made.token
    assert token.startswith(f"lg_{made.key.prefix}_")
    with store.read() as conn:
        (row,) = conn.execute(select(api_keys)).all()
    secret = token.split("_", 2)[2]
    assert token not in repr(tuple(row)) and secret not in repr(tuple(row))
    scheme, salt, digest = row.key_hash.split("$")
    assert scheme == "sha256" and len(salt) == 32 and len(digest) == 64
    assert check_secret(secret, row.key_hash)
    assert not check_secret(secret + "x", row.key_hash)
    assert hash_secret(secret) != hash_secret(secret)  # a fresh salt each time
    assert not check_secret(secret, "md5$x$y") and not check_secret(secret, "garbage")


def test_verify_finds_the_active_key(store: Store) -> None:
    made = create_key(store, "sales")
    key = verify_key(store, made.token)
    assert key is not None and key.role.value == "sales"
    for bad in ("", "lg_", "lg_x", f"lg_{made.key.prefix}_wrong", "Bearer " + made.token):
        assert verify_key(store, bad) is None
    assert list_keys(store)[0].last_used_at is not None


def test_revoke_by_id_prefix_or_name(store: Store) -> None:
    a = create_key(store, "admin", name="a")
    b = create_key(store, "sales", name="b")
    c = create_key(store, "read-only", name="c")
    revoke_key(store, str(a.key.id))
    revoke_key(store, b.key.prefix)
    revoke_key(store, "c")
    assert revoke_key(store, "c").revoked_at is not None  # twice is harmless
    assert [verify_key(store, k.token) for k in (a, b, c)] == [None, None, None]
    assert list_keys(store) == []
    assert len(list_keys(store, include_revoked=True)) == 3
    with pytest.raises(NotFoundError, match="no API key with id, prefix or name 'zz'"):
        revoke_key(store, "zz")


def test_ambiguous_names_must_be_revoked_by_id(store: Store) -> None:
    create_key(store, "sales", name="team")
    create_key(store, "sales", name="team")
    with pytest.raises(NotFoundError, match=r"'team' names 2 keys; revoke by id \(1, 2\)"):
        revoke_key(store, "team")


def test_unknown_role_names_the_field(store: Store) -> None:
    with pytest.raises(
        IngestError,
        match=r"^role: unknown role 'owner' \(use admin, marketing, sales, read-only\)$",
    ):
        create_key(store, "owner")
    assert parse_role(" Read-Only ").value == "read-only"
