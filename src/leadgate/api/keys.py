"""API keys for the HTTP adapter: re-exported from ``leadgate.service.keys``, where they live.

Key management is library logic (the CLI manages keys too, and adapters never import each
other, STYLE.md section 10); this module keeps ``leadgate.api.keys`` imports working.
"""

from __future__ import annotations

from leadgate.errors import FieldError
from leadgate.service.keys import (
    KEY_PREFIX,
    ROLES,
    ApiKey,
    NewKey,
    Role,
    check_secret,
    create_key,
    hash_secret,
    list_keys,
    parse_duration,
    parse_role,
    revoke_key,
    rotate_key,
    verify_key,
)

__all__ = [
    "KEY_PREFIX",
    "ROLES",
    "ApiKey",
    "FieldError",
    "NewKey",
    "Role",
    "check_secret",
    "create_key",
    "hash_secret",
    "list_keys",
    "parse_duration",
    "parse_role",
    "revoke_key",
    "rotate_key",
    "verify_key",
]
