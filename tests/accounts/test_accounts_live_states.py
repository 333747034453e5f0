"""The account answer after an event, from the leads' incremental states (issue #15 "Speed"),
equals a full re-score from the stored events, on SQLite and PostgreSQL.

The live path reads an account's leads with their stored states in one statement, scores the
leads without new events from those states and writes back only the states it changed
(``service/accounts_live.py``, ``store/account_members.py``). Here a sequence of single events,
each at a later ``as_of`` (decay, windows and prunes move between them), is written one by one;
after each, the account the event touched is scored again the slow way (every lead from its
events: ``score_store_accounts`` with ``stored_members``) and compared with the stored answer,
and every lead's stored state, evaluated at that ``as_of``, with the pure engine.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from compare_helpers import assert_close
from leadgate.engine import Event, score_lead
from leadgate.engine import incremental as inc
from leadgate.service import ingest_events, publish_model, upsert_account, upsert_lead
from leadgate.service.accounts import get_account, score_store_accounts
from leadgate.service.models import active_model
from leadgate.service.rescore import events_of, load_accounts, profile_of
from leadgate.store import Store, open_store
from leadgate.store.history import lead_rows, lead_select
from leadgate.store.schema import account_states, lead_states, leads
from store_helpers import BACKENDS, temp_store_url

START = datetime(2026, 11, 1, tzinfo=UTC)

# No ``scope: account`` measure (the incremental state stands for every lead), with what moves
# between two events: a decay, a window that prunes, a capped count; the account reads the
# leads' scores through roll-ups, the buying group and its own decayed intent.
MODEL = """\
name: live-states
version: 1
threshold: 20
dimensions:
  fit:
    rules:
      - {name: senior, when: {title: {matches: '\\bvp\\b'}}, points: 10}
  engagement:
    half_life_days: 5
    rules:
      - {name: opened, event: email_open, points: 4, max_points: 12}
      - {name: clicked, event: email_click, points: 6}
  intent:
    rules:
      - {name: recent pricing, event: page_view, where: {url: {contains: /pricing}}, points: 5, within_days: 3}
      - {name: visits, event: page_view, points: 1, max_count: 4}
accounts:
  threshold: 25
  abm_when: {tier: {in: [1]}}
  dimensions:
    engagement:
      rules:
        - name: engaged people
          rollup: {count: leads, where: {score.engagement: {gte: 5}}}
          points: 5
        - {name: best two, rollup: {top_sum: total, n: 2}, points: 0.5}
        - {name: an MQL, rollup: {count: leads, where: {mql: true}}, points: 10, max_points: 10}
    intent:
      half_life_days: 4
      rules:
        - {name: pricing, event: page_view, where: {url: {contains: /pricing}}, points: 4}
  buying_group:
    roles:
      - {name: exec, when: {title: {matches: '\\bvp\\b'}}, required: 1}
      - {name: user, when: {title: {matches: 'engineer'}}, required: 2}
    engaged_when: {score.engagement: {gte: 3}}
"""
ACCOUNTS = {"A1": {"tier": 1}, "A2": {"tier": 3}}
LEADS = {
    "L1": {"account_id": "A1", "title": "vp sales"},
    "L2": {"account_id": "A1", "title": "engineer"},
    "L3": {"account_id": "A1", "title": "engineer"},
    "L4": {"account_id": "A2", "title": "vp data"},
    "L5": {"account_id": "A2", "title": "engineer"},
    "L6": {"title": "vp ops"},
}
OWNER = {lead: attrs.get("account_id") for lead, attrs in LEADS.items()}

steps = st.lists(
    st.tuples(
        st.sampled_from([*LEADS, *ACCOUNTS]),
        st.sampled_from(["email_open", "email_click", "page_view"]),
        st.integers(0, 6),  # days the event happened before its as_of
        st.sampled_from(["/pricing", "/home"]),
        st.integers(0, 36),  # hours from the previous step's as_of
    ),
    min_size=1,
    max_size=10,
)


def _setup(store: Store) -> None:
    publish_model(store, MODEL, actor="t", as_of=START)
    for account_id, attrs in ACCOUNTS.items():
        upsert_account(store, account_id, attrs, START)
    for lead_id, attrs in LEADS.items():
        upsert_lead(store, lead_id, attrs, START)


def _close(a: Any, b: Any, where: str = "") -> None:
    """``a`` equals ``b``, floats to 1e-9 (the incremental sums against the pure engine's)."""
    assert_close(a, b, where, rel_tol=1e-9)


def _check(store: Store, account_id: str, as_of: datetime) -> None:
    """The stored answer for ``account_id`` is the slow re-score's; every lead's stored state
    gives the pure engine's score at ``as_of``."""
    answer = get_account(store, account_id)
    with store.read() as conn:
        model = active_model(conn, store)
        assert model is not None
        (slow,) = score_store_accounts(conn, store, as_of, [account_id], model=model)
        _close(answer.score, slow.to_record(), "score")
        _close(answer.explanation, slow.explanation.to_dict(), "explanation")
        rows = lead_rows(conn, lead_select().where(leads.c.duplicate_of.is_(None)))
        states = {r.lead_id: r for r in conn.execute(select(lead_states))}
        history = events_of(conn, [r.lead_id for r in rows])
        accts = load_accounts(conn, (r.account_id for r in rows))
    spec = inc.spec_of(model.plan)
    for row in rows:
        if row.lead_id not in states:
            continue  # never scored from a state yet
        state = json.loads(states[row.lead_id].state)
        assert states[row.lead_id].model_hash == model.hash
        profile = profile_of(row, accts.get(row.account_id) if row.account_id else None)
        from_state = inc.evaluate(spec, model.plan, state, profile, as_of, row.lead_id)
        pure = score_lead(model.plan, profile, history.get(row.lead_id, ()), as_of, row.lead_id)
        if from_state is not None:  # None: the live path scores it from its events too
            _close(from_state.to_record(), pure.to_record(), f"lead {row.lead_id}")


def _run(store: Store, plan: list[tuple[str, str, int, str, int]]) -> None:
    as_of = START + timedelta(days=1)
    for n, (owner, kind, days, url, hours) in enumerate(plan):
        as_of += timedelta(hours=hours)
        at = as_of - timedelta(days=days)
        if owner in ACCOUNTS:
            event = Event(owner, "page_view", at, f"a{n}", {"url": url})
            ingest_events(store, [], as_of, account_events=[event])
            account = owner
        else:
            ingest_events(store, [Event(owner, kind, at, f"e{n}", {"url": url})], as_of)
            account = OWNER[owner] or ""
        if account:
            _check(store, account, as_of)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store set up once; examples copy it."""
    folder = tmp_path_factory.mktemp("template")
    with temp_store_url("sqlite", folder) as url, open_store(url) as s:
        _setup(s)
    return folder / "leadgate.db"


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(plan=steps)
def test_the_answer_after_each_event_is_a_full_rescore(
    template: Path, plan: list[tuple[str, str, int, str, int]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(template, Path(tmp) / "a.db")
        with open_store(str(Path(tmp) / "a.db")) as store:
            _run(store, plan)


FIXED = [
    ("L1", "email_open", 1, "/home", 0),
    ("L2", "page_view", 0, "/pricing", 5),
    ("A1", "page_view", 2, "/pricing", 20),
    ("L3", "email_click", 4, "/home", 30),
    ("L1", "page_view", 0, "/pricing", 30),  # L2's pricing view is out of its window now
    ("L4", "email_open", 0, "/home", 1),
    ("L2", "email_open", 6, "/home", 36),
    ("A2", "page_view", 0, "/home", 2),
]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with temp_store_url(request.param, tmp_path) as url, open_store(url) as s:
        _setup(s)
        yield s


def test_a_fixed_sequence_on_each_store(store: Store) -> None:
    _run(store, FIXED)


def test_an_event_writes_back_only_its_own_leads_state(store: Store) -> None:
    """Scoring an account's other leads for its answer leaves their stored states as they were
    (nothing new to fold in): only the event's lead's state row is written."""
    as_of = START + timedelta(days=2)
    for n, lead in enumerate(("L1", "L2", "L3")):  # every state of A1 built
        ingest_events(store, [Event(lead, "email_open", as_of, f"w{n}", {})], as_of)
    with store.read() as conn:
        before = {r.lead_id: r.version for r in conn.execute(select(lead_states))}
    later = as_of + timedelta(days=3)  # decay and prunes move; the states need not
    ingest_events(store, [Event("L1", "email_click", later, "x", {})], later)
    with store.read() as conn:
        after = {r.lead_id: r.version for r in conn.execute(select(lead_states))}
        stored = conn.execute(select(account_states.c.score_total)).scalars().all()
    assert after["L1"] == before["L1"] + 1
    assert {k: v for k, v in after.items() if k != "L1"} == {
        k: v for k, v in before.items() if k != "L1"
    }
    assert stored  # the account was scored, from the unchanged states
    _check(store, "A1", later)
