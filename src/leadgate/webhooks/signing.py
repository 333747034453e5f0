"""HMAC-SHA256 signatures of webhook bodies: ``X-Leadgate-Signature: sha256=<hex>``.

The signature covers the raw request body, byte for byte, keyed by the webhook's secret. The
body carries the delivery's ``id`` and ``created_at``, so a receiver can drop replays by id.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Leadgate-Signature"


def sign(secret: str, body: bytes) -> str:
    """The header value for ``body``: ``sha256=`` + hex HMAC-SHA256 keyed by ``secret``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is a valid signature of ``body`` under ``secret`` (constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, body), header.strip())
