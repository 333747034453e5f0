"""``leadgate sql``: print the scoring query for a warehouse, with its input tables documented."""

from __future__ import annotations

from pathlib import Path

import typer

from leadgate.cli.common import parse_as_of

DIALECTS = ("duckdb", "postgres", "sqlite", "spark", "snowflake", "bigquery")


def sql(
    model: Path = typer.Option(..., "--model", "-m", help="Model YAML file."),
    dialect: str = typer.Option(
        "duckdb", "--dialect", "-d", help="duckdb, postgres, sqlite, spark, snowflake or bigquery."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Score as of this time (ISO 8601; default now)."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the SQL here."),
) -> None:
    """Print the model compiled to one SQL query over `leads` and `events` tables."""
    from leadgate.engine import compile_model
    from leadgate.engine.sql_print import warehouse_sql
    from leadgate.errors import LeadgateError
    from leadgate.model import load_model

    if dialect not in DIALECTS:
        raise LeadgateError(f"--dialect: expected one of {', '.join(DIALECTS)}, got '{dialect}'")
    text = warehouse_sql(compile_model(load_model(model)), parse_as_of(as_of), dialect)
    if out is None:
        typer.echo(text, nl=False)
    else:
        from leadgate.io.writers import write_text_output

        write_text_output(out, text)
        typer.echo(f"wrote the {dialect} query to {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command()(sql)
