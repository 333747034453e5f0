"""Streamed event loads: chunk by chunk equals one chunk, and a bad row anywhere writes nothing."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from leadgate.errors import IngestError
from leadgate.service import load_file, publish_model
from leadgate.store import Store, open_store
from leadgate.store.schema import events as ev
from leadgate.store.schema import leads as lt
from store_helpers import BACKENDS, TINY_MODEL, snapshot, temp_store_url, two_temp_store_urls

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TYPES = ("email_open", "demo_request", "page_view")
LEADS = """lead_id,email,title
L1,ann@acme.com,VP Sales
L2,ANN@acme.com,VP Marketing
L3,bob@beta.io,Engineer
"""
COLUMNS = ("event_id", "lead_id", "type", "timestamp", "url")


def events(n: int, leads: int = 7) -> list[dict[str, object]]:
    """``n`` event rows over ``leads`` leads (L1..L3 known, the rest new), with repeats.

    Every 5th row has no id (its id comes from its content); every 7th repeats the id of the
    row 4 before it with other content (ignored: the first one wins), so repeats fall on both
    sides of any chunk border when chunks are a few rows long.
    """
    rows: list[dict[str, object]] = []
    for i in range(n):
        rows.append(
            {
                "event_id": None if i % 5 == 4 else f"e{i}",
                "lead_id": f"L{1 + (i * 3) % leads}",
                "type": TYPES[i % len(TYPES)],
                "timestamp": (T0 - timedelta(hours=n - i + (i % 11) * 5)).isoformat(),
                "url": f"/p/{i % 13}" if i % 2 else None,
            }
        )
        if i % 7 == 6 and rows[i - 4]["event_id"] is not None:
            rows[i]["event_id"] = rows[i - 4]["event_id"]
    return rows


def write_events(path: Path, rows: list[dict[str, object]]) -> Path:
    """The rows as CSV, JSONL or Parquet, by the suffix of ``path``."""
    if path.suffix == ".csv":
        lines = [",".join(COLUMNS)]
        lines += [",".join("" if r[c] is None else str(r[c]) for c in COLUMNS) for r in rows]
        path.write_text("\n".join(lines) + "\n")
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in COLUMNS})
        pq.write_table(table, path, row_group_size=40)
    return path


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two empty stores on one backend, to load the same file two ways and compare."""
    with two_temp_store_urls(request.param, tmp_path) as (url_a, url_b):
        a, b = open_store(url_a), open_store(url_b)
        yield a, b
        a.close()
        b.close()


def prepare(store: Store, tmp_path: Path) -> None:
    """A published model, three leads (L2 duplicates L1 by email) and some events already in."""
    publish_model(store, TINY_MODEL, actor="t", as_of=T0 - timedelta(days=40))
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS)
    load_file(store, "leads", leads, as_of=T0 - timedelta(days=30))
    early = write_events(tmp_path / "early.csv", events(60)[::3])
    load_file(store, "events", early, as_of=T0 - timedelta(days=20))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_load_in_chunks_writes_what_one_chunk_writes(
    stores: tuple[Store, Store], tmp_path: Path, suffix: str
) -> None:
    chunked, whole = stores
    for s in stores:
        prepare(s, tmp_path)
    path = write_events(tmp_path / f"events{suffix}", events(300))
    a = load_file(chunked, "events", path, as_of=T0, chunk_rows=7)
    b = load_file(whole, "events", path, as_of=T0, chunk_rows=10**6)
    assert a == b
    assert (a.rows, a.inserted, a.ignored) == (300, 251, 49)  # 16 ids loaded before, 33 repeats
    assert a.summary is not None and a.summary.scored == 7 - 1  # L2 counts for L1
    assert snapshot(chunked) == snapshot(whole)


def test_an_id_repeated_across_a_chunk_border_is_ignored(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,lead_id,type,timestamp\n"
        "a,L1,demo_request,2026-02-28T10:00:00Z\n"
        "b,L1,email_open,2026-02-28T11:00:00Z\n"  # chunk border
        "c,L2,page_view,2026-02-28T09:00:00Z\n"
        "a,L2,email_open,2026-02-28T12:00:00Z\n"  # a again, other content: ignored
        "d,L2,page_view,2026-02-28T08:00:00Z\n"  # chunk border
        "a,L3,email_open,2026-02-28T13:00:00Z\n"  # and again
    )
    report = load_file(store, "events", path, as_of=T0, chunk_rows=2)
    assert (report.rows, report.inserted, report.ignored) == (6, 4, 2)
    with store.read() as conn:
        stored = conn.execute(select(ev.c.event_id, ev.c.lead_id, ev.c.type)).all()
        last = dict(conn.execute(select(lt.c.lead_id, lt.c.last_event_at)).all())
    assert sorted(map(tuple, stored)) == [
        ("a", "L1", "demo_request"), ("b", "L1", "email_open"),
        ("c", "L2", "page_view"), ("d", "L2", "page_view"),
    ]  # fmt: skip
    # the ignored repeats neither create L3 nor move L2's last event
    assert last == {
        "L1": datetime(2026, 2, 28, 11, tzinfo=UTC),
        "L2": datetime(2026, 2, 28, 9, tzinfo=UTC),
    }


def test_last_event_at_is_the_newest_over_all_chunks(store: Store, tmp_path: Path) -> None:
    newest = T0 - timedelta(hours=1)
    rows = [
        {"event_id": f"x{i}", "lead_id": "L9", "type": "page_view", "url": None,
         "timestamp": (newest - timedelta(days=abs(i - 5))).isoformat()}
        for i in range(10)
    ]  # fmt: skip
    load_file(store, "events", write_events(tmp_path / "e.csv", rows), as_of=T0, chunk_rows=3)
    with store.read() as conn:
        assert conn.execute(select(lt.c.last_event_at)).scalar_one() == newest


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_bad_row_in_the_last_chunk_writes_nothing(
    store: Store, tmp_path: Path, suffix: str
) -> None:
    prepare(store, tmp_path)
    before = snapshot(store)
    rows = events(100)
    rows[-1]["timestamp"] = "yesterday"
    path = write_events(tmp_path / f"bad{suffix}", rows)
    line = 101 if suffix == ".csv" else 100  # CSV has a header line
    with pytest.raises(IngestError, match=rf"bad{suffix}:{line}: timestamp: expected an ISO"):
        load_file(store, "events", path, as_of=T0, chunk_rows=10)  # 9 chunks were written
    assert snapshot(store) == before


def test_a_load_interrupted_between_chunks_writes_nothing(store: Store, tmp_path: Path) -> None:
    prepare(store, tmp_path)
    before = snapshot(store)
    path = write_events(tmp_path / "events.csv", events(100))
    seen: list[tuple[int, float]] = []

    def interrupt(rows: int, fraction: float) -> None:
        seen.append((rows, fraction))
        if len(seen) == 3:
            raise KeyboardInterrupt  # Ctrl-C after two chunks were written

    with pytest.raises(KeyboardInterrupt):
        load_file(store, "events", path, as_of=T0, chunk_rows=10, read_progress=interrupt)
    assert [r for r, _ in seen] == [10, 20, 30]
    assert snapshot(store) == before


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_read_progress_counts_rows_and_reaches_the_end(tmp_path: Path, suffix: str) -> None:
    path = write_events(tmp_path / f"events{suffix}", events(2_100))  # 100 KB: several buffers
    seen: list[tuple[int, float]] = []
    with open_store(str(tmp_path / "s.db")) as store:
        load_file(
            store, "events", path, as_of=T0, chunk_rows=500,
            read_progress=lambda rows, fraction: seen.append((rows, fraction)),
        )  # fmt: skip
    assert [r for r, _ in seen] == [500, 1000, 1500, 2000, 2100]  # every chunk_rows (< 5,000)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0.2 < fractions[0] < 0.3
    seen.clear()
    with open_store(str(tmp_path / "t.db")) as store:
        load_file(
            store, "events", path, as_of=T0, chunk_rows=50_000,
            read_progress=lambda rows, fraction: seen.append((rows, fraction)),
        )  # fmt: skip
    assert [r for r, _ in seen] == [2100]  # PROGRESS_ROWS is 5,000: at the end only


def _peak_bytes(store: Store, path: Path, chunk_rows: int) -> int:
    tracemalloc.start()
    try:
        load_file(store, "events", path, as_of=T0, chunk_rows=chunk_rows)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_is_bounded_by_the_chunk_not_the_file(tmp_path: Path) -> None:
    """Ten times the events over the same leads must not need much more memory.

    A whole-file load holds every event (and its parameters) at once: its peak grows with the
    file (measured 8-9x for 10x the rows). Streamed, the peak is a chunk's worth plus the ids
    of the leads touched, so it barely moves. Python allocations only (tracemalloc), no timing.
    """
    small = write_events(tmp_path / "small.csv", events(2_000, leads=20))
    big = write_events(tmp_path / "big.csv", events(20_000, leads=20))
    with open_store(str(tmp_path / "warm.db")) as warm:
        load_file(warm, "events", small, as_of=T0, chunk_rows=200)  # imports, caches
    with open_store(str(tmp_path / "small.db")) as s, open_store(str(tmp_path / "big.db")) as b:
        small_peak = _peak_bytes(s, small, 200)
        big_peak = _peak_bytes(b, big, 200)
    assert big_peak < 2 * small_peak, (small_peak, big_peak)


@pytest.mark.parametrize("backend", [BACKENDS[1]])  # row locks: PostgreSQL only
def test_a_concurrent_writer_of_two_of_its_leads_waits_instead_of_deadlocking(
    backend: str, tmp_path: Path
) -> None:
    """Every writer locks leads in id order; a load written in chunks must too, up front.

    Chunk 1 (L5) is written, then a writer of L2 and L5 starts; only once it waits on a lock
    does the load go on to chunk 2 (L2). Had the load locked L5 alone so far, the writer would
    hold L2 and wait for L5 while the load waits for L2: PostgreSQL would abort one of them.
    """
    import threading
    import time

    import psycopg

    from leadgate.engine import Event
    from leadgate.service import ingest_events, upsert_lead
    from store_helpers import PG_URL

    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,lead_id,type,timestamp\na,L5,email_open,2026-02-01\nb,L2,email_open,2026-02-01\n"
    )
    outcome: list[object] = []
    with temp_store_url(backend, tmp_path) as url, open_store(url) as store:
        for lead in ("L2", "L5"):
            upsert_lead(store, lead, {"title": "VP"}, T0)

        def writer() -> None:
            with open_store(url) as other:
                try:
                    both = [
                        Event("L2", "email_open", T0, "x2", {}),
                        Event("L5", "demo", T0, "x5", {}),
                    ]
                    outcome.append(ingest_events(other, both, T0).inserted)
                except Exception as exc:  # the test reports what the writer met
                    outcome.append(exc)

        thread = threading.Thread(target=writer)

        def after_chunk_one(rows: int, fraction: float) -> None:
            if rows != 2:  # called as row 2 is read: chunk 1 is written
                return
            thread.start()
            with psycopg.connect(PG_URL, autocommit=True) as watch:
                for _ in range(200):  # until the writer waits on a lock (at most 10 s)
                    waiting = watch.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    ).fetchone()
                    if waiting and waiting[0]:
                        break
                    time.sleep(0.05)

        report = load_file(
            store, "events", path, as_of=T0, chunk_rows=1, read_progress=after_chunk_one
        )
        thread.join()
    assert report.inserted == 2
    assert outcome == [2]
