"""Erasing a person: nothing of them is left anywhere in the database, the counts stay true.

The search is physical: on SQLite the raw bytes of the database file (and its WAL) after the
erasure's own checkpoint; on PostgreSQL the whole ``pg_dump`` output.
"""

from __future__ import annotations

import glob
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from api_helpers import receiver
from leadgate.engine import Event
from leadgate.errors import ConflictError, NotFoundError
from leadgate.service import dispose, get_lead, ingest_events, publish_model, tick, upsert_lead
from leadgate.service.erasure import erase_lead
from leadgate.store import Store
from leadgate.store.audit import Actor, list_audit
from leadgate.store.schema import (
    crm_pulls,
    crm_sync,
    events,
    leads,
    mql_cycles,
    outbox,
    transitions,
)
from leadgate.webhooks.delivery import DeliveryPolicy, run_once
from leadgate.webhooks.registry import add_webhook
from store_helpers import PG_URL, TINY_MODEL

T0 = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)
# The newest installed server's pg_dump (Debian puts each major version under its own folder).
PG_DUMP = max(
    glob.glob("/usr/lib/postgresql/*/bin/pg_dump"),
    key=lambda p: int(p.split("/")[4]),
    default="pg_dump",
)
# Distinctive values: if any byte sequence of them survives, the search finds it.
LEAD_ID = "crm-7Zq9erasable"
EMAIL = "zelda.quixotic-erasable@example.org"
NAME = "Zelda Quixotic-Erasable"
ADMIN = Actor("cli:tester")


def _person(store: Store, lead_id: str = LEAD_ID, email: str = EMAIL, name: str = NAME) -> None:
    upsert_lead(store, lead_id, {"title": "VP Sales", "email": email, "name": name}, T0)
    ingest_events(
        store,
        [
            Event(lead_id, "demo_request", T0, None, {"form_name": name, "email": email}),
            Event(lead_id, "email_open", T0 + H, f"open-{lead_id}", {"subject": f"hi {name}"}),
        ],
        T0 + H,
    )
    dispose(store, lead_id, "accept", note=f"called {name} at {email}", actor="rep", at=T0 + 2 * H)
    dispose(store, lead_id, "reject", reason="no_intent", note=f"{name} said no", actor="rep",
            at=T0 + 3 * H)  # fmt: skip


def _search(store: Store, store_url: str, tmp_path: Path) -> bytes:
    """Every byte the database holds (SQLite file + WAL) or dumps (PostgreSQL)."""
    if store.dialect == "sqlite":
        store.close()
        db = Path(store_url)
        return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())
    schema = store_url.split("search_path%3D", 1)[1].split("%20", 1)[0]
    out = subprocess.run(
        [PG_DUMP, "--no-owner", "-n", schema, "-d", PG_URL],
        check=True, capture_output=True,
    )  # fmt: skip
    assert b"CREATE TABLE" in out.stdout and b"COPY" in out.stdout
    return out.stdout


def _counts(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
            for t in (leads, events, transitions, mql_cycles)
        }


def test_erasure_leaves_nothing_of_the_person_and_keeps_counts(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    _person(store)
    _person(store, "bystander-1", "other.person@example.net", "Otto Other")
    with store.write() as conn:  # a CRM connector has queued and pulled for the person
        conn.execute(crm_sync.insert().values(
            connector="hubspot", lead_id=LEAD_ID, status="synced", attempts=1, reason="mql",
            queued_at=T0, crm_id="901"))  # fmt: skip
        conn.execute(crm_pulls.insert().values(
            connector="hubspot", lead_id=LEAD_ID, cycle=1, action="reject", applied_at=T0))  # fmt: skip
    before = _counts(store)
    mqls_before = get_lead(store, "bystander-1").cycles
    assert LEAD_ID.encode() in _raw_or_dump(store, store_url, tmp_path)

    report = erase_lead(store, LEAD_ID, at=T0 + 4 * H, by=ADMIN)

    (tomb,) = report.tombstones
    assert tomb.startswith("erased-") and report.rows["events"] == 2
    assert report.rows["crm_sync"] == 1 and report.rows["crm_pulls"] == 1
    assert _counts(store) == before  # the funnel still counts the person, anonymously
    tomb_view = get_lead(store, tomb)
    assert [t.to_stage for t in tomb_view.transitions] == ["mql", "sal", "nurture"]
    assert tomb_view.attrs == {}
    assert get_lead(store, "bystander-1").cycles == mqls_before
    with pytest.raises(NotFoundError):
        get_lead(store, LEAD_ID)
    (entry,) = list_audit(store, action="lead.erase")
    assert entry.actor == "cli:tester" and entry.target == tomb
    # Time passing and a republish never score the tombstone again (nor make it an MQL).
    tick(store, T0 + 30 * 24 * H)
    for engine in ("python", "duckdb"):
        lower = TINY_MODEL.replace("threshold: 30", f"threshold: {20 + len(engine)}").replace(
            "version: 1", f"version: 1-{engine}"
        )
        publish_model(store, lower, actor="t", as_of=T0 + 31 * 24 * H, engine=engine)
    assert get_lead(store, tomb).score_history == tomb_view.score_history
    with pytest.raises(ConflictError, match="already an erased tombstone"):
        erase_lead(store, tomb, at=T0 + 5 * H, by=ADMIN)

    data = _search(store, store_url, tmp_path)
    for value in (LEAD_ID, EMAIL, NAME, "Quixotic", "7Zq9erasable"):
        assert value.encode() not in data, value
        assert value.encode("utf-16-le") not in data, value
    assert b"other.person@example.net" in data  # the search does find what is there


def _raw_or_dump(store: Store, store_url: str, tmp_path: Path) -> bytes:
    if store.dialect == "sqlite":
        db = Path(store_url)
        return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())
    return _search(store, store_url, tmp_path)


def test_erasure_takes_every_record_of_the_person(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    upsert_lead(store, "a1", {"email": "same@example.org"}, T0)
    upsert_lead(store, "a2", {"email": "Same@example.org "}, T0)  # a duplicate record
    assert get_lead(store, "a2").duplicate_of == "a1"
    report = erase_lead(store, "a2", at=T0 + H, by=ADMIN)
    assert len(report.tombstones) == 2
    with store.read() as conn:
        assert conn.execute(select(leads.c.email).where(leads.c.email.is_not(None))).all() == []


def test_unknown_lead_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no lead 'nobody'"):
        erase_lead(store, "nobody", at=T0, by=ADMIN)


def test_erasure_is_sent_to_webhooks_then_forgotten(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    with receiver() as rx:
        add_webhook(store, rx.url, secret="0123456789abcdef", now=T0)
        _person(store)
        report = erase_lead(store, LEAD_ID, at=T0 + 4 * H, by=ADMIN)
        with store.read() as conn:
            payloads = conn.execute(select(outbox.c.topic, outbox.c.payload)).all()
        # The MQL and disposition messages about the person are blanked at once ...
        assert all(p == {"erased": True} for t, p in payloads if t != "lead.erased")
        with httpx.Client(timeout=5) as client:
            while run_once(store, client, DeliveryPolicy()).delivered:
                pass
        erased = [h.json for h in rx.hits if h.json["topic"] == "lead.erased"]
    # ... and the downstream system learns whom to erase, exactly once per record.
    assert [e["data"]["lead_id"] for e in erased] == [LEAD_ID]
    assert erased[0]["data"]["tombstone_id"] == report.tombstones[0]
    data = _search(store, store_url, tmp_path)
    for value in (LEAD_ID, EMAIL, NAME):
        assert value.encode() not in data, value
