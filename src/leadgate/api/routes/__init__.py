"""The API's routes, one module per resource; ``ROUTERS`` is what ``create_app`` mounts."""

from __future__ import annotations

from fastapi.routing import APIRoute

from leadgate.api.routes import accounts, admin, events, health, leads, models, privacy, reports

ROUTERS = [
    health.router,
    events.router,
    leads.router,
    models.router,
    reports.router,
    admin.router,
    privacy.router,
    accounts.router,
]

__all__ = ["ROUTERS", "api_routes"]


def api_routes() -> list[APIRoute]:
    """Every route the API serves (the routers are mounted without prefixes)."""
    return [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
