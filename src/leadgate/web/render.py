"""Rendering pages: the Jinja2 environment (autoescaped), the navigation, number formats.

Every value a template prints is escaped unless it is ``Markup`` made by our own code (the SVG
charts in ``web/charts.py`` and the highlighted YAML), so names, titles, URLs and reasons from
users always show as text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from leadgate.web.guard import Viewer, lead_url

# (path, label, permission): the navigation, each entry shown to the roles that may open it.
NAV = (
    ("/app/queue", "Queue", "queue:read"),
    ("/app/accounts", "Accounts", "queue:read"),
    ("/app/leads", "Leads", "leads:read"),
    ("/app/model", "Model", "models:read"),
    ("/app/reports", "Reports", "reports:read"),
    ("/app/settings", "Settings", "admin"),
)


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    number = float(value)
    if number == int(number) and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:,.{digits}f}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}%"


def _when(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    text: str = value.strftime("%Y-%m-%d %H:%M")
    return text


def _hours(value: Any) -> str:
    """A duration in hours as ``3d 4h`` / ``5h 10m`` / ``12m``."""
    if value is None:
        return "–"
    minutes = round(abs(float(value)) * 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = f"{days}d {hours}h" if days else (f"{hours}h {mins:02d}m" if hours else f"{mins}m")
    return ("-" if float(value) < 0 else "") + text


ENV = Environment(
    loader=PackageLoader("leadgate.web", "templates"),
    autoescape=select_autoescape(["html", "svg"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(num=_num, pct=_pct, when=_when, hours=_hours)
ENV.globals.update(lead_url=lead_url)


def page(
    request: Request,
    viewer: Viewer | None,
    template: str,
    *,
    title: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` inside the layout: navigation for the viewer's role, flashes, CSRF."""
    nav = [
        (path, label, path == request.url.path or request.url.path.startswith(path + "/"))
        for path, label, permission in NAV
        if viewer is not None and viewer.may(permission)
    ]
    flashes = viewer.session.take_flashes() if viewer is not None else []
    html = ENV.get_template(template).render(
        viewer=viewer,
        csrf=viewer.csrf if viewer is not None else "",
        nav=nav,
        flashes=flashes,
        title=title,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response
