"""The batch re-score (``service/rescore_batch.py``: records built as JSON in DuckDB, bulk writes,
lifecycle only for the leads that may move) stores exactly what the per-lead path stores.

Two stores get the same leads, events and sales actions; one re-scores with ``engine="python"``
(a ``Score`` object and ``apply_scores`` for every lead), the other with ``engine="duckdb"``.
Publishes (dry run and real), ticks and expiries must leave every lead with the same score
record (parsed JSON, same key order, floats within 1e-9), score history, transitions, MQL cycles
and outbox messages, and return the same summaries and examples.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from compare_helpers import assert_close
from leadgate.engine import Event
from leadgate.service import (
    dispose,
    ingest_events,
    load_file,
    publish_model,
    tick,
)
from leadgate.store import Store, open_store
from leadgate.store.schema import leads, mql_cycles, outbox, score_history, transitions
from store_helpers import BACKENDS, temp_store_url

T0 = datetime(2026, 3, 1, tzinfo=UTC)
N_LEADS = 160
# Profile, event (decayed, capped, filtered on a property), count rules; a gate, a
# disqualifier, floors and a segment with its own threshold, SLA and recycling.
MODEL = """\
name: parity
version: 1
threshold: 30
recycle_after_days: 4
floors: {fit: 5}
dimensions:
  fit:
    max: 40
    rules:
      - {name: vp, when: {title: {contains: vp}}, points: 15}
      - {name: big, when: {account.size: {gte: 500}}, points: 10}
      - {name: rated, when: {rating: {between: [2.5, 4]}}, points: 3.5}
  intent:
    half_life_days: 9
    rules:
      - {name: pricing, event: page_view, where: {url: {contains: /pricing}}, points: 8, max_count: 3}
      - {name: demo, event: demo_request, points: 20}
      - {name: opens, event: email_open, points: 1.25, max_points: 6}
      - {name: busy, events: {type: email_click, min_count: 2, within_days: 30,
                               where: {channel: {eq: email}}}, points: 4}
require:
  - {name: work email, when: {email: {not_free_email: true}}}
disqualify:
  - {name: rival, when: {email: {domain_in: [rival.io]}}}
segments:
  - {name: enterprise, when: {account.size: {gte: 500}}, threshold: 40, sla_hours: 6,
     recycle_after_days: 2, floors: {intent: 7.5}}
"""
TITLES = ["VP Sales", "Engineer", "vp marketing", "Analyst", "SVP Ops", ""]
DOMAINS = ["acme.com", "gmail.com", "rival.io", "globex.io", "initech.com"]
URLS = ["/pricing", "/pricing/team", "/docs", "/blog/x", "/PRICING"]
TYPES = ["page_view", "page_view", "email_open", "email_click", "demo_request", "form_submit"]


def _version(threshold: float, version: int, floor: float = 5) -> str:
    return (
        MODEL.replace("threshold: 30", f"threshold: {threshold}")
        .replace("version: 1", f"version: {version}")
        .replace("floors: {fit: 5}", f"floors: {{fit: {floor}}}")
    )


def _events(rng: random.Random, ids: list[str], n: int, end: datetime, tag: str) -> list[Event]:
    out = []
    for k in range(n):
        type_ = rng.choice(TYPES)
        # Properties on every type; the model reads page views' and email clicks' only.
        props = {"url": rng.choice(URLS), "channel": rng.choice(["email", "web"])}
        at = end - timedelta(days=rng.uniform(0, 45), seconds=rng.randrange(86400))
        out.append(Event(rng.choice(ids), type_, at, f"{tag}{k}", props))
    return out


def _fill(store: Store, seed: int, folder: Path) -> None:
    """Accounts, leads (every tenth a duplicate by email) and events, loaded as files."""
    rng = random.Random(seed)
    accounts = [
        {"account_id": f"A{a}", "size": rng.choice([20, 120, "900", 5000])} for a in range(8)
    ]
    ids = [f"L{i:03d}" for i in range(N_LEADS)]
    rows = []
    for i, lead_id in enumerate(ids):
        attrs: dict[str, Any] = {
            "lead_id": lead_id,
            "title": rng.choice(TITLES),
            "email": f"p{i}@{rng.choice(DOMAINS)}",
            "rating": rng.choice([1, 2.5, "3.7", 4, None]),
        }
        if i % 10 == 9:  # the address of the lead before it: a duplicate of that lead
            attrs["email"] = f"P{i - 1}@{DOMAINS[0]}"
            attrs["title"] = "VP"
        elif i % 10 == 8:
            attrs["email"] = f"p{i}@{DOMAINS[0]}"
        if rng.random() < 0.7:
            attrs["account_id"] = f"A{rng.randrange(8)}"
        rows.append(attrs)
    for kind, items in (("accounts", accounts), ("leads", rows)):
        path = folder / f"{kind}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in items))
        load_file(store, kind, path, as_of=T0 - timedelta(days=50))
    ingest_events(store, _events(rng, ids, 12 * N_LEADS, T0, "e"), T0)


def _lifecycle(store: Store, engine: str, seed: int, folder: Path) -> list[Any]:
    """The same sequence of operations on either path; returns every report it produced."""
    rng = random.Random(seed + 1)
    reports: list[Any] = []
    _fill(store, seed, folder)
    reports.append(publish_model(store, MODEL, actor="t", as_of=T0, engine=engine))
    # Sales works a few MQLs: accepted (SAL), rejected to nurture, disqualified.
    state = _leads(store)
    mqls = sorted(lead_id for lead_id, row in state.items() if row["stage"] == "mql")
    for lead_id, (action, reason) in zip(
        mqls[:6],
        [("accept", None), ("reject", "no_intent"), ("reject", "bad_contact_data")] * 2,
        strict=False,
    ):
        dispose(store, lead_id, action, reason=reason, actor="rep", at=T0 + timedelta(hours=1))
    reports.append(tick(store, T0 + timedelta(days=5), engine=engine))  # expiries, decay
    # New activity for some leads in nurture (they may re-qualify) and for others.
    ids = sorted(_leads(store))
    reports.append(
        publish_model(
            store, _version(22, 2, floor=3), actor="t", as_of=T0 + timedelta(days=6),
            dry_run=True, engine=engine,
        )
    )  # fmt: skip
    ingest_events(store, _events(rng, ids, 3 * N_LEADS, T0 + timedelta(days=6), "n"), T0)
    reports.append(
        publish_model(
            store, _version(22, 2, floor=3), actor="t", as_of=T0 + timedelta(days=7),
            engine=engine,
        )
    )  # fmt: skip
    reports.append(tick(store, T0 + timedelta(days=8), engine=engine))
    reports.append(
        publish_model(
            store, _version(45, 3), actor="t", as_of=T0 + timedelta(days=9), engine=engine
        )
    )
    return reports


def _leads(store: Store) -> dict[str, dict[str, Any]]:
    with store.read() as conn:
        return {row.lead_id: dict(row._mapping) for row in conn.execute(select(leads))}


def _state(store: Store) -> dict[str, Any]:
    """Every lead's row, and its history rows in order, with store-assigned ids left out."""
    out: dict[str, Any] = {"leads": _leads(store)}
    with store.read() as conn:
        for name, table, order in (
            ("history", score_history, score_history.c.id),
            ("transitions", transitions, transitions.c.id),
            ("cycles", mql_cycles, mql_cycles.c.cycle),
            ("outbox", outbox, outbox.c.id),
        ):
            per_lead: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in conn.execute(select(table).order_by(table.c.lead_id, order)):
                values = dict(row._mapping)
                values.pop("id", None)
                per_lead[values["lead_id"]].append(values)
            out[name] = dict(per_lead)
    return out


def _same(a: Any, b: Any, where: str = "") -> None:
    """Equal, floats within 1e-9; dicts also in the same key order (the API shows records)."""
    assert_close(a, b, where, ordered=True)


@pytest.fixture(params=BACKENDS)
def two_stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Store, Store, Path]]:
    (tmp_path / "python").mkdir()
    (tmp_path / "duckdb").mkdir()
    with (
        temp_store_url(request.param, tmp_path / "python") as a,
        temp_store_url(request.param, tmp_path / "duckdb") as b,
    ):
        stores = open_store(a), open_store(b)
        yield stores[0], stores[1], tmp_path
        for s in stores:
            s.close()


def test_batch_rescore_stores_what_the_per_lead_path_stores(
    two_stores: tuple[Store, Store, Path],
) -> None:
    per_lead, batch, folder = two_stores
    expected = _lifecycle(per_lead, "python", 5, folder / "python")
    got = _lifecycle(batch, "duckdb", 5, folder / "duckdb")
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        _same(e.model_dump(), g.model_dump(), f"report {i}")
    a, b = _state(per_lead), _state(batch)
    for part in a:
        assert sorted(a[part]) == sorted(b[part]), part
        for lead_id in a[part]:
            _same(a[part][lead_id], b[part][lead_id], f"{part}[{lead_id}]")
    # The data exercises every set the batch path splits leads into, and the lifecycle.
    summaries = [r.summary for r in expected]
    assert any(0 < s.score_changed < s.scored for s in summaries)  # unchanged leads
    assert sum(s.new_mqls for s in summaries[1:]) > 0  # MQL entries after the first publish
    assert sum(s.stops_qualifying for s in summaries) > 0
    assert sum(s.no_longer_qualifying for s in summaries) > 0
    assert sum(s.expired for s in summaries) > 0
    assert any(row["duplicate_of"] for row in a["leads"].values())
    stages = {row["stage"] for row in a["leads"].values()}
    assert {"mql", "sal", "nurture", "disqualified", "lead"} <= stages
    assert any(t["from_stage"] == "nurture" and t["to_stage"] == "mql"
               for ts in a["transitions"].values() for t in ts)  # fmt: skip


def test_a_failed_bulk_write_leaves_the_store_as_it_was(
    two_stores: tuple[Store, Store, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import leadgate.service.rescore_batch as rescore_batch

    store, _, folder = two_stores
    (folder / "data").mkdir()
    _fill(store, 3, folder / "data")
    publish_model(store, MODEL, actor="t", as_of=T0, engine="duckdb")
    before = _state(store)
    calls: list[int] = []
    real = rescore_batch.store_scores

    def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        real(*args, **kwargs)

    monkeypatch.setattr(rescore_batch, "store_scores", failing)
    monkeypatch.setattr(rescore_batch, "WRITE_CHUNK", 7)  # several chunks, fetched ahead
    with pytest.raises(RuntimeError, match="disk full"):
        publish_model(store, _version(22, 2), actor="t", as_of=T0, engine="duckdb")
    assert len(calls) == 3
    assert not [t for t in threading.enumerate() if t.name == "leadgate-rescore-fetch"]
    assert _state(store) == before  # one transaction: nothing of the failed publish stays
