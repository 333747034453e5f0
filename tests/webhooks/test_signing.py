"""X-Leadgate-Signature: HMAC-SHA256 of the raw body, ``sha256=<hex>``."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from leadgate.webhooks import sign, verify


def test_signature_is_hmac_sha256_of_the_body() -> None:
    body = b'{"id":1,"topic":"lead.mql"}'
    expected = hmac.new(b"s3cret-s3cret-s3cret", body, hashlib.sha256).hexdigest()
    assert sign("s3cret-s3cret-s3cret", body) == f"sha256={expected}"


@given(secret=st.text(min_size=1), body=st.binary(), flip=st.integers(min_value=0))
def test_verify_accepts_only_the_exact_body_and_secret(secret: str, body: bytes, flip: int) -> None:
    header = sign(secret, body)
    assert verify(secret, body, header)
    assert not verify(secret + "x", body, header)
    if body:
        i = flip % len(body)
        tampered = body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :]
        assert not verify(secret, tampered, header)
    assert not verify(secret, body, None)
    assert not verify(secret, body, header.replace("sha256=", "sha1="))
