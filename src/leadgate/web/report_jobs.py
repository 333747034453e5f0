"""Report views computed off the request, so a report page never waits minutes for its numbers.

Every report reads the whole store once per change of it, and rejections, model comparison and
calibration also score leads again at each one's own time: on a big store (100k leads, 2.5M
events) a first computation takes seconds to minutes. A request hands the view's computation to
one background thread (one at a time: they share the server's report caches and its cores) and
waits for it up to ``WAIT_SECONDS``. Not done by then, the page says the report is being
computed and looks again a few seconds later (``app.js``; without script, a reload link). A result is kept while the
store's fingerprint (and, for the views computed as of now, the minute) is the one it was
computed from; once the store has changed, the page shows the last result, saying when it was
computed, while the next one is computed. The numbers shown are always the report library's,
for the store as it was at the time the page states.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from leadgate.errors import LeadgateError

WAIT_SECONDS = 5.0  # a request waits this long for a computation before the "computing" page
MAX_KEPT = 64  # results kept (report views x their form values)


@dataclass(frozen=True)
class Done:
    """A finished computation: what it was computed from, its result (or the error it raised
    on the user's input) and when it finished."""

    key: tuple[Any, ...]
    value: Any
    error: LeadgateError | None
    at: datetime


class ReportJobs:
    """The report views being computed and the last result of each (one server's)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._one_at_a_time = threading.Lock()
        self._running: dict[Hashable, Future[Done]] = {}
        self._done: OrderedDict[Hashable, Done] = OrderedDict()
        self.started = 0  # computations started (for tests)

    def result(
        self, name: Hashable, key: tuple[Any, ...], compute: Callable[[], Any], wait: float
    ) -> tuple[Done | None, bool]:
        """The newest result of ``name`` and whether it was computed from ``key`` (current).

        Starts ``compute`` in the background unless the current result is kept or a
        computation of ``name`` is already running, then waits for it up to ``wait`` seconds.
        Returns ``(None, False)`` when nothing was computed yet.
        """
        with self._lock:
            done = self._done.get(name)
            if done is not None and done.key == key:
                self._done.move_to_end(name)
                return done, True
            future = self._running.get(name)
            if future is None:
                future = Future()
                self._running[name] = future
                self.started += 1
                # A daemon thread: stopping the server must not wait for a long computation.
                threading.Thread(
                    target=self._run, args=(name, key, compute, future), daemon=True,
                    name="leadgate-report",
                ).start()  # fmt: skip
        try:
            fresh = future.result(timeout=wait)
        except FutureTimeout:
            return done, False
        return fresh, fresh.key == key

    def _run(
        self,
        name: Hashable,
        key: tuple[Any, ...],
        compute: Callable[[], Any],
        future: Future[Done],
    ) -> None:
        try:
            with self._one_at_a_time:
                try:
                    done = Done(key, compute(), None, datetime.now(UTC))
                except LeadgateError as exc:  # the user's input: shown on the page
                    done = Done(key, None, exc, datetime.now(UTC))
        except BaseException as exc:  # a bug: the request that waits re-raises it
            with self._lock:
                self._running.pop(name, None)
            future.set_exception(exc)
            return
        with self._lock:
            self._done[name] = done
            self._done.move_to_end(name)
            while len(self._done) > MAX_KEPT:
                self._done.popitem(last=False)
            self._running.pop(name, None)
        future.set_result(done)
