"""How fast do the web app's pages render? (by hand)

    python benchmarks/web.py [--leads 20000] [--events N] [--mql-threshold 10] [--requests 30]
                             [--preview-requests 3] [--cache .bench-cache] [--abm]

A SQLite store of synthetic leads (``leadgate.synth``, seed 7) with accounts, events (topped up to
``--events`` with copies of the first ones, a minute earlier under new ids) and outcomes, loaded
under the reference model (``examples/b2b-inbound.yaml``), then a version 2 published whose MQL
line is ``--mql-threshold`` so the queue holds thousands of open MQLs, is built once and kept
under ``--cache``. Then, in this one process, through the whole app (``create_app``, a TestClient
signed in with an admin key, so routing, the session check, the service calls and template
rendering are all counted), every page is requested ``--requests`` times and its p50 and p95
wall time printed: the queue (sorts, a filter, page 50, the last page), a lead, lead search,
the model, a model diff, the settings and every report view. The baseline is the JSON API route
that reads the same thing (same app, same process, same run): the page's p95 is printed as a
ratio of it. ``first`` is the first request of a page; for a report, the time until its page
shows the result (reports are computed in the background: the page answers 202 meanwhile), so
its p50/p95 are those of the kept result, what users see after the first visit. Last, the
model page's Preview of a draft (the dry-run publish over every lead) ``--preview-requests``
times.

``--abm`` builds the store under the ABM example (``examples/b2b-abm.yaml``: the same lead model
plus ``accounts:``) with account tiers and visits (``synth/abm.py``) and scored accounts, and adds
the account pages (the MQA queue, an account, the MQA report; baselines ``GET /v1/mqas``,
``GET /v1/accounts/{id}``, ``GET /v1/reports/mqa``).

The issue's target: each page under 300 ms p95 on 100k leads / 2.5M events, the queue with 10k
open MQLs: ``--leads 100000 --events 2500000 --mql-threshold 45`` (11.9k open MQLs; building it
took 20 minutes on the loaded development machine, reruns read the cached store).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src/leadgate/examples/b2b-inbound.yaml"
ABM_EXAMPLE = ROOT / "src/leadgate/examples/b2b-abm.yaml"  # the same lead model, plus accounts:
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _top_up(events: Path, n_events: int, have: int) -> Path | None:
    """Events to load besides the synthetic ones so the store holds ``n_events`` (0: none).

    Copies of the first events, each a minute earlier under a new id: the leads that get them
    are the same kind of leads with a little more activity.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if n_events <= have:
        return None
    extra = pq.read_table(events).slice(0, n_events - have)
    stamps = pc.strptime(
        extra["timestamp"], format="%Y-%m-%dT%H:%M:%SZ", unit="s", error_is_null=False
    )
    earlier = pc.strftime(
        pc.subtract(stamps, pa.scalar(60, pa.duration("s"))), format="%Y-%m-%dT%H:%M:%SZ"
    )
    extra = extra.set_column(0, "event_id", pc.binary_join_element_wise("X", extra["event_id"], ""))
    extra = extra.set_column(extra.schema.get_field_index("timestamp"), "timestamp", earlier)
    out = events.with_name("events-extra.parquet")
    pq.write_table(extra, out)
    return out


def _abm(store: Any, folder: Path) -> None:
    """Account tiers and account-level visits (``synth/abm.py``) loaded, accounts scored."""
    import csv

    from leadgate.io.readers import event_from_row
    from leadgate.service import load_file
    from leadgate.service.accounts import add_account_events, rescore_accounts
    from leadgate.synth.abm import add_abm

    add_abm(folder, seed=7, as_of=NOW)
    load_file(store, "accounts", folder / "abm_accounts.csv", as_of=NOW)
    with (folder / "account_events.csv").open(encoding="utf-8", newline="") as fh:
        visits = [event_from_row({**{k: v for k, v in e.items() if k != "account_id"},
                                  "lead_id": e["account_id"]}) for e in csv.DictReader(fh)]  # fmt: skip
    add_account_events(store, visits, at=NOW)
    rescore_accounts(store, NOW)


def _store(n_leads: int, threshold: float, cache: Path, n_events: int = 0, abm: bool = False
           ) -> Path:  # fmt: skip
    """The benchmark store, built on first use (``abm``: under the ABM example, with tiers,
    account visits and account scores)."""
    from leadgate.service import load_file, publish_model
    from leadgate.store import open_store
    from leadgate.synth import generate

    path = cache / f"web-{'abm-' if abm else ''}{n_leads}-{threshold:g}-{n_events}.db"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    started = time.perf_counter()
    data = generate(n_leads, 7, cache / f"web-{n_leads}-data", as_of=NOW)
    store = open_store(str(building))
    model = (ABM_EXAMPLE if abm else EXAMPLE).read_text()
    publish_model(store, model, actor="bench", as_of=NOW)
    for kind in ("accounts", "leads", "events", "outcomes"):
        load_file(store, kind, getattr(data, kind), as_of=NOW)
    extra = _top_up(data.events, n_events, data.n_events)
    if extra is not None:
        load_file(store, "events", extra, as_of=NOW)
    v2 = re.sub(r"^version: .*$", "version: 2", model, flags=re.M)
    v2 = re.sub(r"^threshold: \d+", f"threshold: {threshold:g}", v2, flags=re.M)
    v2 = re.sub(r"^floors: .*$", "floors: {}", v2, flags=re.M)
    publish_model(store, v2, actor="bench", as_of=NOW, note="a low line: a long queue")
    if abm:
        _abm(store, Path(data.leads).parent)
    store.close()
    building.rename(path)
    print(f"built {path.name} in {time.perf_counter() - started:.0f} s "
          f"({data.n_leads:,} leads, {max(data.n_events, n_events):,} events)")  # fmt: skip
    return path


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time(fn: Callable[[], Any], n: int) -> tuple[float, float, float]:
    """p50 and p95 wall time, and p95 CPU time of this process, of ``fn`` in ms over ``n`` calls.

    The CPU time (every thread of the process: the app runs in the TestClient's thread) is what
    a request costs whatever else the machine runs; the wall time grows with the load average.
    """
    wall, cpu = [], []
    for _ in range(n):
        started, used = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return statistics.median(wall), _pct(wall, 0.95), _pct(cpu, 0.95)


def _until_ready(client: Any, url: str) -> None:
    """Ask for a report page until it shows a result computed from the store as it is (the
    server computes reports in the background and answers 202 meanwhile)."""
    while True:
        answer = client.get(url)
        assert answer.status_code in (200, 202), (url, answer.status_code, answer.text[-500:])
        if answer.status_code == 200 and "Computed at" not in answer.text:
            return
        time.sleep(0.5)


def _preview(client: Any, store: Any, n: int) -> None:
    """Time the model page's Preview (the dry-run publish of a draft over every stored lead)."""
    from leadgate.service.models import model_yaml

    if n <= 0:
        return
    text = model_yaml(store, "2")
    draft = re.sub(r"^version: .*$", "version: 3", text, flags=re.M)
    line = float(re.search(r"^threshold: ([0-9.]+)", draft, flags=re.M).group(1))  # type: ignore[union-attr]
    draft = re.sub(r"^threshold: [0-9.]+", f"threshold: {line + 5:g}", draft, flags=re.M)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/app/model").text).group(1)  # type: ignore[union-attr]

    def preview() -> None:
        answer = client.post(
            "/app/model/draft", data={"csrf": csrf, "yaml": draft, "do": "preview"}
        )
        assert answer.status_code == 200 and "would" in answer.text, answer.text[-500:]

    p50, p95, cpu95 = _time(preview, n)
    name = "model preview (dry-run publish)"
    print(f"{name:32} {'':9} {'':9} {p50:8.0f} {p95:8.0f} {cpu95:8.0f} {'-':>9} {'-':>7}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=30, help="per page")
    parser.add_argument("--mql-threshold", type=float, default=10.0)
    parser.add_argument(
        "--events", type=int, default=0, help="top the synthetic events up to this many"
    )
    parser.add_argument("--cache", type=Path, default=ROOT / ".bench-cache")
    parser.add_argument(
        "--preview-requests", type=int, default=3, help="previews of a draft (0: none)"
    )
    parser.add_argument(
        "--abm",
        action="store_true",
        help="the ABM example with account tiers and visits; adds the account pages",
    )
    parser.add_argument(
        "--only",
        default="",
        help="only the pages whose name contains one of these (comma-separated)",
    )
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from leadgate.api.app import create_app
    from leadgate.service.keys import create_key

    path = _store(args.leads, args.mql_threshold, args.cache, args.events, args.abm)
    app = create_app(str(path), clock=lambda: NOW, tick_seconds=None)
    store = app.state.config.store
    token = create_key(store, "admin", name="bench").token
    client = TestClient(app)
    form = client.get("/app/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    client.post("/app/login", data={"csrf": csrf, "key": token})
    api = {"Authorization": f"Bearer {token}"}
    with store.read() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT lead_id FROM leads")]
        open_mqls = conn.exec_driver_sql("SELECT count(*) FROM leads WHERE stage='mql'").scalar()
        n_events = conn.exec_driver_sql("SELECT count(*) FROM events").scalar()
    rng = random.Random(7)
    some = rng.sample(ids, min(len(ids), args.requests))
    picks = iter(some * 2)

    def get(url: str, headers: dict[str, str] | None = None) -> Callable[[], Any]:
        def call() -> None:
            answer = client.get(url, headers=headers)
            assert answer.status_code == 200, (url, answer.status_code, answer.text[-500:])

        call.url = url  # type: ignore[attr-defined]
        return call

    def lead_page() -> None:
        get("/app/leads/" + quote(next(picks), safe=""))()

    lead_ids = iter(some * 2)

    def lead_api() -> None:
        get("/v1/leads/" + quote(next(lead_ids), safe=""), api)()

    with store.read() as conn:
        accounts = [r[0] for r in conn.exec_driver_sql(
            "SELECT account_id FROM account_states ORDER BY score_total DESC")]  # fmt: skip
        n_mqas = conn.exec_driver_sql(
            "SELECT count(*) FROM account_states WHERE stage='mqa'").scalar()  # fmt: skip
    some_accounts = rng.sample(accounts, min(len(accounts), args.requests))
    account_picks, account_ids = iter(some_accounts * 2), iter(some_accounts * 2)

    def account_page() -> None:
        get("/app/accounts/" + quote(next(account_picks), safe=""))()

    def account_api() -> None:
        get("/v1/accounts/" + quote(next(account_ids), safe=""), api)()

    last_page = max(1, -(-open_mqls // 100))
    pages: list[tuple[str, Callable[[], Any], Callable[[], Any] | None]] = [
        ("queue (SLA order, page 1)", get("/app/queue"), get("/v1/mqls?limit=100", api)),
        ("queue by score, filtered", get("/app/queue?sort=score&segment=default"),
         get("/v1/mqls?limit=100&segment=default", api)),
        ("queue page 50", get("/app/queue?page=50"), get("/v1/mqls?limit=100&offset=4900", api)),
        (f"queue last page ({last_page})", get(f"/app/queue?page={last_page}"),
         get(f"/v1/mqls?limit=100&offset={(last_page - 1) * 100}", api)),
        ("queue by age, last page", get(f"/app/queue?sort=age&page={last_page}"), None),
        ("lead page", lead_page, lead_api),
        ("lead search (common text)", get("/app/leads?q=chen"), None),
        ("lead search (rare text)", get("/app/leads?q=zzq"), None),
        ("lead search (an id)", lambda: get("/app/leads?q=" + quote(some[0], safe=""))(), None),
        ("model", get("/app/model"), get("/v1/models", api)),
        ("model diff (v1 -> v2)", get("/app/model?a=1&b=2"), None),
        ("settings", get("/app/settings"), get("/v1/keys", api)),
        ("reports: funnel", get("/app/reports?view=funnel"),
         get("/v1/reports/funnel?by=channel", api)),
        ("reports: quality", get("/app/reports?view=quality"),
         get("/v1/reports/quality", api)),
        ("reports: speed", get("/app/reports?view=speed"), get("/v1/reports/speed", api)),
        ("reports: targets", get("/app/reports?view=targets"),
         get("/v1/reports/targets?revenue=1000000&deal_size=25000", api)),
        ("reports: rejections", get("/app/reports?view=rejections"), None),
        ("reports: compare", get("/app/reports?view=compare"), None),
        ("reports: calibration", get("/app/reports?view=calibration"), None),
    ]  # fmt: skip
    if args.abm:
        pages += [
            ("MQA queue (accounts)", get("/app/accounts"), get("/v1/mqas?limit=100", api)),
            ("MQA queue by buying group", get("/app/accounts?sort=completeness&abm=yes"), None),
            ("account page", account_page, account_api),
            ("reports: mqa", get("/app/reports?view=mqa"), get("/v1/reports/mqa", api)),
        ]  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{args.leads:,} leads, {n_events:,} events in the store, {open_mqls:,} open MQLs; "
          f"{args.requests} requests per page; times in ms")  # fmt: skip
    if args.abm:
        print(f"{len(accounts):,} accounts scored, {n_mqas:,} at MQA")
    print("first: the first request (a report: until its page shows the result; the reports")
    print("share the server's caches, so the first report pays for reading the store)")
    print(
        f"{'page':32} {'first':>9} {'its CPU':>9} {'p50':>8} {'p95':>8} {'CPU p95':>8} "
        f"{'API p95':>9} {'ratio':>7}"
    )
    for name, page, baseline in pages:
        if not any(part in name for part in args.only.split(",")):
            continue
        url = getattr(page, "url", "")
        started, used = time.perf_counter(), time.process_time()
        if "/reports" in url:
            _until_ready(client, url)
        else:
            page()  # warm: compiled plans, templates
        first = (time.perf_counter() - started) * 1000
        first_cpu = (time.process_time() - used) * 1000  # the background computation's too
        p50, p95, cpu95 = _time(page, args.requests)
        row = f"{name:32} {first:9.0f} {first_cpu:9.0f} {p50:8.1f} {p95:8.1f} {cpu95:8.1f}"
        if baseline is not None:
            baseline()
            _, b95, _ = _time(baseline, args.requests)
            print(f"{row} {b95:9.1f} {p95 / b95:6.1f}x", flush=True)
        else:
            print(f"{row} {'-':>9} {'-':>7}", flush=True)
    _preview(client, store, args.preview_requests)
    print(f"load average {os.getloadavg()[0]:.1f}")
    store.close()


if __name__ == "__main__":
    main()
