"""Lead search (``search_leads``): the SQLite trigram index proposes, the lead decides; what it
finds equals a plain scan of every lead, for every piece of text, after profile changes,
renames (erasure) and on PostgreSQL (no index, the scan)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadgate.service import publish_model, upsert_lead
from leadgate.service.erasure import erase_lead
from leadgate.service.workbench import _indexed_ids, display_name, search_leads
from leadgate.store import Store
from leadgate.store.audit import Actor
from leadgate.store.schema import leads
from store_helpers import TINY_MODEL

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PEOPLE = [
    ("L1", "Ana", "Chen", "Acme & Sons"),
    ("acme/42", "Bo", "Chenko", "Chen Industries"),
    ("L-100", "Cy", "Díaz", "Ünicode GmbH"),
    ("x_y%z", "Dee", "Perc%nt", "Under_Score Ltd"),
    ("L-101", "Eve", "Moss", None),
    *((f"bulk-{i:03}", f"First{i}", f"Last{i % 7}", f"Company {i % 5}") for i in range(40)),
]  # fmt: skip


def _profile(first: str, last: str, company: str | None, lead_id: str) -> dict[str, Any]:
    slug = "".join(ch for ch in lead_id if ch.isalnum())
    out: dict[str, Any] = {"first_name": first, "last_name": last, "email": f"{slug}@Mail.example"}
    if company is not None:
        out["company"] = company
    return out


def _scan(store: Store, text: str, limit: int = 50) -> list[str]:
    """What a search must answer: every lead read, its fields checked in Python."""
    needle = text.strip().lower()
    if not needle:
        return []
    with store.read() as conn:
        rows = conn.execute(select(leads.c.lead_id, leads.c.email, leads.c.attrs)).all()
    found = sorted(
        r.lead_id for r in rows
        if any(needle in f.lower() for f in (
            r.lead_id, r.email or "", display_name(r.attrs or {}),
            "" if (r.attrs or {}).get("company") is None else str(r.attrs["company"]),
        ))
    )[: limit * 4]  # fmt: skip
    found.sort(key=lambda i: (i.lower() != needle, i))
    return found[:limit]


def _needles() -> list[str]:
    texts = [f"{lead_id} {first} {last}" for lead_id, first, last, _ in PEOPLE[:6]]
    pieces = {t[i : i + n] for t in texts for n in (1, 2, 3, 4, 6) for i in range(len(t) - n + 1)}
    return [*sorted(pieces), "ACME", "mail.EXAMPLE", "nobody-here", "díaz", "ÜNICODE", "%", "_"]


def _check_all(store: Store) -> None:
    for needle in _needles():
        assert [h.lead_id for h in search_leads(store, needle)] == _scan(store, needle), needle


@pytest.fixture
def people(store: Store, tmp_path: Path) -> Store:
    model = tmp_path / "m.yaml"
    model.write_text(TINY_MODEL)
    publish_model(store, model, actor="test", as_of=T0)
    for lead_id, first, last, company in PEOPLE:
        upsert_lead(store, lead_id, _profile(first, last, company, lead_id), T0)
    return store


def test_search_equals_a_scan_for_every_piece_of_text(people: Store) -> None:
    _check_all(people)
    if people.dialect == "sqlite":
        assert "L1" in (_indexed_ids(people, "chen") or [])  # answered by the index
        assert _indexed_ids(people, "ch") is None  # too short for a trigram: the scan
        assert _indexed_ids(people, "díaz") is None  # non-ASCII: the scan


def test_search_follows_profile_changes_renames_and_erasure(people: Store) -> None:
    later = T0 + timedelta(hours=1)
    upsert_lead(people, "L1", _profile("Ana", "Okafor", "Globex", "L1"), later)
    assert "L1" not in {h.lead_id for h in search_leads(people, "Chen")}
    assert [h.lead_id for h in search_leads(people, "okafor")] == ["L1"]
    assert [h.lead_id for h in search_leads(people, "globex")] == ["L1"]
    report = erase_lead(people, "acme/42", at=later, by=Actor("cli:tester"))
    assert search_leads(people, "chenko") == []
    assert search_leads(people, "acme/42") == []
    assert report is not None
    _check_all(people)
