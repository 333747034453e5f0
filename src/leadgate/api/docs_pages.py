"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc``, from packaged assets.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so they are blank on a machine without
internet access. The ``fastapi-offline`` package ships both bundles (and a favicon); they are
served here under ``/docs/assets`` and the pages name nothing but this server's own URLs (no
web fonts, no validator badge).
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def add_docs_pages(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` for ``app`` (created with ``docs_url=None,
    redoc_url=None``) from the bundled assets; both pages are public, like the schema."""
    static = files("fastapi_offline") / "static"
    app.mount(ASSETS, StaticFiles(directory=str(static)), name="docs-assets")
    # Swagger UI shows a badge from an online validator unless told not to.
    app.swagger_ui_parameters = {**(app.swagger_ui_parameters or {}), "validatorUrl": None}

    def _root(request: Request) -> str:
        return str(request.scope.get("root_path", ""))

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            oauth2_redirect_url=None,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
