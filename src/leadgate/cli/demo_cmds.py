"""``leadgate demo``: the whole flow on synthetic data, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from leadgate.cli.common import progress_bar

console = Console()


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def queue_table(
    rows: list[dict[str, Any]], queued: int, scored: int, profiles: dict[str, dict[str, Any]]
) -> Table:
    """The MQL queue as shown by the demo: ``rows`` (score records) beside title and channel."""
    queue = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,  # one space between columns: the total column fits 80 columns
        title=f"MQL queue: {queued:,} leads ({_pct(queued, scored)})",
    )
    queue.add_column("lead", no_wrap=True, min_width=8)
    queue.add_column("title", no_wrap=True, overflow="ellipsis", max_width=18)
    queue.add_column("channel", no_wrap=True, overflow="ellipsis", max_width=11)
    for col in ("fit", "eng.", "intent", "total"):
        queue.add_column(col, justify="right", no_wrap=True, min_width=6)
    for r in rows:
        p = profiles.get(str(r["lead_id"]), {})
        s = r["scores"]
        queue.add_row(
            str(r["lead_id"]) + ("*" if r["segment"] != "default" else ""),
            str(p.get("title") or "-"), str(p.get("source") or "-"),
            *(f"{s.get(d, 0):.1f}" for d in ("fit", "engagement", "intent")), f"{r['total']:.1f}",
        )  # fmt: skip
    return queue


def serve_demo(leads: int, seed: int, out: Path, db: str | None, host: str, port: int) -> None:
    """``leadgate demo --serve``: the demo data in a store, an admin key, the server running."""
    from datetime import UTC, datetime

    from leadgate.api.server import ServeOptions, serve
    from leadgate.demo import build_demo_store

    db = db or str(out / "demo.db")
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with progress_bar("loading") as bar:
        bar.add_task(f"generating {leads:,} leads and loading them into {db}", total=None)
        built = build_demo_store(db, out, leads, seed, as_of=now)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    console.print(
        f"demo store: {db} · {built.leads:,} leads, {built.events:,} events, "
        f"{built.mqls:,} MQLs and {built.mqas:,} MQAs waiting, ABM model published",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"open {base}/app and sign in with this admin key:", highlight=False)
    console.print(built.token, highlight=False, soft_wrap=True)
    serve(
        ServeOptions(db=db, host=host, port=port, log_level="warning"),
        announce=lambda line: console.print(line, highlight=False, soft_wrap=True),
    )


def demo(
    leads: int | None = typer.Option(
        None, "--leads", help="How many synthetic leads (default 20000; 2000 with --serve)."
    ),
    seed: int = typer.Option(7, "--seed", help="Random seed (same seed, same data)."),
    out: Path = typer.Option(Path("demo-data"), "--out", help="Where the synthetic files go."),
    engine: str = typer.Option("duckdb", "--engine", help="python, duckdb or sqlite."),
    top: int = typer.Option(15, "--top", help="MQL queue rows to show."),
    serve: bool = typer.Option(
        False, "--serve", help="Load the demo into a store and start the server with the web app."
    ),
    db: str | None = typer.Option(
        None, "--db", help="With --serve: a new store (default OUT/demo.db)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="With --serve: interface to listen on."),
    port: int = typer.Option(8000, "--port", help="With --serve: TCP port."),
) -> None:
    """Generate a realistic funnel, score it with the reference model, show the MQL queue,
    the PQLs of its product-led motion and the MQAs of its ABM accounts.

    With --serve: load it into a store, create an admin key and start the server (web app at
    /app); the URL and the key are printed.
    """
    from leadgate.demo import PQL_MODEL, REFERENCE_MODEL, run_demo
    from leadgate.errors import LeadgateError
    from leadgate.io import read_table

    leads = leads if leads is not None else (2000 if serve else 20000)
    if leads < 1:
        raise LeadgateError(f"--leads must be at least 1, got {leads}")
    if serve:
        serve_demo(leads, seed, out, db, host, port)
        return
    with progress_bar("scoring") as bar:
        task = bar.add_task(f"generating {leads:,} leads and scoring", total=None)
        result = run_demo(
            out, leads, seed, engine, progress=lambda d, t: bar.update(task, completed=d, total=t)
        )
    m = result.model
    console.rule(
        f"[bold]leadgate demo[/] · model {m.get('name')} v{m.get('version')} ({m.get('hash')})"
    )
    console.print(
        f"data: {result.data_dir}/ · {len(result.records):,} leads scored as of {result.as_of:%Y-%m-%d} "
        f"with {REFERENCE_MODEL.name} ({engine} engine)",
        highlight=False,
    )
    profiles = {str(row["lead_id"]): row for _, row in read_table(result.data_dir / "leads.csv")}
    queue = queue_table(result.queue[:top], len(result.queue), len(result.records), profiles)
    console.print(queue)
    console.print("* enterprise segment (threshold 80)", highlight=False)
    funnel = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title="today's MQLs and PQLs vs. what sales did with these leads historically",
    )
    for col in ("group", "leads", "to sales", "SAL", "SQL", "won", "win rate", "revenue"):
        funnel.add_column(col, justify="left" if col == "group" else "right", no_wrap=True)
    for f in [*result.funnel, *result.pql_funnel]:
        funnel.add_row(
            f.group, f"{f.leads:,}", f"{f.handed_to_sales:,}", _pct(f.sal, f.handed_to_sales),
            _pct(f.sql, f.handed_to_sales), f"{f.won:,}", _pct(f.won, f.handed_to_sales),
            f"${f.revenue / 1e6:,.1f}M",
        )  # fmt: skip
    console.print(funnel)
    if result.top_reasons:
        console.print(
            "most common reasons a lead is not an MQL: "
            + "; ".join(f"{reason} ({n:,})" for reason, n in result.top_reasons),
            highlight=False,
        )
    lead = str(result.queue[0]["lead_id"]) if result.queue else str(result.records[0]["lead_id"])
    data = (
        f"--leads {_shown(result.data_dir / 'leads.csv')} "
        f"--events {_shown(result.data_dir / 'events.parquet')} --as-of {result.as_of:%Y-%m-%d}"
    )
    files = f"--model {_shown(REFERENCE_MODEL)} {data}"
    prog = _prog()
    lines = [
        f"  {prog} explain {lead} {files}",
        f"  {prog} score {files} --out {_shown(result.data_dir / 'scores.csv')}",
    ]
    if result.pqls:
        _print_pqls(result)
        pql = str(result.pqls[0]["lead_id"])
        lines.append(
            f"  {prog} explain {pql} --model {_shown(PQL_MODEL)} {data} "
            f"--accounts {_shown(result.data_dir / 'accounts.csv')}"
        )
    if result.accounts is not None:
        lines.append(_print_mqas(result.accounts, top, data, prog))
    console.print("next (copy and run):", highlight=False)
    # soft_wrap: a long command stays one line (the terminal wraps it), so it copies as it runs.
    for line in lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def _print_pqls(result: Any) -> None:
    """The product qualified leads of the demo's product-led motion: how many, by which
    signal, and the first few ids."""
    from leadgate.demo import PQL_MODEL

    n = len(result.pqls)
    signals = ", ".join(f"{name} {k:,}" for name, k in result.pql_signals.most_common())
    mqls = {r["lead_id"] for r in result.queue}
    both = sum(1 for r in result.pqls if r["lead_id"] in mqls)
    console.print(
        f"PQLs by {PQL_MODEL.name} (product usage): {n:,} leads "
        f"({_pct(n, len(result.records))}), {both:,} of them also MQLs; signals: {signals}; "
        "e.g. " + ", ".join(str(r["lead_id"]) for r in result.pqls[:5]),
        highlight=False,
    )


def mqa_table(acc: Any, top: int) -> Table:
    """The MQA queue as shown by the demo: the best accounts, their tier, buying group and
    scores."""
    n = len(acc.scores)
    table = Table(
        box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True,
        title=f"MQA queue: {len(acc.queue):,} accounts ({_pct(len(acc.queue), n)})",
    )  # fmt: skip
    table.add_column("account", no_wrap=True, min_width=7)
    table.add_column("company", no_wrap=True, overflow="ellipsis", max_width=16)
    table.add_column("tier", justify="right", no_wrap=True)
    for col in ("leads", "group", "fit", "eng.", "intent", "total"):
        table.add_column(col, justify="right", no_wrap=True, min_width=5)
    for a in acc.queue[:top]:
        row, ex = acc.profiles.get(a.account_id, {}), a.explanation
        table.add_row(
            a.account_id + ("*" if a.abm else ""), str(row.get("company") or "-"),
            str(row.get("tier") or "-"), str(len(ex.leads)), f"{ex.completeness or 0:.0%}",
            *(f"{a.scores.get(d, 0):.1f}" for d in ("fit", "engagement", "intent")),
            f"{a.total:.1f}",
        )  # fmt: skip
    return table


def _print_mqas(acc: Any, top: int, data: str, prog: str) -> str:
    """The accounts of the ABM model: the MQA queue, what sales made of MQAs and of the other
    accounts afterwards; returns the command that explains the first MQA."""
    from leadgate.demo_accounts import ACCOUNT_MODEL

    console.print(mqa_table(acc, min(top, 10)))
    console.print(
        f"* ABM account (tier 1-2: handed to sales as an account) · model {ACCOUNT_MODEL.name}",
        highlight=False,
    )
    for line in acc.funnel:
        console.print(
            f"{line.group}: {line.accounts:,} accounts, {_pct(line.opportunities, line.accounts)} "
            f"got an opportunity later, {_pct(line.won, line.accounts)} won "
            f"(${line.revenue / 1e6:,.1f}M)",
            highlight=False,
        )
    shown = acc.queue[0] if acc.queue else acc.scores[0]
    return (
        f"  {prog} accounts explain {shown.account_id} --model {_shown(ACCOUNT_MODEL)} "
        f"{data} --events {_shown(acc.events_file)} --accounts {_shown(acc.accounts_file)}"
    )


def _shown(path: Path) -> str:
    """A path as the user can type it from here: relative when under the current folder."""
    import os
    import shlex

    # abspath, not resolve: a venv's python is a symlink that must stay the venv's.
    full = Path(os.path.abspath(path))
    try:
        text = str(full.relative_to(Path.cwd()))
    except ValueError:
        text = str(full)
    return shlex.quote(text)


def _prog() -> str:
    """How this command was started, to print follow-up commands that run as printed:
    ``leadgate`` when that is on PATH, else the path the user typed (``.venv/bin/leadgate``)."""
    import os
    import shutil
    import sys

    argv0 = Path(sys.argv[0])
    if argv0.name == "__main__.py":  # python -m leadgate
        return f"{_shown(Path(sys.executable))} -m leadgate"
    on_path = shutil.which("leadgate")
    if on_path and os.path.samefile(on_path, argv0):
        return "leadgate"
    return _shown(argv0)


def register(app: typer.Typer) -> None:
    app.command()(demo)
