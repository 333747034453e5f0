"""Schemathesis hooks for ``test_schemathesis.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

The run authenticates with one admin key; a generated ``DELETE /v1/keys/{ident}`` that names it
(by id, prefix or name) would revoke it and turn every later case into a 401. Such cases are
skipped; every other key, including those the run creates itself, may be revoked.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

PROTECTED = {p for p in os.environ.get("LEADGATE_ST_PROTECTED", "").split(",") if p}


def _names_protected(ident: str) -> bool:
    text = ident.strip()
    if text in PROTECTED:
        return True
    return text.isascii() and text.isdigit() and str(int(text)) in PROTECTED


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    if case.method.upper() == "DELETE" and case.operation.path == "/v1/keys/{ident}":
        ident = (case.path_parameters or {}).get("ident")
        return not (isinstance(ident, str) and _names_protected(ident))
    return True
