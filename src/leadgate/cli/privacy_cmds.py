"""Privacy and governance commands: ``leads erase``, ``audit``, ``settings`` and ``retention``.

Every write here is audited as the local operator, ``cli:<os user>`` (``common.operator``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from leadgate.cli.common import operator
from leadgate.cli.store_cmds import DB_OPTION, JSON_OPTION, _open, console, leads_app
from leadgate.errors import LeadgateError

settings_app = typer.Typer(help="Show and change store-wide settings.", no_args_is_help=True)
retention_app = typer.Typer(
    help="Delete old events, outbox messages and delivery records.", no_args_is_help=True
)


def _time(value: str | None, flag: str, now: datetime) -> datetime | None:
    """``--since``/``--until``: ISO 8601, or an age such as 7d or 12h (that long before now)."""
    if value is None:
        return None
    from leadgate.io.readers import parse_timestamp
    from leadgate.service.keys import parse_duration

    try:
        return now - parse_duration(value, flag)
    except LeadgateError:
        pass
    try:
        return parse_timestamp(value, field=flag)
    except LeadgateError:
        raise LeadgateError(
            f"{flag}: expected an ISO 8601 time (2026-11-01T09:30Z) or an age (7d, 12h), "
            f"got {value!r}"
        ) from None


def erase(
    lead_id: str = typer.Argument(..., help="The lead's id."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Erase a person: blank their data everywhere, keep an anonymous tombstone (cannot be undone)."""
    from leadgate.service.erasure import erase_lead

    if not yes:
        typer.confirm(f"erase lead {lead_id} and every record of that person for good?", abort=True)
    with _open(db) as store:
        report = erase_lead(store, lead_id, at=datetime.now(UTC), by=operator())
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    rows = ", ".join(f"{n} {t}" for t, n in report.rows.items() if n)
    console.print(
        f"[green]✓[/] erased {len(report.tombstones)} record(s) of that person, now "
        f"{', '.join(report.tombstones)} ({rows})",
        highlight=False,
    )


def audit(
    actor: str | None = typer.Option(None, "--actor", help="Only this actor, e.g. cli:alice."),
    action: str | None = typer.Option(
        None, "--action", help="Only this action (key.create) or family (key)."
    ),
    since: str | None = typer.Option(None, "--since", help="ISO 8601 time or an age (7d)."),
    until: str | None = typer.Option(None, "--until", help="ISO 8601 time or an age (1h)."),
    limit: int = typer.Option(100, "--limit", help="Most rows shown (newest first)."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    db: str | None = DB_OPTION,
) -> None:
    """Show the audit log: who changed models, keys, webhooks, reasons, settings, and erasures."""
    from leadgate.store.audit import list_audit

    if fmt not in ("table", "json"):
        raise typer.BadParameter(f"use table or json, got {fmt!r}", param_hint="--format")
    now = datetime.now(UTC)
    with _open(db) as store:
        rows = list_audit(
            store, actor=actor, action=action, since=_time(since, "--since", now),
            until=_time(until, "--until", now), limit=limit,
        )  # fmt: skip
    if fmt == "json":
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    if not rows:
        console.print("no audit entries match")
        return
    # 80 columns: the details are in --format json.
    table = Table("id", "at (UTC)", "actor", "action", "target", width=80)
    for r in rows:
        table.add_row(
            str(r.id), r.at.strftime("%Y-%m-%d %H:%M"), _cut(r.actor, 18), r.action,
            _cut(r.target or "", 20),
        )  # fmt: skip
    console.print(table)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@settings_app.command("list")
def settings_list(db: str | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Every setting, its value (- when not set) and what it does."""
    from leadgate.service.settings import list_settings

    with _open(db) as store:
        found = list_settings(store)
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in found], indent=2))
        return
    for s in found:
        console.print(f"{s.key} = {_show(s.value)}", highlight=False, markup=False)
        console.print(f"    {s.help}", highlight=False, markup=False, style="dim")


def _show(value: Any) -> str:
    if value is None:
        return "-"
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


@settings_app.command("set")
def settings_set(
    key: str = typer.Argument(..., help="e.g. retention.events_days"),
    value: str = typer.Argument(..., help="e.g. 730, or loopback,10.0.0.0/8 for lists"),
    force: bool = typer.Option(False, "--force", help="Even if it would change scores."),
    db: str | None = DB_OPTION,
) -> None:
    """Change a setting (audited)."""
    from leadgate.service.settings import change_setting

    with _open(db) as store:
        view = change_setting(store, key, value, at=datetime.now(UTC), by=operator(), force=force)
    console.print(f"[green]✓[/] {view.key} = {_show(view.value)}", highlight=False)


@settings_app.command("unset")
def settings_unset(key: str = typer.Argument(...), db: str | None = DB_OPTION) -> None:
    """Remove a setting (back to its default; audited)."""
    from leadgate.service.settings import unset_setting

    with _open(db) as store:
        unset_setting(store, key, at=datetime.now(UTC), by=operator())
    console.print(f"[green]✓[/] {key} unset", highlight=False)


@retention_app.command("apply")
def retention_apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would go; delete nothing."),
    force: bool = typer.Option(
        False, "--force", help="Delete events the active model still counts (changes scores)."
    ),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete what the retention settings say is too old (run it daily, e.g. from cron)."""
    from leadgate.service.retention import apply_retention

    with _open(db) as store:
        report = apply_retention(
            store, datetime.now(UTC), by=operator(), dry_run=dry_run, force=force
        )
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    verb = "would delete" if dry_run else "deleted"
    console.print(
        f"{verb} {report.events} event(s), {report.outbox} outbox message(s), "
        f"{report.deliveries} delivery record(s)",
        highlight=False,
    )
    if report.changes_scores:
        console.print(
            "[yellow]warning:[/] the events retention is shorter than what the active model "
            "counts: scores change",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    leads_app.command("erase")(erase)
    app.command("audit")(audit)
    app.add_typer(settings_app, name="settings")
    app.add_typer(retention_app, name="retention")
