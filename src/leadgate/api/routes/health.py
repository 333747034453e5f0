"""``GET /healthz``: liveness, without authentication and without touching the store."""

from __future__ import annotations

from fastapi import APIRouter

import leadgate
from leadgate.api.auth import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The server is up (no key needed)."""
    return {"status": "ok", "version": leadgate.__version__}
