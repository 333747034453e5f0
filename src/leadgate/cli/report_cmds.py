"""``leadgate report funnel|quality|rejections|speed|compare|mqa`` (here), ``leadgate calibrate`` and
``leadgate targets`` (``cli/calibrate_cmds.py``, registered from here): thin adapters over
``leadgate.report``.

Every command reads its history from ``--db`` (the store) or from files (``--leads --outcomes``,
plus ``--events``/``--accounts`` where scoring is replayed), calls the library, and renders a rich
table, CSV or JSON; ``--chart DIR`` also writes PNG or SVG charts.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from leadgate.cli.common import parse_time
from leadgate.cli.tables import WIDE, print_table, stdout_console
from leadgate.errors import LeadgateError

# Report tables are wide: they fit the terminal (or COLUMNS) by leaving columns out with a note
# (--wide shows all); piped to a file they get 160 columns instead of rich's default 80.
console = stdout_console()
err = Console(stderr=True, soft_wrap=True)  # paths in messages stay whole, one line
report_app = typer.Typer(
    help="Funnel, quality, rejections, speed-to-lead, model comparison and MQAs."
)

DB = typer.Option(
    None,
    "--db",
    help="Store URL or SQLite path (instead of files) [env LEADGATE_DB without files].",
)
LEADS = typer.Option(None, "--leads", help="Leads file (CSV, JSONL or Parquet).")
OUTCOMES = typer.Option(None, "--outcomes", help="Outcomes file: one row per MQL handed to sales.")
EVENTS = typer.Option(None, "--events", help="Events file (needed where scoring is replayed).")
ACCOUNTS = typer.Option(None, "--accounts", help="Accounts file, joined on account_id.")
BY = typer.Option(
    "", "--by", help="Group by: channel, segment, persona, region, industry, cohort, model_version."
)
SINCE = typer.Option(None, "--since", help="Window start (ISO 8601, inclusive).")
UNTIL = typer.Option(None, "--until", help="Window end (ISO 8601, exclusive).")
VERSION = typer.Option(
    None, "--model-version", help="Only this model version (label or hash prefix)."
)
MIX = typer.Option(False, "--mix-versions", help="Pool model versions instead of separating them.")
FORMAT = typer.Option("table", "--format", "-f", help="table, csv or json.")
CHART = typer.Option(None, "--chart", help="Write charts into this folder.")
CHART_FORMAT = typer.Option("png", "--chart-format", help="png or svg.")


def history_source(db: str | None, leads: Path | None, outcomes: Path | None,
                   events: Path | None = None, accounts: Path | None = None, sla_hours: float | None = None) -> Any:  # fmt: skip
    """The history named by ``--db`` or the file options; with neither, ``LEADGATE_DB`` if set.

    The environment only stands in when no file is given, so files never clash with it.
    """
    from leadgate.lifecycle.sla import DEFAULT_SLA_HOURS
    from leadgate.report.sources import HistorySource

    if db is None and leads is None and outcomes is None and events is None:
        db = os.environ.get("LEADGATE_DB") or None

    return HistorySource(db=db, leads=leads, outcomes=outcomes, events=events, accounts=accounts,
                         sla_hours=DEFAULT_SLA_HOURS if sla_hours is None else sla_hours)  # fmt: skip


def output_format(value: str) -> str:
    """Check ``--format``."""
    if value not in ("table", "csv", "json"):
        raise LeadgateError(f"--format: expected table, csv or json, got '{value}'")
    return value


def _by(value: str) -> list[str]:
    return [v for v in (p.strip() for p in value.split(",")) if v]


def emit(fmt: str, payload: dict[str, Any], records: Sequence[dict[str, Any]]) -> bool:
    """Write csv/json to stdout; return False when the caller should draw a table."""
    if fmt == "json":
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return True
    if fmt == "csv":
        names: list[str] = []
        for r in records:
            names.extend(k for k in r if k not in names)
        writer = csv.DictWriter(sys.stdout, fieldnames=names or ["empty"])
        writer.writeheader()
        writer.writerows(records)
        return True
    return False


def pct(rate: Any) -> str:
    """A rate with its interval: ``32.4% [26.8–38.5]``; ``–`` when nothing was measured."""
    if rate is None or not getattr(rate, "n", 0):
        return "–"
    lo, hi = rate.interval
    return f"{100 * rate.value:.1f}% [{100 * lo:.0f}–{100 * hi:.0f}]"


def cell(count: int | None, rate: Any) -> str:
    """A table cell: the count, then the rate and its interval on lines of their own."""
    head = "" if count is None else f"{count:,}\n"
    if rate is None or not rate.n:
        return head + "–"
    lo, hi = rate.interval
    return f"{head}{100 * rate.value:.1f}%\n[dim][{100 * lo:.0f}–{100 * hi:.0f}][/]"


def num(value: float | None, digits: int = 1) -> str:
    """A number with thousands separators; ``–`` for None."""
    return "–" if value is None else f"{value:,.{digits}f}"


def _versions(versions: Sequence[str], mixed: bool) -> str:
    text = ", ".join(versions) or "none"
    return f"model versions: {text}" + (" (pooled)" if mixed else "")


# -- report funnel ---------------------------------------------------------------------------------


@report_app.command("funnel")
def funnel_cmd(
    by: str = BY, since: str | None = SINCE, until: str | None = UNTIL,
    model_version: str | None = VERSION, mix_versions: bool = MIX,
    db: str | None = DB, leads: Path | None = LEADS, outcomes: Path | None = OUTCOMES,
    accounts: Path | None = ACCOUNTS, fmt: str = FORMAT, chart: Path | None = CHART,
    chart_format: str = CHART_FORMAT,
    wide: bool = WIDE,
) -> None:  # fmt: skip
    """Cohort conversion lead -> MQL -> SAL -> SQL -> opportunity -> won, with revenue."""
    from leadgate.report.funnel import funnel_report

    fmt = output_format(fmt)
    frame = history_source(db, leads, outcomes, accounts=accounts).frame()
    report = funnel_report(
        frame, _by(by), since=parse_time(since, "--since"), until=parse_time(until, "--until"),
        model_version=model_version, mix_versions=mix_versions,
    )  # fmt: skip
    if chart is not None:
        from leadgate.report.charts import conversion_chart, funnel_chart, scope

        paths = [funnel_chart(report, chart, chart_format)]
        if report.by:  # named and titled by what it is grouped by (model_version when added)
            bars = [(" / ".join(r.group.values()), r.rates["mql:sql"]) for r in report.rows]
            name = "conversion_by_" + "_".join(report.by)
            title = f"MQL -> SQL {scope(report.by, report.versions)}"
            paths.append(conversion_chart(bars, chart, chart_format, title=title, name=name))
        err.print("charts: " + ", ".join(map(str, paths)), highlight=False, markup=False)
    if emit(fmt, report.to_dict(), report.records()):
        return
    table = Table(title=f"Funnel · {_versions(report.versions, report.mixed)}")
    for col in report.by:
        table.add_column(col)
    for name in ("leads", "MQLs", "SALs", "SQLs", "opps", "won", "MQL→SQL", "MQL→won", "revenue"):
        table.add_column(name, justify="right")
    last = report.rows[-1] if report.rows and report.by else None  # a line under the groups
    rows = report.rows + ([report.total] if report.by else [])
    for r in rows:
        c, rt = r.counts, r.rates
        table.add_row(
            *r.group.values(), f"{c['leads']:,}", cell(c["mqls"], rt["lead:mql"]),
            cell(c["sals"], rt["mql:sal"]), cell(c["sqls"], rt["sal:sql"]),
            cell(c["opps"], rt["sql:opp"]), cell(c["wins"], rt["opp:won"]),
            cell(None, rt["mql:sql"]), cell(None, rt["mql:won"]), num(r.revenue, 0),
            end_section=r is last,
        )  # fmt: skip
    print_table(console, table, wide=wide)
    console.print(
        "each stage: count, conversion from the stage before, [95% Wilson interval]; leads are the "
        "cohort created in the window, later stages the cohort of MQLs in the window",
        style="dim",
    )


# -- report quality --------------------------------------------------------------------------------


@report_app.command("quality")
def quality_cmd(
    by: str = typer.Option("channel", "--by", help="Group by (default channel)."),
    since: str | None = SINCE, until: str | None = UNTIL, model_version: str | None = VERSION,
    mix_versions: bool = MIX, db: str | None = DB, leads: Path | None = LEADS,
    outcomes: Path | None = OUTCOMES, accounts: Path | None = ACCOUNTS, fmt: str = FORMAT,
    chart: Path | None = CHART, chart_format: str = CHART_FORMAT,
    min_n: int = typer.Option(20, "--min-n", help="Fewer MQLs than this: marked low n, not flagged."),
    wide: bool = WIDE,
) -> None:  # fmt: skip
    """MQL volume beside MQL->SQL and SAL acceptance per channel, with flags."""
    from leadgate.report.quality import quality_report

    fmt = output_format(fmt)
    frame = history_source(db, leads, outcomes, accounts=accounts).frame()
    report = quality_report(
        frame, _by(by), since=parse_time(since, "--since"), until=parse_time(until, "--until"),
        model_version=model_version, mix_versions=mix_versions, min_n=min_n,
    )  # fmt: skip
    if chart is not None:
        from leadgate.report.charts import conversion_chart, scope

        rows = [(" / ".join(r.group.values()), r.mql_sql) for r in report.rows]
        p = conversion_chart(
            rows, chart, chart_format, name="conversion_by_" + "_".join(report.by),
            title=f"MQL -> SQL {scope(report.by, report.versions)}",
        )  # fmt: skip
        err.print(f"chart: {p}", highlight=False, markup=False)
    if emit(fmt, report.to_dict(), report.records()):
        return
    table = Table(title=f"Lead quality · {_versions(report.versions, False)}")
    for col in report.by:
        table.add_column(col)
    for name in ("MQLs", "share", "MQL→SQL", "SAL acceptance", "MQL→won"):
        table.add_column(name, justify="right")
    table.add_column("flags", overflow="fold")
    for r in report.rows:
        table.add_row(
            *r.group.values(), f"{r.mqls:,}", f"{100 * r.share:.1f}%", pct(r.mql_sql),
            pct(r.sal_acceptance), pct(r.mql_won),
            "[red]" + "; ".join(r.flags) + "[/]" if r.flags else "[green]ok[/]",
        )  # fmt: skip
    print_table(console, table, wide=wide)


# -- report rejections -----------------------------------------------------------------------------


@report_app.command("rejections")
def rejections_cmd(
    by: str = typer.Option("channel,segment", "--by", help="Dimensions to break reasons down by."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model to explain rejected MQLs with (top rule); with --db the "
        "version that made each MQL is used when known."),
    since: str | None = SINCE, until: str | None = UNTIL, model_version: str | None = VERSION,
    mix_versions: bool = MIX, db: str | None = DB, leads: Path | None = LEADS,
    outcomes: Path | None = OUTCOMES, events: Path | None = EVENTS,
    accounts: Path | None = ACCOUNTS, fmt: str = FORMAT,
    top: int = typer.Option(3, "--top", help="Reasons shown per group in the table."),
    wide: bool = WIDE,
) -> None:  # fmt: skip
    """Sales rejection reasons by channel, segment and the rule that contributed most."""
    from leadgate.report.rejections import rejection_report

    fmt = output_format(fmt)
    source = history_source(db, leads, outcomes, events, accounts)
    plan: Any = None
    plans: dict[str, Any] = {}
    history = None
    if model is not None or source.db:
        if not source.db and events is None:
            raise LeadgateError("--model needs --events to explain each rejected lead")
        history = source.history()
        plans = source.plans()
        if model is not None:
            from leadgate.engine import compile_model

            plan = compile_model(source.model(model))
    frame = history.frame if history is not None else source.frame()
    report = rejection_report(
        frame, _by(by), history=history, plan=plan, plans=plans, since=parse_time(since, "--since"),
        until=parse_time(until, "--until"), model_version=model_version, mix_versions=mix_versions,
    )  # fmt: skip
    if emit(fmt, report.to_dict(), report.records()):
        return
    console.print(
        f"{report.rejected:,} of {report.mqls:,} MQLs rejected · {_versions(report.versions, False)}",
        highlight=False,
    )
    overall = Table(title="Rejection reasons")
    for name, justify in (("reason", "left"), ("count", "right"), ("share", "right")):
        overall.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in report.reasons:
        overall.add_row(r["reason"], f"{r['count']:,}", f"{100 * r['share']:.1f}%")
    print_table(console, overall, wide=wide)
    for dim, items in report.by.items():
        t = Table(title=f"Top reasons by {dim}")
        t.add_column(dim)
        t.add_column("rejected", justify="right")
        t.add_column("top reasons (share of the group's rejections)", overflow="fold")
        groups: dict[str, list[dict[str, Any]]] = {}
        for it in items:
            groups.setdefault(it["group"], []).append(it)
        for group, its in sorted(groups.items(), key=lambda kv: -sum(i["count"] for i in kv[1])):
            its.sort(key=lambda i: -i["count"])
            text = ", ".join(f"{i['reason']} {100 * i['share']:.0f}%" for i in its[:top])
            t.add_row(group, f"{sum(i['count'] for i in its):,}", text)
        print_table(console, t, wide=wide)


# -- report speed ----------------------------------------------------------------------------------


@report_app.command("speed")
def speed_cmd(
    since: str | None = SINCE, until: str | None = UNTIL, model_version: str | None = VERSION,
    mix_versions: bool = MIX, as_of: str | None = typer.Option(
        None, "--as-of", help="Untouched MQLs breach when their SLA ran out by then (default: the "
        "latest time in the data)."),
    sla_hours: float | None = typer.Option(None, "--sla-hours", help="SLA of outcomes from files "
                                           "(default 24; the store records each cycle's own)."),
    db: str | None = DB, leads: Path | None = LEADS, outcomes: Path | None = OUTCOMES,
    accounts: Path | None = ACCOUNTS, fmt: str = FORMAT, chart: Path | None = CHART,
    chart_format: str = CHART_FORMAT,
    wide: bool = WIDE,
) -> None:  # fmt: skip
    """Time to first touch, SLA breaches and conversion by response bucket."""
    from leadgate.report.speed import speed_report

    fmt = output_format(fmt)
    frame = history_source(db, leads, outcomes, accounts=accounts, sla_hours=sla_hours).frame()
    report = speed_report(
        frame, since=parse_time(since, "--since"), until=parse_time(until, "--until"),
        as_of=parse_time(as_of, "--as-of"), model_version=model_version, mix_versions=mix_versions,
    )  # fmt: skip
    if chart is not None:
        from leadgate.report.charts import speed_chart

        err.print(
            f"chart: {speed_chart(report, chart, chart_format)}", highlight=False, markup=False
        )
    if emit(fmt, report.to_dict(), report.records()):
        return
    q = report.quantiles_hours
    console.print(
        f"{report.mqls:,} MQLs, {report.touched:,} touched · hours to first touch: median "
        f"{num(q['median'])}, p75 {num(q['p75'])}, p90 {num(q['p90'])}, mean {num(q['mean'])} · "
        f"SLA breaches {report.sla_breaches:,} ({pct(report.breach_rate)}; {report.breached_late} "
        f"late, {report.breached_untouched} never touched) · {_versions(report.versions, False)}",
        highlight=False,
    )
    table = Table(title="Conversion by response time")
    for name in ("first touch", "MQLs", "MQL→SQL", "MQL→won"):
        table.add_column(name, justify="left" if name == "first touch" else "right")
    for b in report.buckets:
        table.add_row(b.bucket, f"{b.mqls:,}", pct(b.mql_sql), pct(b.mql_won))
    print_table(console, table, wide=wide)


# -- report compare --------------------------------------------------------------------------------


@report_app.command("compare")
def compare_cmd(
    model_a: str = typer.Option(..., "--model-a", "-a", help="Model A: file, or published version with --db."),
    model_b: str = typer.Option(..., "--model-b", "-b", help="Model B: file, or published version with --db."),
    since: str | None = typer.Option(None, "--since", help="Only leads created at or after this."),
    until: str | None = typer.Option(None, "--until", help="Only leads created before this."),
    as_of: str | None = typer.Option(None, "--as-of", help="Score leads never handed over at this "
                                     "time (default: the latest time in the data)."),
    db: str | None = DB, leads: Path | None = LEADS, outcomes: Path | None = OUTCOMES,
    events: Path | None = EVENTS, accounts: Path | None = ACCOUNTS, fmt: str = FORMAT,
    chart: Path | None = CHART, chart_format: str = CHART_FORMAT,
    wide: bool = WIDE,
) -> None:  # fmt: skip
    """Two model versions over the same leads: MQLs, overlap, known-outcome rates."""
    from leadgate.cli.common import progress_bar
    from leadgate.engine import compile_model
    from leadgate.report.compare import compare_models

    fmt = output_format(fmt)
    source = history_source(db, leads, outcomes, events, accounts)
    a, b = compile_model(source.model(model_a)), compile_model(source.model(model_b))
    history = source.history()
    with progress_bar("replaying") as bar:
        task = bar.add_task("replaying", total=None)
        report = compare_models(
            history, a, b, as_of=parse_time(as_of, "--as-of"), since=parse_time(since, "--since"),
            until=parse_time(until, "--until"),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    if chart is not None:
        from leadgate.report.charts import conversion_chart

        rows = [(s.name, s.mql_won) for s in report.sets]
        p = conversion_chart(
            rows, chart, chart_format, title="MQL -> won (known outcomes)", name="compare"
        )
        err.print(f"chart: {p}", highlight=False, markup=False)
    if emit(fmt, report.to_dict(), report.records()):
        return
    ma, mb = report.model_a, report.model_b
    console.print(
        f"A = {ma['name']} v{ma['version']} ({ma['hash'][:12]}), B = {mb['name']} v{mb['version']} "
        f"({mb['hash'][:12]}) · {report.leads:,} leads: both {report.both:,}, only A "
        f"{report.only_a:,}, only B {report.only_b:,}, neither {report.neither:,}",
        highlight=False,
    )
    table = Table(title="MQLs and their known outcomes")
    for name in ("set", "MQLs", "known outcome", "SAL acceptance", "MQL→SQL", "MQL→won", "revenue"):
        table.add_column(name, justify="left" if name == "set" else "right")
    for s in report.sets:
        table.add_row(s.name, f"{s.leads:,}", f"{s.known:,}", pct(s.sal_acceptance), pct(s.mql_sql),
                      pct(s.mql_won), num(s.revenue, 0))  # fmt: skip
    print_table(console, table, wide=wide)


# -- report mqa ------------------------------------------------------------------------------------


@report_app.command("mqa")
def mqa_cmd(
    by: str = typer.Option("tier", "--by", help="Group MQAs by: tier, segment, abm."),
    since: str | None = SINCE, until: str | None = UNTIL, db: str | None = DB,
    fmt: str = FORMAT, wide: bool = WIDE,
) -> None:  # fmt: skip
    """MQA -> opportunity -> won by tier or segment; inbound and ABM hand-offs side by side."""
    from leadgate.report.mqa_store import mqa_report_from_store
    from leadgate.store.db import open_store

    fmt = output_format(fmt)
    source = history_source(db, None, None)
    source.check()
    store = open_store(source.db)
    try:
        report = mqa_report_from_store(
            store, by=_by(by), since=parse_time(since, "--since"),
            until=parse_time(until, "--until"),
        )  # fmt: skip
    finally:
        store.close()
    payload = report.to_dict()
    if emit(fmt, payload, [*report.records(), *payload["handoffs"]]):
        return
    table = Table(title="MQA funnel")
    for col in report.by:
        table.add_column(col)
    for name in ("accounts", "MQAs", "accepted", "opps", "won", "MQA→won"):
        table.add_column(name, justify="right")
    last = report.rows[-1] if report.rows and report.by else None  # a line under the groups
    for r in report.rows + ([report.total] if report.by else []):
        c, rt = r.counts, r.rates
        table.add_row(
            *r.group.values(), f"{c['accounts']:,}", cell(c["mqas"], rt["account:mqa"]),
            cell(c["accepted"], rt["mqa:accepted"]), cell(c["opps"], rt["mqa:opp"]),
            cell(c["wins"], rt["opp:won"]), cell(None, rt["mqa:won"]),
            end_section=r is last,
        )  # fmt: skip
    print_table(console, table, wide=wide)
    hand = Table(title="Hand-offs, each counted once")
    for name in ("hand-off", "count", "accepted", "opps", "won", "→won"):
        hand.add_column(name, justify="left" if name == "hand-off" else "right")
    for h in report.handoffs:
        c, rt = h.counts, h.rates
        hand.add_row(
            h.group["handoff"], f"{c['handoffs']:,}", cell(c["accepted"], rt["handoff:accepted"]),
            cell(c["opps"], rt["handoff:opp"]), cell(c["wins"], rt["opp:won"]),
            cell(None, rt["handoff:won"]),
        )  # fmt: skip
    print_table(console, hand, wide=wide)
    console.print(
        f"each stage: count, conversion from the stage before, [95% Wilson interval]; "
        f"{report.not_counted:,} MQL/PQL cycles of ABM accounts' leads are counted with their "
        "account's MQA, not as inbound",
        style="dim",
    )


def register(app: typer.Typer) -> None:
    from leadgate.cli.calibrate_cmds import calibrate_cmd, targets_cmd

    app.add_typer(report_app, name="report")
    app.command("calibrate")(calibrate_cmd)
    app.command("targets")(targets_cmd)
