"""Group commit for ``POST /v1/events``: concurrent requests share one write transaction.

Under load, requests that arrive while a write is running queue up; the next write takes all of
them (same actor, up to ``max_events`` events) into one ``ingest_events`` call: one transaction,
one re-score of the leads involved, one commit. Each request still gets its own answer -- the
state of the leads *its* events count for -- after the shared commit, so "the new score within
the same request" holds. Scores are a pure function of the stored events and ``as_of``
(ARCHITECTURE.md invariant 2), so a merged write gives exactly the scores of separate writes at
that time (the incremental-equals-rebuild tests check this). With one client there is nothing to
merge and a request is written alone. Account-level events (issue #15) are merged the same way:
the write re-scores their accounts once, and each request answers its own accounts' states.

A merged write that fails for any reason (a user error, a value the database rejects, a lock
timeout, a bug) is retried request by request, so one request's problem never becomes another's:
each request then gets the outcome of its own write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from leadgate.engine import Event
from leadgate.io.readers import event_id_of
from leadgate.service import IngestResult, LeadState, ingest_events

if TYPE_CHECKING:
    from leadgate.api.app import ApiConfig


@dataclass
class Answer:
    """One request's share of a merged write."""

    leads: list[LeadState]  # then the request's accounts' states (``AccountState``)
    inserted: int
    ignored: int


@dataclass
class _Pending:
    events: list[Event]
    actor: str
    future: asyncio.Future[Answer]
    account_events: list[Event] = field(default_factory=list)  # each with its id

    @property
    def size(self) -> int:
        return len(self.events) + len(self.account_events)


@dataclass
class _Merged:
    result: IngestResult
    existing: set[str]  # event ids stored before the write: replays
    canonical: dict[str, str] = field(default_factory=dict)  # duplicate lead -> primary
    existing_accounts: set[str] = field(default_factory=set)  # account event ids: replays


class EventBatcher:
    """Queues event writes and runs them in merged batches, one batch at a time."""

    def __init__(self, config: ApiConfig, max_events: int = 1000, merge: bool = True) -> None:
        self.config = config
        self.max_events = max_events
        self.merge = merge  # False: one request per write (to measure what merging buys)
        self._queue: list[_Pending] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None

    async def submit(
        self, events: list[Event], actor: str, account_events: Sequence[Event] = ()
    ) -> Answer:
        """Write ``events`` and ``account_events`` (with the others waiting) and return this
        request's answer: its leads' states, then its accounts'.

        Raises:
            UnknownAccountError: an account event of this request names no stored account.
        """
        loop = asyncio.get_running_loop()
        pending = _Pending(events, actor, loop.create_future(), _with_ids(account_events))
        self._queue.append(pending)
        if not self._draining:
            self._draining = True
            self._task = loop.create_task(self._drain())  # kept: a bare task may be collected
        return await pending.future

    def _take(self) -> list[_Pending]:
        actor = self._queue[0].actor
        taken: list[_Pending] = []
        count = 0
        rest: list[_Pending] = []
        for item in self._queue:
            fits = item.actor == actor and (
                not taken or (self.merge and count + item.size <= self.max_events)
            )
            if fits and not rest:
                taken.append(item)
                count += item.size
            else:
                rest.append(item)
        self._queue = rest
        return taken

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._take()
                items = [e for p in batch for e in p.events]
                owned = [e for p in batch for e in p.account_events]
                # (account events passed only when there are some: a lead-event write keeps
                # the call ``_write(items, actor)``)
                try:
                    merged = await self.config.write(
                        self._write, items, batch[0].actor, *([owned] if owned else [])
                    )
                except Exception as error:  # any error: a user's, the database's, a bug
                    if len(batch) == 1:
                        _fail(batch[0], error)
                        continue
                    # The merged transaction rolled back as a whole; write each request alone
                    # so only the one at fault fails (its own error, its own status).
                    for item in batch:
                        try:
                            one = await self.config.write(
                                self._write, item.events, item.actor,
                                *([item.account_events] if item.account_events else []),
                            )  # fmt: skip
                            _resolve(item, one, set())
                        except Exception as exc:  # handed to that request's handler
                            _fail(item, exc)
                    continue
                seen: set[str] = set()
                for item in batch:
                    _resolve(item, merged, seen)
        finally:
            self._draining = False

    def _write(self, items: Sequence[Event], actor: str, owned: Sequence[Event] = ()) -> _Merged:
        result = ingest_events(
            self.config.store, items, self.config.now(), actor=actor, account_events=owned
        )
        # The write says which ids were new and where duplicates' events went: no other read.
        existing = {e.event_id for e in items if e.event_id} - result.inserted_ids
        replayed = {e.event_id for e in owned} - result.inserted_account_ids
        return _Merged(result, existing, dict(result.canonical), replayed)


def _with_ids(events: Sequence[Event]) -> list[Event]:
    """Account events with their ids (given, or derived from the content as the store derives
    them), so a merged write's inserted ids tell each request what was new."""
    return [
        e if e.event_id else replace(
            e, event_id=event_id_of(e.lead_id, e.type, e.timestamp, dict(e.properties))
        )
        for e in events
    ]  # fmt: skip


def _fail(item: _Pending, exc: BaseException) -> None:
    if not item.future.done():
        item.future.set_exception(exc)


def _resolve(item: _Pending, merged: _Merged, seen: set[str]) -> None:
    """This request's leads (first-seen order), then its accounts (the same), and its own
    inserted/ignored counts."""
    by_id = {s.lead_id: s for s in merged.result.leads}
    order: list[str] = []
    inserted = 0
    for event in item.events:
        lead_id = merged.canonical.get(event.lead_id, event.lead_id)
        if lead_id in by_id and lead_id not in order:
            order.append(lead_id)
        if event.event_id not in merged.existing and event.event_id not in seen:
            inserted += 1
        seen.add(event.event_id)
    by_account = {s.account_id: s for s in merged.result.accounts}
    accounts: list[str] = []
    for event in item.account_events:  # ``lead_id``: the account's id
        if event.lead_id in by_account and event.lead_id not in accounts:
            accounts.append(event.lead_id)
        key = f"account:{event.event_id}"  # its own namespace: a lead event may share the id
        if event.event_id not in merged.existing_accounts and key not in seen:
            inserted += 1
        seen.add(key)
    states: list[Any] = [*(by_id[i] for i in order), *(by_account[a] for a in accounts)]
    answer = Answer(states, inserted, item.size - inserted)
    if not item.future.done():
        item.future.set_result(answer)
