"""Group commit with account-level events (issue #15): requests holding account events are
merged with the others into one write, each still answered with its own leads and accounts and
its own counts, and an unknown account fails only the request that names it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accounts_helpers import ACCOUNTS, LEADS, MODEL
from api_helpers import Clock
from leadgate.api.app import create_app
from leadgate.engine import Event
from leadgate.service import publish_model, upsert_account, upsert_lead
from leadgate.service.accounts import get_account
from leadgate.service.accounts_live import UnknownAccountError


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Any]:
    clock = Clock()
    app = create_app(str(tmp_path / "b.db"), clock=clock)
    cfg = app.state.config
    publish_model(cfg.store, MODEL, actor="t", as_of=clock.now)
    for a in ACCOUNTS:
        upsert_account(cfg.store, a["account_id"], {k: v for k, v in a.items()
                                                    if k != "account_id"}, clock.now)  # fmt: skip
    for lead in LEADS:
        upsert_lead(cfg.store, lead["lead_id"], {k: v for k, v in lead.items()
                                                 if k != "lead_id"}, clock.now)  # fmt: skip
    yield cfg
    cfg.store.close()


def _ev(owner: str, event_id: str | None, at: Any, url: str = "/pricing") -> Event:
    return Event(owner, "page_view", at - timedelta(hours=1), event_id, {"url": url})


def _spy(config: Any) -> list[tuple[int, int]]:
    calls: list[tuple[int, int]] = []
    original = config.batcher._write

    def spy(items: Any, actor: str, owned: Any = ()) -> Any:
        calls.append((len(items), len(owned)))
        return original(items, actor, owned)

    config.batcher._write = spy
    return calls


async def _submit(config: Any, requests: list[tuple[list[Event], list[Event]]]) -> list[Any]:
    return await asyncio.gather(
        *(config.batcher.submit(evs, "key:t", owned) for evs, owned in requests),
        return_exceptions=True,
    )


def test_account_events_are_merged_and_answered_each_on_its_own(config: Any) -> None:
    now = config.clock()
    calls = _spy(config)
    opens = [Event("L1", "email_open", now - timedelta(hours=2), f"o{i}", {}) for i in range(3)]
    requests = [
        (opens, []),
        ([], [_ev("A1", "v1", now)]),
        ([], [_ev("A1", "v1", now), _ev("A2", None, now, "/home")]),  # a replay, a new one
        ([_ev("L5", "p1", now)], [_ev("A2", None, now, "/home")]),  # the same derived id again
    ]
    answers = asyncio.run(_submit(config, requests))
    assert calls == [(4, 4)]  # one write for the four requests
    ids = [[getattr(s, "lead_id", None) or s.account_id for s in a.leads] for a in answers]
    assert ids == [["L1"], ["A1"], ["A1", "A2"], ["L5", "A2"]]
    assert [(a.inserted, a.ignored) for a in answers] == [(3, 0), (1, 0), (1, 1), (1, 1)]
    # The answers are the accounts as the shared write left them.
    for a in answers[1:]:
        for state in a.leads[-1:]:
            stored = get_account(config.store, state.account_id)
            assert (state.stage, state.score) == (stored.stage, stored.score)
    assert answers[1].leads[0].score["scores"]["intent"] > 0


def test_an_unknown_account_fails_only_its_request(config: Any) -> None:
    now = config.clock()
    calls = _spy(config)
    requests = [
        ([], [_ev("A1", "k1", now)]),
        ([], [_ev("NOPE", "k2", now)]),
        ([_ev("L1", "k3", now)], []),
    ]
    results = asyncio.run(_submit(config, requests))
    assert calls[0] == (1, 2) and len(calls) == 4  # merged, failed, then one write each
    assert isinstance(results[1], UnknownAccountError) and results[1].account_id == "NOPE"
    assert [r.inserted for r in (results[0], results[2])] == [1, 1]
    assert results[0].leads[0].account_id == "A1"
