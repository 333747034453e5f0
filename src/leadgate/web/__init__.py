"""The web app: server-rendered pages for sales, marketing and RevOps, mounted under ``/app``.

``create_web_app(config)`` builds it over the API's ``ApiConfig`` (same store, clock, write queue
and keys); ``leadgate.api.app.create_app`` mounts it. Pages render Jinja2 templates from the
service layer's answers (``leadgate.service``, ``leadgate.report``); forms are plain HTML forms
(every page works without JavaScript); static files (CSS, a small script) come from the package.
"""

from __future__ import annotations

from leadgate.web.app import create_web_app

__all__ = ["create_web_app"]
