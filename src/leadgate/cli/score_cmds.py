"""``leadgate score`` and ``leadgate explain``: scoring leads from files."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leadgate.cli.common import fmt_points, parse_as_of, progress_bar
from leadgate.cli.tables import WIDE, print_table
from leadgate.errors import LeadgateError
from leadgate.executors import DuckDBOptions, options_for

console = Console()


def output_format(fmt: str | None, out: Path | None, explain: bool = False) -> str:
    """The records' format: ``--format``, else the ``--out`` suffix, else a table; refuses a
    Parquet without a file and an explanation in a flat format."""
    if fmt:
        if fmt not in ("table", "csv", "jsonl", "parquet"):
            raise LeadgateError(f"--format: expected table, csv, jsonl or parquet, got '{fmt}'")
        output = fmt
    elif out is not None:
        output = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}.get(
            out.suffix.lower(), "jsonl"
        )
    else:
        output = "table"
    if output == "parquet" and out is None:
        raise LeadgateError("--format parquet needs --out FILE")
    if explain and output != "jsonl":
        raise LeadgateError("--explain: the explanation is a nested object; use --format jsonl")
    return output


def emit_records(
    records: list[dict[str, Any]], output: str, out: Path | None, id_field: str, flag: str,
    noun: str,
) -> None:  # fmt: skip
    """Write ``records`` (keyed by ``id_field``) as csv, jsonl or parquet to ``out``, or to
    stdout when None; a file written is told on stderr with its count of ``flag`` records
    (``noun``: "MQLs", "MQAs")."""
    if out is not None:
        from leadgate.io.writers import write_records

        n = write_records(records, out, output)
        counted = sum(r[flag] for r in records)
        Console(stderr=True).print(
            f"wrote {n} records ({counted} {noun}) to {out}",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
        return
    if output == "jsonl":
        for r in records:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    import csv

    from leadgate.io.writers import flat_record

    rows = [flat_record(r) for r in records]
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else [id_field])
    writer.writeheader()
    writer.writerows(rows)


def render_scores(
    records: list[dict[str, Any]],
    limit: int,
    total: int | None = None,
    mqls: int | None = None,
    *,
    wide: bool = False,
) -> None:
    """The score table people read: MQLs first, then by total. ``total``/``mqls``: the counts
    of all leads when ``records`` holds only the top ones."""
    dims = list(records[0]["scores"]) if records else []
    table = Table(title=None, show_lines=False)
    table.add_column("lead_id")
    table.add_column("segment")
    for d in dims:
        table.add_column(d, justify="right")
    table.add_column("total", justify="right")
    table.add_column("MQL")
    # A model with a PQL block: who is a PQL, by which signals (records always carry them).
    pql = any(r.get("pql") or r.get("pql_signals") for r in records)
    if pql:
        table.add_column("PQL")
    table.add_column("missing", overflow="fold")
    ordered = sorted(records, key=lambda r: (not r["mql"], -r["total"]))
    for r in ordered[:limit]:
        table.add_row(
            str(r["lead_id"]),
            r["segment"],
            *(fmt_points(r["scores"][d]) for d in dims),
            fmt_points(r["total"]),
            "[green]yes[/]" if r["mql"] else "no",
            *([_pql_cell(r)] if pql else []),
            "; ".join(r["missing"]),
        )
    print_table(console, table, wide=wide)
    n = len(records) if total is None else total
    mqls = sum(r["mql"] for r in records) if mqls is None else mqls
    shown = f" (showing {min(limit, n)})" if n > limit else ""
    console.print(f"{n} leads, [bold green]{mqls} MQLs[/]{shown}", highlight=False)


def score(
    model: Path = typer.Option(..., "--model", "-m", help="Model YAML file."),
    leads: Path = typer.Option(..., "--leads", help="Leads file (CSV, JSONL or Parquet)."),
    events: Path | None = typer.Option(
        None, "--events", help="Events file (CSV, JSONL or Parquet)."
    ),
    accounts: Path | None = typer.Option(
        None, "--accounts", help="Accounts file, joined on account_id."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Score as of this time (ISO 8601; default now)."
    ),
    fmt: str | None = typer.Option(None, "--format", "-f", help="table, csv, jsonl or parquet."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write records here instead of stdout."
    ),
    engine: str = typer.Option(
        "duckdb", "--engine", help="duckdb (default), python, sqlite, postgres or spark."
    ),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="Spark master URL for --engine spark (default local[*])."
    ),
    limit: int = typer.Option(50, "--limit", help="Rows shown in the table format."),
    wide: bool = WIDE,
    explain: bool = typer.Option(
        False, "--explain", help="Add each lead's explanation to its record (jsonl only)."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="Show the engine's own log lines (Spark's JVM warnings)."
    ),
) -> None:
    """Score every lead; one record per lead."""
    from leadgate.io.writers import check_output_path
    from leadgate.scoring import score_files

    options = options_for(engine, spark_master=spark_master)
    if verbose:
        from leadgate.cli import set_verbose

        set_verbose()
    output = output_format(fmt, out, explain)
    when = parse_as_of(as_of)
    if out is not None:
        check_output_path(out)  # before reading the data, on every engine
    if isinstance(options, DuckDBOptions) and not explain:
        _score_with_duckdb(
            model, leads, events, accounts, when, output, out, limit, options, wide=wide
        )
        return
    with progress_bar("scoring") as bar:
        task = bar.add_task("scoring", total=None)
        records = score_files(
            model, leads, events, when, accounts=accounts, engine=options,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            explain=explain,
        )  # fmt: skip
    if output == "table":
        render_scores(records, limit, wide=wide)
        return
    emit_records(records, output, out, "lead_id", "mql", "MQLs")


def _score_with_duckdb(
    model: Path, leads: Path, events: Path | None, accounts: Path | None, when: datetime,
    output: str, out: Path | None, limit: int, options: DuckDBOptions, *, wide: bool = False,
) -> None:  # fmt: skip
    """Records written by DuckDB itself: the same bytes, no Python object per lead (the table:
    only the rows it shows)."""
    from leadgate.batch import top_score_records, write_score_records
    from leadgate.engine import compile_model
    from leadgate.model import load_model

    plan = compile_model(load_model(model))
    if output == "table":
        with progress_bar("scoring") as bar:
            bar.add_task("scoring", total=None)
            top, total, mqls = top_score_records(
                plan, leads, events, when, limit, accounts=accounts, options=options
            )
        render_scores(top, limit, total, mqls, wide=wide)
        return
    with progress_bar("writing records" if out else "scoring") as bar:
        task = bar.add_task("scoring", total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total, description="writing records")

        rows, mqls = write_score_records(
            plan, leads, events, when, output, out, accounts=accounts, progress=advance,
            stream=None if out else sys.stdout, options=options,
        )  # fmt: skip
    if out is not None:
        Console(stderr=True).print(  # soft_wrap: the path stays whole, one line
            f"wrote {rows} records ({mqls} MQLs) to {out}",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )


def explain(
    lead_id: str = typer.Argument(..., help="The lead to explain."),
    model: Path = typer.Option(..., "--model", "-m", help="Model YAML file."),
    leads: Path = typer.Option(..., "--leads", help="Leads file."),
    events: Path | None = typer.Option(None, "--events", help="Events file."),
    accounts: Path | None = typer.Option(None, "--accounts", help="Accounts file."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Explain as of this time (default now)."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    wide: bool = WIDE,
    engine: str = typer.Option(
        "python", "--engine", help="python (default), duckdb, sqlite, postgres or spark."
    ),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="Spark master URL for --engine spark (default local[*])."
    ),
) -> None:
    """Explain one lead's score: every rule, gate, floor, and what an MQL lacks."""
    from leadgate.scoring import explain_lead

    if fmt not in ("table", "json"):
        raise LeadgateError(f"--format: expected table or json, got '{fmt}'")
    options = options_for(engine, spark_master=spark_master)
    result = explain_lead(
        model, leads, events, lead_id, parse_as_of(as_of), accounts=accounts, engine=options
    )
    if fmt == "json":
        typer.echo(
            json.dumps(
                {**result.to_record(), "explanation": result.explanation.to_dict()},
                indent=2,
                default=str,
            )
        )
        return
    render_explanation(result, wide=wide)


def render_explanation(result: Any, *, wide: bool = False) -> None:
    """Rules, dimensions, checks and verdict as readable tables."""
    ex = result.explanation
    verdict = "[bold green]MQL[/]" if result.mql else "[bold red]not an MQL[/]"
    if ex.pql is not None:
        verdict += " · " + ("[bold green]PQL[/]" if result.pql else "[bold red]not a PQL[/]")
    console.print(
        f"lead [bold]{result.lead_id}[/] · segment {result.segment} · total {fmt_points(result.total)} "
        f"/ threshold {fmt_points(ex.threshold)} · {verdict} · model {result.model['name']} "
        f"v{result.model['version']} ({result.model['hash']}) · as of {result.as_of.isoformat()}",
        highlight=False,
    )
    rules = Table(title="rules", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    measured = any(r.bound is not None for r in ex.rules)
    columns = ["dimension", "rule", "matched", "events", "raw", "decayed", "points", "capped"]
    for col in columns + (["measured", "needs"] if measured else []):
        rules.add_column(
            col,
            justify="right"
            if col in ("events", "raw", "decayed", "points", "measured")
            else "left",
            no_wrap=col == "rule",
        )
    for r in ex.rules:
        rules.add_row(
            r.dimension, r.name, "yes" if r.matched else "-",
            str(r.events_counted) if r.kind != "profile" else "",
            fmt_points(r.raw_points), fmt_points(r.decayed_points), fmt_points(r.points),
            "cap" if r.capped else "",
            *([fmt_measure(r.measured), escape(r.bound or "")] if measured else []),
        )  # fmt: skip
    print_table(console, rules, wide=wide)
    dims = Table(title="dimensions", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("dimension", "rules sum", "score", "floor", "floor met"):
        dims.add_column(col)
    for d in ex.dimensions:
        dims.add_row(
            d.name, fmt_points(d.rule_sum), fmt_points(d.score) + (" (clipped)" if d.clipped else ""),
            "" if d.floor is None else fmt_points(d.floor), "" if d.floor is None else ("yes" if d.floor_met else "[red]no[/]"),
        )  # fmt: skip
    print_table(console, dims, wide=wide)
    if ex.checks:
        checks = Table(title="gates and disqualifiers", box=box.SIMPLE_HEAD, pad_edge=False)
        _check_rows(checks)
        for c in ex.checks:
            _check_row(checks, c)
        print_table(console, checks, wide=wide)
    if ex.pql is not None:
        held = sum(s.held for s in ex.pql.signals)
        signals = Table(
            title=f"PQL signals ({held} held, {ex.pql.min_signals} needed)",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for col in ("signal", "held", "events", "measured", "needs"):
            signals.add_column(col, justify="right" if col in ("events", "measured") else "left")
        for sig in ex.pql.signals:
            signals.add_row(
                escape(sig.name), "[green]yes[/]" if sig.held else "no", str(sig.events_counted),
                fmt_measure(sig.measured), escape(sig.bound),
            )  # fmt: skip
        print_table(console, signals, wide=wide)
        if ex.pql.gates:
            gates = Table(title="PQL gates", box=box.SIMPLE_HEAD, pad_edge=False)
            _check_rows(gates)
            for c in ex.pql.gates:
                _check_row(gates, c)
            print_table(console, gates, wide=wide)
    for lack in ex.lacks:
        console.print(f"[red]✗[/] {escape(str(lack))}", highlight=False)


def _pql_cell(record: dict[str, Any]) -> str:
    signals = escape(", ".join(record.get("pql_signals") or []))
    if record.get("pql"):
        return f"[green]yes[/] ({signals})"
    return f"no ({signals})" if signals else "no"


def fmt_measure(value: float | None) -> str:
    """A measure's value: whole numbers without decimals, others as points are shown."""
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else fmt_points(value)


def _check_rows(table: Table) -> None:
    for col in ("kind", "name", "matched", "ok", "measured", "needs"):
        table.add_column(col)


def _check_row(table: Table, c: Any) -> None:
    table.add_row(
        c.kind, escape(c.name), "yes" if c.matched else "no",
        "[green]ok[/]" if c.ok else "[red]fails[/]", fmt_measure(c.measured), escape(c.bound or ""),
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command()(score)
    app.command()(explain)
