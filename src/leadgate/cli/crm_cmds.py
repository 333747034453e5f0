"""``leadgate crm add|push|pull|list``: the CRM hand-off (HubSpot, Salesforce), over leadgate.crm."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from leadgate.cli.store_cmds import AS_OF_OPTION, DB_OPTION, JSON_OPTION, _now, _open, console

if TYPE_CHECKING:
    from leadgate.crm.sync import PullReport, PushReport

crm_app = typer.Typer(help="Hand leads to HubSpot or Salesforce and read sales outcomes back.",
                      no_args_is_help=True)  # fmt: skip
KIND_OPTION = typer.Option(None, "--crm", help="Only this connector (hubspot or salesforce).")


def add_cmd(
    kind: str = typer.Argument(..., help="hubspot or salesforce."),
    mapping: Path | None = typer.Option(None, "--mapping", help="Field mapping YAML (over the defaults)."),
    secrets_file: Path | None = typer.Option(None, "--secrets-file", help="YAML file with the credentials (only its path is stored)."),
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
) -> None:  # fmt: skip
    """Add or replace a CRM connector (credentials come from the environment or --secrets-file)."""
    from leadgate.crm.settings import add_connector

    with _open(db) as store, store.write() as conn:
        connector = add_connector(conn, kind, _now(as_of), mapping_file=mapping,
                                  secrets_file=secrets_file)  # fmt: skip
    where = (
        f"secrets file {connector.secrets_file}" if connector.secrets_file else "the environment"
    )
    console.print(f"[green]✓[/] {kind} connector added (credentials from {where}; "
                  f"score step {connector.score_step:g})", highlight=False)  # fmt: skip


def _kinds(store: object, kind: str | None) -> list[str]:
    from leadgate.crm.settings import get_connector, list_connectors

    with store.read() as conn:  # type: ignore[attr-defined]
        if kind:
            return [get_connector(conn, kind).kind]
        found = [c.kind for c in list_connectors(conn)]
    if not found:
        from leadgate.crm import CrmError

        raise CrmError("no CRM connector (add one with 'leadgate crm add hubspot|salesforce')")
    return found


def push_cmd(
    kind: str | None = KIND_OPTION,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be written; write nothing."),
    every: float | None = typer.Option(None, "--every", min=0.1, help="Keep pushing every SECONDS until stopped (Ctrl-C)."),
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:  # fmt: skip
    """Push due leads (MQL hand-offs, score and stage changes) to each CRM."""
    import time

    from leadgate.crm import sync
    from leadgate.crm.settings import get_connector

    with _open(db) as store:
        clients = []
        for name in _kinds(store, kind):
            with store.read() as conn:
                connector = get_connector(conn, name)
            clients.append((connector, sync.open_client(connector)))
        if dry_run:
            for connector, client in clients:
                _show_dry_run(
                    connector.kind, sync.dry_run(store, connector, client, _now(as_of)), as_json
                )
            return
        try:
            while True:
                for connector, client in clients:
                    report = sync.push(store, connector, client, _now(as_of))
                    if every is None or report.queued or report.pushed or report.errors:
                        _show_push(connector.kind, report, as_json)
                if every is None:
                    return
                time.sleep(every)
        except KeyboardInterrupt:
            return


def _show_dry_run(name: str, report: PushReport, as_json: bool) -> None:
    would = report.would_write
    if as_json:
        typer.echo(json.dumps({name: would}, indent=2, default=str))
        return
    console.print(f"{name}: would write {len(would)} lead(s)", highlight=False)
    for lead_id, fields in would.items():
        console.print(f"  {lead_id}: {json.dumps(fields, default=str)}", highlight=False)


def _show_push(name: str, r: PushReport, as_json: bool) -> None:
    if as_json:
        counts = {k: v for k, v in r.__dict__.items() if k != "would_write"}
        typer.echo(json.dumps({name: counts}, default=str))
        return
    console.print(f"{name}: {r.pushed} pushed, {r.retrying} to retry, "
                  f"{r.failed} failed ({r.queued} newly due)", highlight=False)  # fmt: skip
    for lead_id, error in sorted(r.errors.items()):
        console.print(f"  {lead_id}: {error}", highlight=False)


def pull_cmd(
    kind: str | None = KIND_OPTION,
    every: float | None = typer.Option(None, "--every", min=1.0, help="Keep pulling every SECONDS until stopped (Ctrl-C)."),
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
) -> None:  # fmt: skip
    """Read sales outcomes back from each CRM and record them as dispositions (once each)."""
    import time

    from leadgate.crm import sync
    from leadgate.crm.settings import get_connector

    with _open(db) as store:
        clients = []
        for name in _kinds(store, kind):
            with store.read() as conn:
                connector = get_connector(conn, name)
            clients.append((connector, sync.open_client(connector)))
        try:
            while True:
                for connector, client in clients:
                    report = sync.pull(store, connector, client, _now(as_of))
                    if every is None or report.applied or report.skipped:
                        _show_pull(connector.kind, report)
                if every is None:
                    return
                time.sleep(every)
        except KeyboardInterrupt:
            return


def _show_pull(name: str, report: PullReport) -> None:
    console.print(f"{name}: {report.read} read, {len(report.applied)} recorded, "
                  f"{report.already} already recorded, {len(report.skipped)} skipped",
                  highlight=False)  # fmt: skip
    for lead_id, action in report.applied:
        console.print(f"  {lead_id}: {action}", highlight=False)
    for lead_id, why in sorted(report.skipped.items()):
        console.print(f"  {lead_id}: skipped: {why}", highlight=False)


def list_cmd(db: str | None = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show the connectors and their push state (synced, pending, failed with the last error)."""
    from leadgate.crm.sync import sync_states

    with _open(db) as store:
        states = sync_states(store)
    if as_json:
        typer.echo(json.dumps(states, indent=2, default=str))
        return
    table = Table("crm", "synced", "pending", "failed", "last error")
    for kind, s in states.items():
        table.add_row(
            kind, str(s["synced"]), str(s["pending"]), str(s["failed"]), s["last_error"] or ""
        )
    console.print(table)


def retry_cmd(
    kind: str = typer.Argument(..., help="hubspot or salesforce."),
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
) -> None:
    """Make failed pushes due again (after fixing their cause in the CRM or the mapping)."""
    from leadgate.crm.sync import retry_failed

    with _open(db) as store:
        n = retry_failed(store, kind, _now(as_of))
    console.print(
        f"[green]✓[/] {n} failed push(es) due again; run 'leadgate crm push'", highlight=False
    )


def register(app: typer.Typer) -> None:
    crm_app.command("add")(add_cmd)
    crm_app.command("push")(push_cmd)
    crm_app.command("pull")(pull_cmd)
    crm_app.command("list")(list_cmd)
    crm_app.command("retry")(retry_cmd)
    app.add_typer(crm_app, name="crm")
