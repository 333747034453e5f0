"""``leadgate calibrate`` and ``leadgate targets``: thin adapters over ``leadgate.report``.

Registered by ``cli/report_cmds.py``, whose options and renderers they share.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from leadgate.cli.common import parse_time
from leadgate.cli.report_cmds import (
    ACCOUNTS,
    CHART,
    CHART_FORMAT,
    DB,
    EVENTS,
    FORMAT,
    LEADS,
    OUTCOMES,
    console,
    emit,
    err,
    history_source,
    num,
    output_format,
    pct,
)
from leadgate.cli.tables import WIDE, print_table
from leadgate.errors import LeadgateError


def calibrate_cmd(
    model: str = typer.Option(..., "--model", "-m", help="Model file (or published version with --db)."),
    target: str = typer.Option("sal_acceptance=0.60-0.75", "--target", help="METRIC=LO-HI, METRIC>=X "
                               "or METRIC<=X; metrics: sal_acceptance, mql_sql, mql_won, precision, "
                               "recall, lift, mqls."),
    out: Path | None = typer.Option(None, "--out", "-o", help="New model file (default: "
                                    "<model>-v<new version>.yaml beside it)."),
    no_write: bool = typer.Option(False, "--no-write", help="Only report; write no model file."),
    as_of: str | None = typer.Option(None, "--as-of", help="Score leads never handed over at this "
                                     "time (default: the latest time in the data)."),
    step: float = typer.Option(1.0, "--step", help="Threshold step of the sweep, in points."),
    sweep_floors: bool = typer.Option(False, "--sweep-floors", help="Also sweep a common scale of "
                                      "the floors (x0.5 .. x1.5)."),
    per_segment: bool = typer.Option(True, "--per-segment/--no-per-segment",
                                     help="Recommend a threshold per segment where data allows."),
    min_known: int = typer.Option(30, "--min-known", help="Known outcomes a rate target needs."),
    min_coverage: float = typer.Option(0.5, "--min-coverage", help="Share of a setting's MQLs "
                                       "that must have known outcomes for a rate target."),
    db: str | None = DB, leads: Path | None = LEADS, events: Path | None = EVENTS,
    outcomes: Path | None = OUTCOMES, accounts: Path | None = ACCOUNTS, fmt: str = FORMAT,
    chart: Path | None = CHART, chart_format: str = CHART_FORMAT, wide: bool = WIDE,
) -> None:  # fmt: skip
    """Replay history under a model, sweep the threshold, recommend one, write a new version."""
    from leadgate.cli.common import progress_bar
    from leadgate.report.calibrate import calibrate, calibration_target, write_calibrated_model
    from leadgate.report.sweep import point_record

    fmt = output_format(fmt)
    source = history_source(db, leads, outcomes, events, accounts)
    source.check(need_events=True)
    m, text = source.model_and_text(model)
    taken = source.version_labels(m.name)
    if not no_write:  # where the new model goes and its label, before the replay's work
        if not Path(m.source).is_file() and out is None:
            raise LeadgateError(
                "--out: name the file for the new model version (the model came from the store)"
            )
        target_path, label = calibration_target(m, out, taken)
    history = source.history()
    with progress_bar("replaying") as bar:
        task = bar.add_task("replaying", total=None)
        result = calibrate(
            m, history, target=target, as_of=parse_time(as_of, "--as-of"), step=step,
            sweep_floors=sweep_floors, per_segment=per_segment, min_known=min_known,
            min_coverage=min_coverage,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    written = None
    if not no_write:
        written, new = write_calibrated_model(
            m, result, target_path, version=label, source_text=text, taken=taken
        )
        err.print(f"wrote {written} ({new.name} v{new.version}, {new.hash[:12]}); "
                  f"{m.source} unchanged", highlight=False)  # fmt: skip
    if chart is not None:
        from leadgate.report.charts import tradeoff_chart

        err.print(
            f"chart: {tradeoff_chart(result, chart, chart_format)}", highlight=False, markup=False
        )
    payload = {**result.to_dict(), "written": str(written) if written else None}
    if emit(fmt, payload, [point_record(p) for p in result.curve]):
        return
    state = "[green]met[/]" if result.met else "[red]not met[/]"
    console.print(
        f"{m.name} v{m.version} · {result.leads:,} leads replayed · target {result.target}: {state}",
        highlight=False,
    )
    table = Table(title="Current vs recommended")
    for name in ("setting", "threshold", "floors ×", "MQLs", "known", "SAL acceptance", "MQL→SQL",
                 "MQL→won", "precision", "recall", "lift"):  # fmt: skip
        table.add_column(name, justify="left" if name == "setting" else "right")
    for label, p in (("current", result.current), ("recommended", result.recommended)):
        table.add_row(
            label, num(p["threshold"], 1), f"{p['floor_scale']:g}", f"{p['mqls']:,}", f"{p['known']:,}",
            pct(p["sal_acceptance"]), pct(p["mql_sql"]), pct(p["mql_won"]),
            _pct_plain(p["precision"]), _pct_plain(p["recall"]), num(p["lift"], 2),
        )  # fmt: skip
    print_table(console, table, wide=wide)
    seg = Table(title="Per segment")
    for name in ("segment", "current", "recommended", "how", "MQLs", "SAL acceptance", "MQL→SQL"):
        seg.add_column(name, justify="left" if name in ("segment", "how") else "right")
    for s in result.segments:
        how = "own curve" if s.own else "moved with overall"
        seg.add_row(s.segment, num(s.current, 1), num(s.recommended, 1), how, f"{s.after['mqls']:,}",
                    pct(s.after["sal_acceptance"]), pct(s.after["mql_sql"]))  # fmt: skip
    print_table(console, seg, wide=wide)
    console.print(
        "known outcomes exist only for leads handed to sales in the history: rates for leads the old "
        "process never handed over are extrapolated from those that were.",
        style="dim",
    )


def _pct_plain(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


# -- targets ---------------------------------------------------------------------------------------


def targets_cmd(
    revenue: float = typer.Option(..., "--revenue", help="Revenue goal per year."),
    deal_size: float = typer.Option(..., "--deal-size", help="Average won deal size."),
    rates: str = typer.Option("measured", "--rates", help="'measured' (from history) or "
                              "lead:mql=.2,mql:sal=.7,sal:sql=.5,sql:opp=.6,opp:won=.25"),
    period: str = typer.Option("month", "--period", help="month, quarter or year."),
    db: str | None = DB, leads: Path | None = LEADS, outcomes: Path | None = OUTCOMES,
    accounts: Path | None = ACCOUNTS, fmt: str = FORMAT, wide: bool = WIDE,
) -> None:  # fmt: skip
    """Back-solve wins -> opportunities -> SQLs -> SALs -> MQLs -> leads per period."""
    from leadgate.report.targets import STEPS, funnel_targets, parse_rates

    fmt = output_format(fmt)
    if rates.strip().lower() == "measured":
        plan = funnel_targets(revenue, deal_size, frame=history_source(db, leads, outcomes, accounts=accounts).frame(),
                              period=period)  # fmt: skip
    else:
        if db or leads or outcomes:
            raise LeadgateError(
                "--rates given: drop --db/--leads/--outcomes, or use --rates measured"
            )
        plan = funnel_targets(revenue, deal_size, rates=parse_rates(rates), period=period)
    if emit(fmt, plan.to_dict(), plan.records()):
        return
    console.print(
        f"{plan.revenue:,.0f} a year = {plan.revenue_per_period:,.0f} per {plan.period} at "
        f"{plan.deal_size:,.0f} a deal → {plan.wins_per_period:,} wins per {plan.period} "
        f"({plan.source} rates)",
        highlight=False,
    )
    table = Table(title=f"Needed per {plan.period}")
    table.add_column("channel")
    table.add_column("share of wins", justify="right")
    for s in STEPS:
        table.add_column(s, justify="right")
    for stage in ("leads", "MQLs", "SALs", "SQLs", "opps", "wins"):
        table.add_column(stage, justify="right")
    for row in [plan.total, *plan.channels]:
        need = row.need
        table.add_row(
            row.channel, f"{100 * row.share:.0f}%", *(f"{100 * row.rates[s]:.1f}%" for s in STEPS),
            *("n/a" if need[k] is None else f"{need[k]:,}" for k in ("leads", "mqls", "sals", "sqls", "opps", "wins")),
            end_section=row is plan.total and bool(plan.channels),
        )  # fmt: skip
    print_table(console, table, wide=wide)
    if plan.channels:
        console.print("per channel: its share of wins in the history, solved with its own rates; "
                      "n/a: the channel converted nothing at some stage", style="dim")  # fmt: skip
