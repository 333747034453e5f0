"""How fast, and in how much memory, does ``leadgate load events FILE`` run? (run by hand)

    python benchmarks/load_events.py --events 2000000 [--leads 100000] [--format csv]
        [--db-dir DIR] [--pg-url URL] [--chunk 50000] [--rounds 1] [--only stream|whole]

Writes one events file (``--events`` rows over ``--leads`` leads, every 20th row a repeat of an
earlier id, ids missing on every 10th so some are derived from content), then loads it into a
fresh store (SQLite; with ``--pg-url``, a new schema in that PostgreSQL database), once per
variant, each in a child process of its own, so that its peak RSS (``ru_maxrss``) is its own:

- ``whole``: the load as it was before streaming (at 28d4b51): ``read_events`` builds the whole
  file's events as a list, then one transaction runs ``insert_events`` over all of them;
- ``stream``: ``load_file`` as it is now: the file read and written ``--chunk`` events at a time
  inside one transaction (on PostgreSQL after a first pass that locks the file's leads).

No model is published, so no re-score follows (it would be the same in both). Prints, per
variant: wall time, the child's CPU time, rows/s, peak RSS; then the ratios; then the load
average. The stores of both variants are compared row by row (they must be equal).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
TYPES = ("email_open", "page_view", "email_click", "webinar", "demo_request")


def write_events(path: Path, n: int, leads: int, fmt: str) -> None:
    """``n`` events over ``leads`` leads, written a block at a time (the writer holds a block)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    block = 200_000
    writer = None
    with path.open("wb") as out:
        for start in range(0, n, block):
            idx = range(start, min(n, start + block))
            cols = {
                "event_id": [
                    None if i % 10 == 9 else f"ev{i - 7 if i % 20 == 13 else i}" for i in idx
                ],
                "lead_id": [f"L{(i * 7919) % leads}" for i in idx],
                "type": [TYPES[i % len(TYPES)] for i in idx],
                "timestamp": [
                    (AS_OF - timedelta(minutes=(i * 37) % 500_000)).isoformat() for i in idx
                ],
                "url": [f"/page/{i % 97}" if i % 3 else None for i in idx],
            }
            if fmt == "jsonl":
                out.write(
                    "".join(
                        json.dumps({k: v[j] for k, v in cols.items() if v[j] is not None}) + "\n"
                        for j in range(len(idx))
                    ).encode()
                )
                continue
            table = pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()})
            if fmt == "csv":
                options = pcsv.WriteOptions(include_header=start == 0)
                pcsv.write_csv(table, out, write_options=options)
            else:
                writer = writer or pq.ParquetWriter(out, table.schema)
                writer.write_table(table, row_group_size=1 << 20)
        if writer is not None:
            writer.close()


def run_variant(variant: str, path: Path, db: str, chunk: int) -> dict[str, float]:
    """One load in this process; the figures as a dict (printed as JSON for the parent)."""
    from leadgate.io import read_events
    from leadgate.service import load_file
    from leadgate.service.leads import canonical_ids
    from leadgate.store import open_store
    from leadgate.store.ingest import insert_events

    with open_store(db) as store:
        start, cpu = time.perf_counter(), time.process_time()
        if variant == "whole":  # load_file's events branch at 28d4b51, nothing else
            events = read_events(path)
            with store.write() as conn:
                fresh = insert_events(conn, events, AS_OF)
                canonical_ids(conn, (e.lead_id for e in fresh))
            rows, inserted = len(events), len(fresh)
        else:
            report = load_file(store, "events", path, as_of=AS_OF, chunk_rows=chunk)
            rows, inserted = report.rows, report.inserted
        wall, used = time.perf_counter() - start, time.process_time() - cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"rows": rows, "inserted": inserted, "wall": wall, "cpu": used, "rss_mb": peak_kb / 1024}


def _child(variant: str, path: Path, db: str, chunk: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", variant, "--file", str(path)]
    cmd += ["--db-file", db, "--chunk", str(chunk)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class _SqliteStores:
    """A fresh SQLite file per run, in one folder; compared inside SQLite."""

    def __init__(self, work: Path) -> None:
        self.work = work

    def fresh(self, name: str) -> str:
        for old in self.work.glob(f"{name}.db*"):  # a store left by an earlier run
            old.unlink()
        return str(self.work / f"{name}.db")

    def same(self, a: str, b: str) -> bool:
        """Events and leads equal row for row (2M rows stay on disk)."""
        import sqlite3

        with sqlite3.connect(a) as conn:
            conn.execute("ATTACH DATABASE ? AS other", (b,))
            for t in ("events", "leads"):
                for x, y in ((f"main.{t}", f"other.{t}"), (f"other.{t}", f"main.{t}")):
                    q = f"SELECT count(*) FROM (SELECT * FROM {x} EXCEPT SELECT * FROM {y})"
                    if conn.execute(q).fetchone()[0]:
                        return False
        return True

    def close(self) -> None:
        pass


class _PgStores:
    """A fresh schema per run in one PostgreSQL database (dropped at the end)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.conn = psycopg.connect(url, autocommit=True)
        self.schemas: dict[str, str] = {}  # store URL -> schema

    def fresh(self, name: str) -> str:
        from urllib.parse import quote

        schema = f"lg_bench_{name.replace('-', '_')}"
        self.conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.conn.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in self.url else "?"
        url = f"{self.url}{sep}options={quote(f'-csearch_path={schema}')}"
        self.schemas[url] = schema
        return url

    def same(self, a: str, b: str) -> bool:
        """Events and leads equal row for row (each row compared as its text)."""
        sa, sb = self.schemas[a], self.schemas[b]
        for t in ("events", "leads"):
            for x, y in ((sa, sb), (sb, sa)):
                q = (
                    f'SELECT count(*) FROM (SELECT r::text FROM "{x}".{t} r '
                    f'EXCEPT SELECT r::text FROM "{y}".{t} r) d'
                )
                row = self.conn.execute(q).fetchone()
                if row is None or row[0]:
                    return False
        return True

    def close(self) -> None:
        for schema in self.schemas.values():
            self.conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "jsonl", "parquet"), default="csv")
    parser.add_argument("--chunk", type=int, default=None, help="default: CHUNK_ROWS")
    parser.add_argument("--db-dir", default=None, help="where the stores go (default: a tmp dir)")
    parser.add_argument("--pg-url", default=None, help="load into PostgreSQL schemas instead")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each variant, alternated")
    parser.add_argument("--only", choices=("stream", "whole"), default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--file", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db-file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.chunk is None:
        from leadgate.service.load import CHUNK_ROWS

        args.chunk = CHUNK_ROWS
    if args.child:
        figures = run_variant(args.child, Path(args.file), args.db_file, args.chunk)
        print(json.dumps(figures))
        return

    work = Path(args.db_dir or tempfile.mkdtemp(prefix="leadgate-load-"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"events.{args.format}"
    start = time.perf_counter()
    write_events(path, args.events, args.leads, args.format)
    size_mb = path.stat().st_size / 2**20
    print(
        f"{args.events:,} events over {args.leads:,} leads: {path} ({size_mb:,.0f} MB, "
        f"written in {time.perf_counter() - start:.1f} s); chunk {args.chunk:,} rows",
        flush=True,
    )
    variants = [args.only] if args.only else ["whole", "stream"]
    results: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
    stores = _PgStores(args.pg_url) if args.pg_url else _SqliteStores(work)
    dbs: dict[str, str] = {}
    for r in range(args.rounds):
        for v in variants if r % 2 == 0 else variants[::-1]:
            db = stores.fresh(f"{v}-{r}")
            fig = _child(v, path, db, args.chunk)
            dbs[v] = db
            results[v].append(fig)
            print(
                f"{v:<7} round {r + 1}: {fig['wall']:8.1f} s wall  cpu {fig['cpu']:8.1f} s  "
                f"{fig['rows'] / fig['wall']:>9,.0f} rows/s  peak RSS {fig['rss_mb']:>8,.0f} MB  "
                f"({fig['inserted']:,.0f} of {fig['rows']:,.0f} rows new)",
                flush=True,
            )
    if len(variants) == 2:
        best = {v: min(results[v], key=lambda f: f["cpu"]) for v in variants}
        w, s = best["whole"], best["stream"]
        print(
            f"stream / whole: wall {s['wall'] / w['wall']:.2f}x, cpu {s['cpu'] / w['cpu']:.2f}x, "
            f"peak RSS {s['rss_mb'] / w['rss_mb']:.3f}x "
            f"({w['rss_mb']:,.0f} MB -> {s['rss_mb']:,.0f} MB)",
            flush=True,
        )
        print(f"stores equal: {stores.same(dbs['whole'], dbs['stream'])}", flush=True)
    stores.close()
    print(f"load average: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
