"""Webhooks: signed JSON POSTs to configured URLs for each MQL and each sales disposition.

The service writes an ``outbox`` row in the same transaction as the transition it announces;
``delivery`` fans each row out to the active webhooks and delivers it with retries and
exponential backoff (at least once, surviving restarts); ``signing`` makes and checks the
``X-Leadgate-Signature`` header; ``registry`` adds, lists and removes webhook URLs.
"""

from __future__ import annotations

from leadgate.webhooks.signing import SIGNATURE_HEADER, sign, verify

__all__ = ["SIGNATURE_HEADER", "sign", "verify"]
