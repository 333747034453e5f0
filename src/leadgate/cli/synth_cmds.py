"""``leadgate synth``: write a realistic synthetic data set with known ground truth."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from leadgate.cli.common import parse_as_of, progress_bar
from leadgate.errors import LeadgateError

console = Console()
FORMATS = ("parquet", "csv", "jsonl")


def synth(
    leads: int = typer.Option(10_000, "--leads", "-n", help="Number of leads to generate."),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed; same seed, same files."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the files into."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="The data set's 'now' (ISO 8601); default 2026-11-01T00:00:00Z."
    ),
    fmt: str = typer.Option("parquet", "--format", "-f", help="Events file: parquet, csv, jsonl."),
    product_led: bool = typer.Option(
        False,
        "--product-led",
        help="Add the product-led motion: trial sign-ups, activation, usage, invitations, "
        "upgrades and hand raises, with their ground truth (for PQL models).",
    ),
) -> None:
    """Generate accounts, leads, events, outcomes and ground truth for a B2B funnel."""
    from leadgate.synth import generate

    if leads < 1:
        raise LeadgateError(f"--leads: must be at least 1, got {leads}")
    if seed < 0:
        raise LeadgateError(f"--seed: must be 0 or more, got {seed}")
    if fmt not in FORMATS:
        raise LeadgateError(f"--format: expected one of {', '.join(FORMATS)}, got '{fmt}'")
    when = parse_as_of(as_of) if as_of is not None else None
    started = time.perf_counter()
    with progress_bar("generating leads") as bar:
        task = bar.add_task("generating leads", total=leads)
        result = generate(
            leads,
            seed,
            out,
            as_of=when,
            events_format=fmt,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            product_led=product_led,
        )
    seconds = time.perf_counter() - started
    table = Table(show_header=True, header_style="bold")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for path, rows in (
        (result.accounts, result.n_accounts),
        (result.leads, result.n_leads),
        (result.events, result.n_events),
        (result.outcomes, result.n_handed),
        (result.truth, result.n_leads),
    ):
        table.add_row(str(path), f"{rows:,}")
    console.print(table)
    console.print(
        f"{result.n_leads:,} leads, {result.n_events:,} events "
        f"({result.n_events / max(seconds, 1e-9):,.0f} events/s), "
        f"{result.n_handed:,} handed to sales; as of {result.as_of.isoformat()}, seed {seed}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(synth)
