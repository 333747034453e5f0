"""``leadgate keys ...``, ``leadgate webhooks ...`` and ``leadgate serve``'s announcement."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("httpx", reason="leadgate serve needs the 'server' extra")

import httpx

from api_helpers import free_port
from leadgate.api.keys import verify_key
from leadgate.cli import _register, app
from leadgate.store import open_store

runner = CliRunner()
if not any(c.name == "serve" for c in app.registered_commands):  # once per test process
    _register()


def _run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env)


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    made = _run("keys", "create", "--role", "sales", "--name", "crm", "--db", db)
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    store = open_store(db)
    assert verify_key(store, token) is not None
    listed = _run("keys", "list", "--json", "--db", db)
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["role"], r["active"]) for r in rows] == [("crm", "sales", True)]
    assert token not in listed.stdout
    assert _run("keys", "revoke", "crm", "--db", db).exit_code == 0
    assert verify_key(store, token) is None
    store.close()


def test_keys_honour_leadgate_db(tmp_path: Path) -> None:
    db = str(tmp_path / "env.db")
    assert _run("keys", "create", "--role", "admin", env={"LEADGATE_DB": db}).exit_code == 0
    assert len(json.loads(_run("keys", "list", "--json", "--db", db).stdout)) == 1


def test_bad_role_is_a_one_line_user_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "leadgate", "keys", "create", "--role", "boss", "--db", str(tmp_path / "x.db")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "role: unknown role 'boss'" in result.stderr
    assert "Traceback" not in result.stderr


def test_webhooks_add_list_remove(tmp_path: Path) -> None:
    db = str(tmp_path / "w.db")
    added = _run("webhooks", "add", "https://crm.example.com/h", "--topic", "lead.mql", "--db", db)
    assert added.exit_code == 0, added.output
    assert "secret: " in added.stdout  # generated, shown once
    given = _run(
        "webhooks", "add", "http://127.0.0.1:9/x", "--secret", "0123456789abcdef", "--db", db
    )
    assert "secret:" not in given.stdout
    rows = json.loads(_run("webhooks", "list", "--json", "--db", db).stdout)
    assert [(r["url"], r["topics"]) for r in rows] == [
        ("https://crm.example.com/h", ["lead.mql"]),
        ("http://127.0.0.1:9/x", []),
    ]
    assert _run("webhooks", "remove", str(rows[0]["id"]), "--db", db).exit_code == 0
    assert len(json.loads(_run("webhooks", "list", "--json", "--db", db).stdout)) == 1
    assert "queued 0, delivered 0" in _run("webhooks", "deliver", "--db", db).stdout


def test_serve_prints_where_the_schema_and_docs_are(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadgate", "serve", "--port", str(port), "--db", str(tmp_path / "s.db")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert_docs_pages_work_offline(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert f"OpenAPI schema: http://127.0.0.1:{port}/openapi.json" in out
    assert f"interactive docs: http://127.0.0.1:{port}/docs" in out
    assert "no model published yet" in err
    assert "no API keys yet" in err


def assert_docs_pages_work_offline(base: str) -> None:
    """/docs and /redoc name only this server's URLs (no CDN, no web fonts), and each answers."""
    for page, needs in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = httpx.get(base + page, timeout=10)
        assert html.status_code == 200 and needs in html.text
        assert not re.search(r"(https?:)?//[a-z0-9]", html.text, re.IGNORECASE), html.text
        urls = re.findall(r"(?:src|href|spec-url)=\"([^\"]+)\"|url: '([^']+)'", html.text)
        local = {a or b for a, b in urls}
        assert "/openapi.json" in local and len(local) >= 3
        for url in local:
            assert url.startswith("/"), url
            got = httpx.get(base + url, timeout=10)
            assert got.status_code == 200 and got.content, url
