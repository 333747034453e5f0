"""``leadgate accounts score`` and ``leadgate accounts explain``: account scores and the MQA."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leadgate.cli.common import fmt_points, parse_as_of, progress_bar
from leadgate.cli.score_cmds import emit_records, output_format
from leadgate.cli.tables import WIDE, print_table
from leadgate.errors import LeadgateError
from leadgate.executors import DuckDBOptions, options_for

if TYPE_CHECKING:
    # The engine package is imported by the commands that score, not at start-up (#14).
    from leadgate.engine.accounts_result import AccountScore

console = Console()
accounts_app = typer.Typer(
    help="Account scores, buying groups and the MQA (a model's accounts: block).",
    no_args_is_help=True,
)

_MODEL = typer.Option(..., "--model", "-m", help="Model YAML file with an accounts: block.")
_LEADS = typer.Option(..., "--leads", help="Leads file (CSV, JSONL or Parquet), with account_id.")
_EVENTS = typer.Option(
    None,
    "--events",
    help="Events: lead events (lead_id) and account events (account_id only); repeatable.",
)
_ACCOUNTS = typer.Option(..., "--accounts", help="Accounts file, one row per account_id.")
_AS_OF = typer.Option(None, "--as-of", help="Score as of this time (ISO 8601; default now).")


def render_accounts(records: list[dict[str, Any]], limit: int, *, wide: bool = False) -> None:
    """The account table: MQAs first, then by total."""
    dims = list(records[0]["scores"]) if records else []
    table = Table(show_lines=False)
    table.add_column("account_id")
    for d in dims:
        table.add_column(d, justify="right")
    for name in ("total", "MQA", "ABM", "group"):
        table.add_column(name, justify="right" if name in ("total", "group") else "left")
    table.add_column("missing", overflow="fold")
    for r in sorted(records, key=lambda r: (not r["mqa"], -r["total"]))[:limit]:
        completeness = r["buying_group"]["completeness"]
        table.add_row(
            escape(str(r["account_id"])), *(fmt_points(r["scores"][d]) for d in dims),
            fmt_points(r["total"]), "[green]yes[/]" if r["mqa"] else "no", "yes" if r["abm"] else "",
            "" if completeness is None else f"{completeness:.0%}", escape("; ".join(r["missing"])),
        )  # fmt: skip
    print_table(console, table, wide=wide)
    mqas = sum(r["mqa"] for r in records)
    shown = f" (showing {limit})" if len(records) > limit else ""
    console.print(f"{len(records)} accounts, [bold green]{mqas} MQAs[/]{shown}", highlight=False)


@accounts_app.command("score")
def score(
    model: Path = _MODEL,
    leads: Path = _LEADS,
    events: list[Path] | None = _EVENTS,
    accounts: Path = _ACCOUNTS,
    as_of: str | None = _AS_OF,
    fmt: str | None = typer.Option(None, "--format", "-f", help="table, csv, jsonl or parquet."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write records here, not stdout."),
    engine: str = typer.Option(
        "duckdb", "--engine", help="duckdb (default), python, sqlite, postgres or spark."
    ),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="Spark master URL for --engine spark (default local[*])."
    ),
    limit: int = typer.Option(50, "--limit", help="Rows shown in the table format."),
    wide: bool = WIDE,
    explain: bool = typer.Option(
        False, "--explain", help="Add each account's explanation to its record (jsonl only)."
    ),
) -> None:
    """Score every account of the accounts file; one record per account."""
    from leadgate.account_scoring import score_account_files
    from leadgate.io.writers import check_output_path

    options = options_for(engine, spark_master=spark_master)
    output = output_format(fmt, out, explain)
    when = parse_as_of(as_of)
    if out is not None:
        check_output_path(out)
    if (
        isinstance(options, DuckDBOptions) and len(events or ()) <= 1 and not explain
        and output != "table"
    ):  # fmt: skip
        _write_records(model, leads, events, accounts, when, output, out, options)
        return
    with progress_bar("scoring accounts") as bar:
        bar.add_task("scoring accounts", total=None)
        scores = score_account_files(model, leads, events, accounts, when, engine=options)
    records = [_record(s, explain) for s in scores]
    if output == "table":
        render_accounts(records, limit, wide=wide)
        return
    emit_records(records, output, out, "account_id", "mqa", "MQAs")


def _write_records(
    model: Path, leads: Path, events: list[Path] | None, accounts: Path, when: datetime,
    output: str, out: Path | None, options: DuckDBOptions,
) -> None:  # fmt: skip
    """The records written by DuckDB itself: the same bytes, no Python object per account."""
    from leadgate.account_scoring import write_account_files

    with progress_bar("scoring accounts") as bar:
        bar.add_task("scoring accounts", total=None)
        n, mqas = write_account_files(
            model, leads, events, accounts, when, output, out, options=options,
            stream=None if out else sys.stdout,
        )  # fmt: skip
    if out is not None:
        Console(stderr=True).print(
            f"wrote {n} records ({mqas} MQAs) to {out}", highlight=False, soft_wrap=True,
            markup=False,
        )  # fmt: skip


def _record(score: AccountScore, explain: bool) -> dict[str, Any]:
    record = score.to_record()
    if explain:
        record["explanation"] = score.explanation.to_dict()
    return record


@accounts_app.command("explain")
def explain(
    account_id: str = typer.Argument(..., help="The account to explain."),
    model: Path = _MODEL,
    leads: Path = _LEADS,
    events: list[Path] | None = _EVENTS,
    accounts: Path = _ACCOUNTS,
    as_of: str | None = _AS_OF,
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    wide: bool = WIDE,
    engine: str = typer.Option(
        "python", "--engine", help="python (default), duckdb, sqlite, postgres or spark."
    ),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="Spark master URL for --engine spark (default local[*])."
    ),
) -> None:
    """Explain one account: every rule and roll-up with the leads behind it, each buying-group
    role with its members, and what the account lacks to be an MQA."""
    from leadgate.account_scoring import explain_account

    if fmt not in ("table", "json"):
        raise LeadgateError(f"--format: expected table or json, got '{fmt}'")
    result = explain_account(
        model,
        leads,
        events,
        accounts,
        account_id,
        parse_as_of(as_of),
        engine=options_for(engine, spark_master=spark_master),
    )
    if fmt == "json":
        typer.echo(json.dumps(_record(result, True), indent=2, default=str))
        return
    render_account(result, wide=wide)


def render_account(result: AccountScore, *, wide: bool = False) -> None:
    """Rules (roll-ups with their value and leads), dimensions, checks, roles, lacks."""
    from leadgate.engine.accounts_result import lack_text

    ex = result.explanation
    verdict = "[bold green]MQA[/]" if result.mqa else "[bold red]not an MQA[/]"
    console.print(
        f"account [bold]{escape(result.account_id)}[/] · total {fmt_points(result.total)} / "
        f"threshold {fmt_points(ex.threshold)} · {verdict}{' · ABM' if result.abm else ''} · "
        f"{len(ex.leads)} leads · model {escape(result.model['name'])} v{escape(result.model['version'])} "
        f"({result.model['hash']}) · as of {result.as_of.isoformat()}",
        highlight=False,
    )
    rules = Table(title="rules", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    for col in ("dimension", "rule", "kind", "value", "points", "capped", "behind it"):
        rules.add_column(col, justify="right" if col in ("value", "points") else "left")
    for r in ex.rules:
        if r.kind == "rollup":
            value, behind = fmt_points(r.value or 0.0), ", ".join(r.leads)
        elif r.kind == "event":
            value, behind = str(r.events_counted), ", ".join(r.event_ids)
        else:
            value, behind = ("yes" if r.matched else "-"), ""
        rules.add_row(
            escape(r.dimension), escape(r.name), r.kind, value, fmt_points(r.points),
            "cap" if r.capped else "", escape(behind),
        )  # fmt: skip
    print_table(console, rules, wide=wide)
    dims = Table(title="dimensions", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("dimension", "rules sum", "score", "floor", "floor met"):
        dims.add_column(col)
    for d in ex.dimensions:
        dims.add_row(
            escape(d.name), fmt_points(d.rule_sum), fmt_points(d.score) + (" (clipped)" if d.clipped else ""),
            "" if d.floor is None else fmt_points(d.floor),
            "" if d.floor is None else ("yes" if d.floor_met else "[red]no[/]"),
        )  # fmt: skip
    print_table(console, dims, wide=wide)
    if ex.checks:
        checks = Table(title="gates and disqualifiers", box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("kind", "name", "matched", "ok"):
            checks.add_column(col)
        for c in ex.checks:
            ok = "[green]ok[/]" if c.ok else "[red]fails[/]"
            checks.add_row(c.kind, escape(c.name), "yes" if c.matched else "no", ok)
        print_table(console, checks, wide=wide)
    if ex.roles:
        title = f"buying group · completeness {ex.completeness or 0.0:.0%}"
        roles = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("role", "filled", "required", "members"):
            roles.add_column(col)
        for role in ex.roles:
            filled = str(role.filled) if role.filled >= role.required else f"[red]{role.filled}[/]"
            roles.add_row(
                escape(role.name), filled, str(role.required), escape(", ".join(role.members))
            )
        print_table(console, roles, wide=wide)
    for lack in ex.lacks:
        console.print(f"[red]✗[/] {escape(lack_text(lack))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
