"""``leadgate fit``: learn a points scorecard from outcomes and write it as a model YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leadgate.cli.common import progress_bar
from leadgate.errors import LeadgateError

console = Console()


def fit(
    out: Path = typer.Option(
        ..., "--out", "-o", help="The model YAML to write (report beside it)."
    ),
    leads: Path | None = typer.Option(None, "--leads", help="Leads file (with --outcomes)."),
    events: Path | None = typer.Option(None, "--events", help="Events file (with --leads)."),
    outcomes: Path | None = typer.Option(
        None, "--outcomes", help="Outcomes file: lead_id, mql_time, sal_status, sql_time, outcome."
    ),
    data: Path | None = typer.Option(
        None, "--data", help="A flat export with one row per lead and an outcome column."
    ),
    target: str | None = typer.Option(
        None,
        "--target",
        help="won, sql or sal (with --leads; default won); the outcome column (with --data).",
    ),
    as_of_field: str = typer.Option(
        "mql_time", "--as-of-field", help="Outcomes column holding the moment predicted."
    ),
    id_column: str | None = typer.Option(None, "--id", help="The id column of --data."),
    exclude: list[str] = typer.Option(
        [], "--exclude", help="A column never to learn from (repeatable)."
    ),
    positive: str | None = typer.Option(
        None, "--positive", help="The outcome value that counts as positive (--data)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Keep columns detected as post-outcome leaks."
    ),
    hybrid_with: Path | None = typer.Option(
        None, "--hybrid-with", help="Add the scorecard to this model as a 'predictive' dimension."
    ),
    layout: str = typer.Option(
        "split", "--layout", help="split (fit/engagement/intent) or predictive (one dimension)."
    ),
    mql_rate: float | None = typer.Option(
        None, "--mql-rate", help="Choose the threshold for this share of MQLs (else best F1)."
    ),
    name: str | None = typer.Option(None, "--name", help="The model's name."),
    max_rules: int = typer.Option(
        60, "--max-rules", help="At most this many rules, pairwise interactions included."
    ),
    pdo: float = typer.Option(20.0, "--pdo", help="Points to double the odds."),
    base_score: float = typer.Option(600.0, "--base-score", help="Score at the base odds."),
    base_odds: float = typer.Option(50.0, "--base-odds", help="Odds (x:1) at the base score."),
) -> None:
    """Learn a points scorecard from historical outcomes; write it as an ordinary model."""
    # The options first: they need no library, and scikit-learn takes seconds to import.
    if layout not in ("split", "predictive"):
        raise LeadgateError(f"--layout: expected split or predictive, got '{layout}'")
    if max_rules < 1:
        raise LeadgateError(f"--max-rules: expected a positive number, got {max_rules}")
    if pdo <= 0 or base_odds <= 0:
        raise LeadgateError("--pdo and --base-odds must be positive")
    from leadgate.io.writers import check_output_path

    check_output_path(out)  # before the work, not after it
    table: tuple[Path, str, str] | None = None  # --data, --target, --id
    history: tuple[Path, Path] | None = None  # --leads, --outcomes
    if data is not None:
        if leads is not None or outcomes is not None or events is not None:
            raise LeadgateError("use either --data or --leads/--events/--outcomes, not both")
        if target is None or id_column is None:
            raise LeadgateError("--data needs --target COLUMN and --id COLUMN")
        table = (data, target, id_column)
    else:
        if leads is None or outcomes is None:
            raise LeadgateError(
                "give --leads and --outcomes (and usually --events), or --data with --target and --id"
            )
        if positive is not None:
            raise LeadgateError("--positive applies to --data; with --leads use --target")
        history = (leads, outcomes)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise LeadgateError(
            "leadgate fit needs scikit-learn: pip install 'leadgate[learn]'"
        ) from None
    from leadgate.learn import FitOptions, Scaling, fit_files, fit_table

    options = FitOptions(
        name=name,
        scaling=Scaling(base_score, base_odds, pdo),
        layout=layout,
        threshold_method="rate" if mql_rate is not None else "f1",
        mql_rate=mql_rate,
        force=force,
        hybrid_with=hybrid_with,
        max_rules=max_rules,
    )
    with progress_bar("fitting") as bar:
        task = bar.add_task("reading files", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total or None)

        if table is not None:
            result = fit_table(*table, out, tuple(exclude), positive, options, progress)
        else:
            assert history is not None  # one of the two, checked above
            result = fit_files(
                history[0], events, history[1], out, target or "won", as_of_field,
                tuple(exclude), options, progress,
            )  # fmt: skip
    render_fit(result.report, result.model_path)


def render_fit(report: dict[str, Any], model_path: Path) -> None:
    """The summary people read after a fit: accuracy, threshold, leaks, files."""
    sc, ceiling, data = report["scorecard"], report["ceiling"], report["data"]
    console.print(
        f"learned from {data['rows']} leads ({data['positives']} positive), split "
        f"{data['split']}: {data['train_rows']} training / {data['test_rows']} held out",
        highlight=False,
    )
    for note in data["notes"]:
        console.print(f"  note: {note}", highlight=False, markup=False)
    for leak in report["leaks"]:
        verdict = "[red]dropped[/]" if leak["dropped"] else "[yellow]kept (--force)[/]"
        console.print(
            f"  leak: {escape(leak['feature'])}: {escape(leak['reason'])} — {verdict}",
            highlight=False,
        )
    table = Table(title="held-out results")
    for col in ("model", "ROC AUC", "threshold", "MQL rate", "precision", "recall"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for label, m in (("scorecard (engine)", sc), ("gradient-boosted ceiling", ceiling)):
        table.add_row(
            label, *(str(m[k]) for k in ("auc", "threshold", "mql_rate", "precision", "recall"))
        )
    console.print(table)
    selected = sum(f["selected"] for f in report["features"])
    console.print(
        f"{selected} features and {len(report.get('interactions', []))} interactions in "
        f"{report.get('rules', '?')} rules, AUC gap to the ceiling {report['auc_gap']:+.4f}; "
        f"threshold {report['threshold']['points']:g} points",
        highlight=False,
    )
    for it in report.get("interactions", []):
        console.print(
            f"  interaction: {it['rule']}: {it['points']:+d} points, lift {it['lift']}, "
            f"support {it['support']} rows ({it['support_share']:.1%})",
            highlight=False, markup=False,
        )  # fmt: skip
    files = report["files"]
    console.print(
        f"wrote [bold]{model_path}[/], {files['scorecard']}, {files['report_md']}", highlight=False
    )


def register(app: typer.Typer) -> None:
    app.command()(fit)
