"""Commands over the operational store: load, models, tick, leads, queue, dispose, sla.

Every command takes ``--db URL`` (else ``LEADGATE_DB``, else ``leadgate.db`` in the current
directory) and calls one ``leadgate.service`` function; the current time is read here, at the
edge, and passed down (``--as-of`` overrides it, for replays and tests).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from leadgate.cli.common import operator, parse_as_of
from leadgate.cli.tables import WIDE, print_table
from leadgate.errors import LeadgateError

if TYPE_CHECKING:
    from leadgate.store import Store

console = Console(soft_wrap=True)  # messages stay one line (tests and pipes read them)

DB_OPTION = typer.Option(
    None, "--db", help="Store URL or SQLite path [env LEADGATE_DB; default leadgate.db]."
)
AS_OF_OPTION = typer.Option(
    None, "--as-of", help="The time to act at (ISO 8601, UTC); default now."
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
ENGINE_OPTION = typer.Option(
    "auto", "--engine", help="Re-scoring path: auto, python (per lead) or duckdb (batch)."
)

models_app = typer.Typer(
    help="Publish, list and compare model versions in the store.", no_args_is_help=True
)
leads_app = typer.Typer(help="Look at leads in the store.", no_args_is_help=True)


def _now(as_of: str | None) -> datetime:
    return parse_as_of(as_of)


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


FORCE_OPTION = typer.Option(
    False,
    "--force",
    help="Re-score even at an --as-of before the store's latest scoring (history then goes back).",
)


@contextmanager
def _forward_only() -> Iterator[None]:
    """The library's refusal of a backwards re-score, in the CLI's words (its flags)."""
    from leadgate.service.timeline import HistoryBackwardsError

    try:
        yield
    except HistoryBackwardsError as exc:
        raise LeadgateError(
            f"--as-of {exc.as_of.isoformat()}: before the store's latest scoring time "
            f"{exc.latest.isoformat()}; scores and history would move backwards in time "
            "(add --force to re-score at that time anyway)"
        ) from None


def _open(db: str | None) -> Store:
    from leadgate.store import open_store

    return open_store(db)


@contextmanager
def _progress(label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    err = Console(stderr=True)  # off a terminal: no bar and no blank line where it was
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def _load_progress(
    kind: str,
) -> Iterator[tuple[Callable[[int, float], None], Callable[[int], None]]]:
    """Two bars for a load: the file read (events stream: rows and share of the file) and the
    re-score of the affected leads (their number is known only once the file is read)."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]}"),
        TimeElapsedColumn(),
    ]
    err = Console(stderr=True)  # off a terminal: no bar and no blank line where it was
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        reading = bar.add_task(f"loading {kind}", total=1.0, done="")
        scoring: dict[TaskID, int] = {}  # the re-score bar, once it starts: leads done

        def read(rows: int, fraction: float) -> None:
            bar.update(reading, completed=fraction, done=f"{rows:,} rows")

        def rescore(n: int) -> None:
            if not scoring:
                bar.update(reading, completed=1.0)
                scoring[bar.add_task("re-scoring", total=None, done="")] = 0
            ((task, done),) = scoring.items()
            scoring[task] = done + n
            bar.update(task, completed=done + n, done=f"{done + n:,} leads")

        yield read, rescore


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _summary_line(summary: Any) -> str:
    s = summary
    return (
        f"{s.scored} scored, {s.score_changed} score changes, {s.new_mqls} new MQL(s), "
        f"{s.no_longer_qualifying} MQL(s) no longer qualifying, {s.starts_qualifying} start / "
        f"{s.stops_qualifying} stop qualifying, {s.segment_changed} segment change(s)"
        + (f", {s.expired} expired" if s.expired else "")
    )


def load(
    kind: str = typer.Argument(..., help="leads, accounts, events, outcomes or account-outcomes."),
    file: Path = typer.Argument(..., help="CSV, JSONL or Parquet file."),
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
    actor: str | None = typer.Option(None, "--actor", help="Recorded on imported transitions."),
    force: bool = FORCE_OPTION,
) -> None:
    """Load a file into the store: all rows or none, replays add nothing."""
    from leadgate.service import load_file

    with _open(db) as store, _load_progress(kind) as (read, rescore), _forward_only():
        report = load_file(
            store,
            kind,
            file,
            as_of=_now(as_of),
            actor=_actor(actor),
            progress=rescore,
            read_progress=read,
            force=force,
            pinned=as_of is not None,  # "now" moves up past a server's scores meanwhile
        )
    console.print(
        f"[green]✓[/] {file}: {report.rows} row(s): {report.inserted} new, {report.updated} updated, "
        f"{report.ignored} already loaded, {report.duplicates} duplicate(s)",
        highlight=False,
    )
    if report.adjusted:
        console.print(
            f"  {report.adjusted} outcome row(s) have times before the lead's live MQL cycle: "
            "sales steps recorded at the cycle's start (with a note), earlier touches not "
            "counted as its first touch",
            highlight=False,
        )
    if report.skipped:
        console.print(
            f"  {report.skipped} account outcome row(s) skipped: their accounts are not MQAs "
            "(never handed off)",
            highlight=False,
        )
    if report.summary is not None:
        console.print(f"  re-scored: {_summary_line(report.summary)}", highlight=False)


def publish(
    file: Path = typer.Argument(..., help="Model YAML file."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
    actor: str | None = typer.Option(None, "--actor", help="Who publishes (default: your user)."),
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
    as_json: bool = JSON_OPTION,
    engine: str = ENGINE_OPTION,
    note: str | None = typer.Option(None, "--note", help="Why this version (kept with it)."),
    force: bool = FORCE_OPTION,
) -> None:
    """Publish a model version: re-score every lead and record the resulting transitions."""
    from leadgate.service import publish_model
    from leadgate.service.models import count_leads

    with _open(db) as store:
        with store.read() as conn:
            total = count_leads(conn)
        with _progress("re-scoring", total) as progress, _forward_only():
            report = publish_model(
                store,
                file,
                actor=_actor(actor),
                as_of=_now(as_of),
                dry_run=dry_run,
                progress=progress,
                engine=engine,
                note=note,
                by=operator(),
                force=force,
                pinned=as_of is not None,
            )
    if as_json:
        _print_json(report.model_dump(mode="json"))
        return
    m = report.model
    if report.previous and report.previous["hash"] == m["hash"]:
        console.print(
            f"model {m['name']} {m['version']} ({m['hash']}) is already published; nothing to do"
        )
        return
    verb = "would publish" if report.dry_run else "published"
    console.print(f"[green]✓[/] {verb} {m['name']} {m['version']} ({m['hash']})", highlight=False)
    console.print(f"  {_summary_line(report.summary)}", highlight=False)
    if report.examples:
        table = Table("lead", "stage", "old total", "new total", "change")
        for ex in report.examples:
            old = "-" if ex.old_total is None else f"{ex.old_total:.2f}"
            table.add_row(ex.lead_id, ex.stage, old, f"{ex.new_total:.2f}", ex.change)
        print_table(console, table)
    if report.dry_run:
        console.print("dry run: nothing was written")


def list_cmd(db: str | None = DB_OPTION, as_json: bool = JSON_OPTION, wide: bool = WIDE) -> None:
    """List every published model version (the newest is active)."""
    from leadgate.service import list_models

    with _open(db) as store:
        versions = list_models(store)
    if as_json:
        _print_json([v.model_dump(mode="json") for v in versions])
        return
    table = Table("id", "name", "version", "hash", "published by", "published at", "active")
    for v in versions:
        table.add_row(
            str(v.id), v.name, v.version, v.hash, v.published_by,
            v.published_at.isoformat(timespec="seconds"), "✓" if v.active else "",
        )  # fmt: skip
    if not versions:
        console.print("no model published yet (leadgate models publish FILE)")
        return
    print_table(console, table, wide=wide, drop_first=("published by",))


def diff(
    a: str = typer.Argument(..., help="Model id, hash (prefix) or version."),
    b: str = typer.Argument(..., help="Model id, hash (prefix) or version."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Compare two published model versions."""
    from leadgate.service import diff_models

    with _open(db) as store:
        result = diff_models(store, a, b)
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    for change in result.changes or ["no differences in the model's content"]:
        console.print(f"  {change}", highlight=False, markup=False)
    if result.yaml_diff:
        console.print(result.yaml_diff, highlight=False, markup=False)


def tick_cmd(
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
    engine: str = ENGINE_OPTION,
    force: bool = FORCE_OPTION,
) -> None:
    """Apply what time changes: decay re-scoring and MQL expiries (recycling)."""
    from leadgate.service import tick

    with _open(db) as store, _progress("re-scoring") as progress, _forward_only():
        report = tick(
            store, _now(as_of), progress=progress, engine=engine, force=force,
            pinned=as_of is not None,
        )  # fmt: skip
    console.print(
        f"[green]✓[/] tick at {report.as_of.isoformat()}: {_summary_line(report.summary)}",
        highlight=False,
    )


def show(
    lead_id: str = typer.Argument(..., help="Lead id."),
    db: str | None = DB_OPTION,
    as_of: str | None = typer.Option(None, "--as-of", help="Explain the score at this time."),
    as_json: bool = JSON_OPTION,
    wide: bool = WIDE,
) -> None:
    """Show a lead: stage, score with explanation, stage and score history."""
    from leadgate.service import get_lead

    with _open(db) as store:
        view = get_lead(store, lead_id, _now(as_of) if as_of else None)
    if as_json:
        _print_json(view.model_dump(mode="json"))
        return
    score = view.score or {}
    head = f"[bold]{view.lead_id}[/] stage [bold]{view.stage}[/] (cycle {view.cycle})"
    if view.duplicate_of == view.lead_id:  # service/erasure.py: a tombstone points at itself
        head += ", erased (an anonymous tombstone, not scored)"
    elif view.duplicate_of:
        head += f", duplicate of {view.duplicate_of} (not scored)"
    if score:
        head += f", total {score['total']:.2f} in segment {score['segment']}, {'MQL' if score['mql'] else 'not MQL'}"
    if view.no_longer_qualifies:
        head += " [yellow](no longer qualifies)[/]"
    console.print(head, highlight=False)
    for miss in score.get("missing", []):
        console.print(f"  lacks: {miss}", highlight=False)
    if view.explanation:
        table = Table("dimension", "rule", "points", "events")
        for r in view.explanation["rules"]:
            if r["matched"]:
                table.add_row(
                    r["dimension"], r["name"], f"{r['points']:.2f}", str(r["events_counted"] or "")
                )
        print_table(console, table, wide=wide)
    if view.transitions:
        table = Table("at", "from", "to", "cause", "actor", "reason", "cycle")
        for t in view.transitions:
            table.add_row(
                t.at.isoformat(timespec="seconds"), t.from_stage, t.to_stage, t.cause, t.actor,
                t.reason or "", str(t.cycle),
            )  # fmt: skip
        print_table(console, table, wide=wide)
    if view.score_history:
        console.print(f"score history: {len(view.score_history)} change(s), latest:")
        for p in view.score_history[-5:]:
            console.print(
                f"  {p.at.isoformat(timespec='seconds')} {p.total:.2f} {'MQL' if p.qualifies else '-'} ({p.cause})",
                highlight=False,
            )


def queue(
    db: str | None = DB_OPTION,
    segment: str | None = typer.Option(None, "--segment"),
    owner: str | None = typer.Option(None, "--owner"),
    sla: str | None = typer.Option(None, "--sla", help="pending, breached or met."),
    limit: int | None = typer.Option(50, "--limit"),
    as_of: str | None = AS_OF_OPTION,
    as_json: bool = JSON_OPTION,
    wide: bool = WIDE,
) -> None:
    """The sales queue: MQLs by score, then age."""
    from leadgate.service import mql_queue

    with _open(db) as store:
        items = mql_queue(
            store, as_of=_now(as_of), segment=segment, owner=owner, sla_state=sla, limit=limit
        )
    if as_json:
        _print_json([i.model_dump(mode="json") for i in items])
        return
    table = Table("lead", "email", "segment", "total", "age (h)", "SLA", "owner", "note")
    for i in items:
        table.add_row(
            i.lead_id, i.email or "", i.segment or "", f"{i.total or 0:.2f}", f"{i.age_hours:.1f}",
            i.sla_state, i.owner or "", "no longer qualifies" if i.no_longer_qualifies else "",
        )  # fmt: skip
    if not items:
        console.print("the queue is empty")
        return
    print_table(console, table, wide=wide)


def dispose_cmd(
    lead_id: str = typer.Argument(..., help="Lead id."),
    action: str = typer.Argument(
        ..., help="accept, reject, sql, opportunity, won, lost, recycle, touch."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Reason code (required to reject)."),
    note: str | None = typer.Option(None, "--note"),
    amount: float | None = typer.Option(None, "--amount", help="Deal amount (opportunity, won)."),
    actor: str | None = typer.Option(None, "--actor", help="Who acts (default: your user)."),
    db: str | None = DB_OPTION,
    as_of: str | None = AS_OF_OPTION,
) -> None:
    """Record what sales did with a lead."""
    from leadgate.service import dispose

    with _open(db) as store:
        state = dispose(
            store,
            lead_id,
            action,
            reason=reason,
            note=note,
            amount=amount,
            actor=_actor(actor),
            at=_now(as_of),
            by=operator(),
        )
    console.print(f"[green]✓[/] {lead_id}: {action} -> stage {state.stage}", highlight=False)


def sla_cmd(
    db: str | None = DB_OPTION,
    segment: str | None = typer.Option(None, "--segment"),
    owner: str | None = typer.Option(None, "--owner"),
    as_of: str | None = AS_OF_OPTION,
    as_json: bool = JSON_OPTION,
    wide: bool = WIDE,
) -> None:
    """List speed-to-lead SLA breaches (late or missing first touches)."""
    from leadgate.service import sla_breaches

    with _open(db) as store:
        rows = sla_breaches(store, as_of=_now(as_of), segment=segment, owner=owner)
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(
        "lead", "cycle", "segment", "owner", "MQL at", "SLA (h)", "first touch", "overdue (h)"
    )
    for r in rows:
        table.add_row(
            r.lead_id, str(r.cycle), r.segment or "", r.owner or "", r.mql_at.isoformat(timespec="minutes"),
            f"{r.sla_hours:g}", r.first_touch_at.isoformat(timespec="minutes") if r.first_touch_at else "-",
            f"{r.overdue_hours:.1f}",
        )  # fmt: skip
    if not rows:
        console.print("no SLA breaches")
        return
    print_table(console, table, wide=wide)


def register(app: typer.Typer) -> None:
    app.command()(load)
    models_app.command("publish")(publish)
    models_app.command("list")(list_cmd)
    models_app.command("diff")(diff)
    app.add_typer(models_app, name="models")
    leads_app.command("show")(show)
    app.add_typer(leads_app, name="leads")
    app.command("tick")(tick_cmd)
    app.command()(queue)
    app.command("dispose")(dispose_cmd)
    app.command("sla")(sla_cmd)
