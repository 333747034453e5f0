"""The demo: synthetic funnel -> reference model -> MQL queue and a short funnel summary; the
data includes the product-led motion, and PostHog's PQL definition picks its PQLs (with their
own funnel lines), and ABM accounts, whose MQAs the ABM model picks (``demo_accounts``).

``leadgate demo`` is the first thing a new user runs; it shows the whole flow on realistic data
in well under a minute, with nothing to configure.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from leadgate.demo_accounts import DemoAccounts, prepare_demo_accounts, score_demo_accounts
from leadgate.io import read_table
from leadgate.scoring import Progress, score_files

REFERENCE_MODEL = Path(__file__).parent / "examples" / "b2b-inbound.yaml"
# PostHog's definition has no time window, so older PQLs have closed deals to compare with.
PQL_MODEL = Path(__file__).parent / "examples" / "posthog-pql.yaml"


@dataclass
class FunnelLine:
    """One group of leads (MQL now or not) and what historically happened to them."""

    group: str
    leads: int
    handed_to_sales: int = 0
    sal: int = 0
    sql: int = 0
    won: int = 0
    revenue: float = 0.0


@dataclass
class DemoResult:
    """What the demo produced: data folder, scores, the queue and funnel lines."""

    data_dir: Path
    as_of: datetime
    model: dict[str, str]
    records: list[dict[str, Any]]
    queue: list[dict[str, Any]]
    funnel: list[FunnelLine]
    segments: Counter[str] = field(default_factory=Counter)
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    pqls: list[dict[str, Any]] = field(default_factory=list)  # PQL_MODEL's, best total first
    pql_signals: Counter[str] = field(default_factory=Counter)
    pql_funnel: list[FunnelLine] = field(default_factory=list)
    accounts: DemoAccounts | None = None  # the ABM model's accounts and MQA queue


def _outcomes(path: Path) -> dict[str, dict[str, Any]]:
    return {str(row["lead_id"]): row for _, row in read_table(path)} if path.exists() else {}


def funnel_lines(
    records: list[dict[str, Any]], outcomes: dict[str, dict[str, Any]], flag: str = "mql"
) -> list[FunnelLine]:
    """MQLs and non-MQLs of the model (PQLs and non-PQLs with ``flag="pql"``) beside their
    historical sales outcomes."""
    name = flag.upper()
    lines = {name: FunnelLine(name, 0), f"not {name}": FunnelLine(f"not {name}", 0)}
    for rec in records:
        line = lines[name if rec[flag] else f"not {name}"]
        line.leads += 1
        out = outcomes.get(str(rec["lead_id"]))
        if not out:
            continue
        line.handed_to_sales += 1
        line.sal += out.get("sal_status") == "accepted"
        line.sql += out.get("sql_time") is not None
        if out.get("outcome") == "won":
            line.won += 1
            line.revenue += float(out.get("amount") or 0)
    return list(lines.values())


def run_demo(
    out_dir: str | Path,
    n_leads: int = 20000,
    seed: int = 7,
    engine: str = "python",
    progress: Progress | None = None,
    accounts: bool = True,
) -> DemoResult:
    """Generate (or reuse) a synthetic data set and score it with the reference model;
    ``accounts``: add ABM tiers and account visits and score the accounts (the MQAs)."""
    from leadgate.synth import generate

    data = Path(out_dir)
    synth = generate(n_leads, seed, data, product_led=True)
    as_of = synth.as_of
    # The ABM files are written and read in a thread while the engine scores the leads (it
    # works outside Python's lock): the account step then costs little more than its scoring.
    with ThreadPoolExecutor(1) as pool:
        prepared = pool.submit(prepare_demo_accounts, data, seed, as_of) if accounts else None
        records = score_files(
            REFERENCE_MODEL,
            synth.leads,
            synth.events,
            as_of,
            accounts=None,
            engine=engine,
            progress=progress,
        )
        pql_records = score_files(
            PQL_MODEL, synth.leads, synth.events, as_of, accounts=synth.accounts, engine=engine
        )
        inputs = prepared.result() if prepared is not None else None
    pqls = sorted((r for r in pql_records if r["pql"]), key=lambda r: (-r["total"], r["lead_id"]))
    queue = sorted((r for r in records if r["mql"]), key=lambda r: -r["total"])
    outcomes = _outcomes(Path(synth.outcomes))
    reasons: Counter[str] = Counter()
    for r in records:
        for m in r["missing"]:
            reasons[m.split(":")[0] if not m.startswith(("gate", "disq")) else m] += 1
    return DemoResult(
        data_dir=data,
        as_of=as_of,
        model=records[0]["model"] if records else {},
        records=records,
        queue=queue,
        funnel=funnel_lines(records, outcomes),
        segments=Counter(r["segment"] for r in queue),
        top_reasons=reasons.most_common(5),
        pqls=pqls,
        pql_signals=Counter(name for r in pqls for name in r["pql_signals"]),
        pql_funnel=funnel_lines(pql_records, outcomes, "pql"),
        accounts=score_demo_accounts(
            inputs, REFERENCE_MODEL, records, Path(synth.events), as_of, engine
        )
        if inputs is not None
        else None,
    )


@dataclass
class DemoStore:
    """A store loaded with the demo data under the ABM model, and an admin key for it."""

    db: str
    data_dir: Path
    as_of: datetime
    leads: int
    events: int
    mqls: int
    token: str
    mqas: int = 0


def build_demo_store(
    db: str, out_dir: str | Path, n_leads: int = 2000, seed: int = 7, as_of: datetime | None = None
) -> DemoStore:
    """Generate the demo data (timed up to ``as_of``) with its ABM tiers and account visits,
    publish the ABM model (the reference model plus its ``accounts:`` block), load accounts,
    leads, events, account events and outcomes into the store at ``db``, and create an admin
    key. Leads of ABM accounts are handed to sales with their account's MQA.

    An existing store at ``db`` is refused (the demo never writes into a store with data).

    Raises:
        LeadgateError: ``db`` already holds leads or models.
    """
    from leadgate.api.keys import create_key
    from leadgate.demo_accounts import ACCOUNT_MODEL
    from leadgate.errors import LeadgateError
    from leadgate.service import list_models, load_file, mql_queue, publish_model
    from leadgate.service.accounts import mqa_queue
    from leadgate.store import open_store
    from leadgate.synth import generate
    from leadgate.synth.abm import add_abm

    store = open_store(db)
    try:
        if list_models(store):
            raise LeadgateError(f"--db: {db} already holds a published model; give a new path")
        synth = generate(n_leads, seed, Path(out_dir), as_of=as_of)
        when = synth.as_of
        add_abm(synth.out_dir, seed, when)
        publish_model(store, ACCOUNT_MODEL, actor="demo", as_of=when)
        files = [("accounts", synth.out_dir / "abm_accounts.csv"), ("leads", synth.leads),
                 ("events", synth.events), ("events", synth.out_dir / "account_events.csv"),
                 ("outcomes", synth.outcomes)]  # fmt: skip
        for kind, path in files:
            load_file(store, kind, path, as_of=when, actor="demo")
        mqls = len(mql_queue(store, as_of=when))
        mqas = len(mqa_queue(store, as_of=when, limit=100_000))
        token = create_key(store, "admin", name="demo-admin", created_by="demo").token
    finally:
        store.close()
    return DemoStore(db, synth.out_dir, when, synth.n_leads, synth.n_events, mqls, token, mqas)
