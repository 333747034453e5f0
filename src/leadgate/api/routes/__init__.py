"""The API's routes, one module per resource; ``ROUTERS`` is what ``create_app`` mounts."""

from __future__ import annotations

from leadgate.api.routes import admin, events, health, leads, models

ROUTERS = [health.router, events.router, leads.router, models.router, admin.router]

__all__ = ["ROUTERS"]
