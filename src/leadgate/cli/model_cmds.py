"""``leadgate validate`` and ``leadgate schema``: checking and describing model files."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from leadgate.errors import ModelError

console = Console()


def validate(model: Path = typer.Argument(..., help="Model YAML file.")) -> None:
    """Check a model file; report every problem with line, column and a hint."""
    # Here, not at the top: the model spec (pydantic, the engine) is the heaviest import of
    # the command line, and `leadgate --help` registers this module (issue #14).
    from leadgate.model import load_model

    try:
        m = load_model(model)
    except ModelError as exc:
        for problem in exc.problems:
            console.print(f"[red]✗[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
        console.print(
            f"[red]{len(exc.problems)} problem(s)[/] in {escape(str(model))}", highlight=False
        )
        raise typer.Exit(1) from None
    dims = ", ".join(f"{name} ({len(d.rules)} rules)" for name, d in m.spec.dimensions.items())
    console.print(
        f"[green]✓[/] {model}: model [bold]{m.name}[/] version {m.version} "
        f"(hash {m.hash}): {dims}; threshold {m.spec.threshold:g}; "
        f"{len(m.spec.segments)} segment(s)"
        + (
            f"; PQL: {m.spec.pql.min_signals} of {len(m.spec.pql.signals)} signal(s)"
            if m.spec.pql is not None
            else ""
        ),
        highlight=False,
        soft_wrap=True,
    )


def schema() -> None:
    """Print the JSON Schema of model files (for editor autocompletion)."""
    from leadgate.model import model_json_schema

    typer.echo(json.dumps(model_json_schema(), indent=2))


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(schema)
