"""``leadgate leads erase``, ``audit``, ``settings``, ``retention`` and key expiry/rotation."""

from __future__ import annotations

import getpass
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from cli_helpers import in_process, leadgate
from leadgate.cli import _register, app
from leadgate.service import upsert_lead
from leadgate.service.keys import verify_key
from leadgate.store import open_store

runner = CliRunner()
if not any(c.name == "serve" for c in app.registered_commands):  # once per test process
    _register()
ME = f"cli:{getpass.getuser()}"


def _run(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args), terminal_width=80)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _fail(*args: str, process: bool = True) -> subprocess.CompletedProcess[str]:
    """A refused command, as a user runs it (a process of its own) or, for a variation of an
    error already seen that way, in this process."""
    return (leadgate if process else in_process)(*args)


def test_keys_expire_and_rotate(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    old = _run("keys", "create", "--role", "sales", "--name", "crm", "--expires-in", "30d",
               "--db", db).stdout.strip()  # fmt: skip
    new = _run("keys", "rotate", "crm", "--overlap", "0s", "--db", db).stdout.strip()
    with open_store(db) as store:
        assert verify_key(store, old) is None and verify_key(store, new) is not None
    rows = json.loads(_run("keys", "list", "--json", "--db", db).stdout)
    assert [(r["name"], r["status"], r["replaced_by"]) for r in rows] == [
        ("crm", "expired", rows[1]["id"]), ("crm", "active", None)
    ]  # fmt: skip
    assert rows[1]["expires_at"] is not None  # the new key keeps the 30-day lifetime
    table = _run("keys", "list", "--db", db).stdout
    assert "expires" in table and "last used" in table and "rotated to" not in table
    bad = _fail("keys", "create", "--role", "sales", "--expires-in", "1 month", "--db", db)
    assert bad.returncode == 1 and bad.stderr.startswith("error: --expires-in: expected")


def test_erase_and_audit(tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    with open_store(db) as store:
        upsert_lead(store, "p-1", {"email": "pat@example.org"}, datetime.now(UTC))
    erased = _run("leads", "erase", "p-1", "--yes", "--json", "--db", db)
    (tomb,) = json.loads(erased.stdout)["tombstones"]
    rows = json.loads(_run("audit", "--format", "json", "--db", db).stdout)
    assert [(r["action"], r["actor"], r["target"]) for r in rows] == [("lead.erase", ME, tomb)]
    missing = _fail("leads", "erase", "p-1", "--yes", "--db", db)
    assert missing.returncode == 3 and "no lead 'p-1'" in missing.stderr
    unconfirmed = runner.invoke(app, ["leads", "erase", tomb, "--db", db], input="n\n")
    assert unconfirmed.exit_code == 1  # aborted: nothing happens without a yes


def test_audit_table_fits_80_columns_and_filters(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    _run(
        "keys",
        "create",
        "--role",
        "admin",
        "--name",
        "a-rather-long-key-name-for-a-table",
        "--db",
        db,
    )
    _run("settings", "set", "webhooks.allow_targets", "loopback,10.0.0.0/8", "--db", db)
    _run("settings", "set", "retention.outbox_days", "90", "--db", db)
    table = _run("audit", "--db", db).stdout
    assert max(len(line) for line in table.splitlines()) <= 80
    assert "setting.set" in table and "key.create" in table
    only = json.loads(_run("audit", "--action", "setting", "--format", "json", "--db", db).stdout)
    assert [r["target"] for r in only] == ["retention.outbox_days", "webhooks.allow_targets"]
    assert only[1]["details"]["value"] == ["loopback", "10.0.0.0/8"]
    assert (
        json.loads(_run("audit", "--actor", "cli:nobody", "--format", "json", "--db", db).stdout)
        == []
    )
    recent = json.loads(
        _run("audit", "--since", "1h", "--limit", "1", "--format", "json", "--db", db).stdout
    )
    assert len(recent) == 1
    bad = _fail("audit", "--since", "yesterday", "--db", db, process=False)  # bad time: as above
    assert bad.returncode == 1 and "--since: expected an ISO 8601 time" in bad.stderr


def test_settings_and_retention(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    _run("settings", "set", "retention.events_days", "730", "--db", db)
    listed = {
        s["key"]: s["value"]
        for s in json.loads(_run("settings", "list", "--json", "--db", db).stdout)
    }
    assert listed["retention.events_days"] == 730
    assert "deleted 0 event(s)" in _run("retention", "apply", "--db", db).stdout
    _run("settings", "unset", "retention.events_days", "--db", db)
    bad = _fail("settings", "set", "retention.events_days", "two years", "--db", db)
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "error: retention.events_days: expected a whole number of days, got 'two years'"
    )
    unknown = _fail("settings", "set", "colour", "blue", "--db", db, process=False)
    assert unknown.returncode == 1 and "colour: unknown setting" in unknown.stderr
