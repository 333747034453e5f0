"""Failed-authentication throttling: per client address, a sliding one-minute window.

After ``limit`` failed authentications (a key was sent and did not verify) within 60 seconds from
one address, every request from that address that needs a key is answered 429 with
``Retry-After`` until the oldest failure in the window is a minute old; valid keys included,
since telling a valid key from a guess is the guess. Counters live in the server process (each
``leadgate serve`` process counts its own) and are bounded in memory.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
DEFAULT_FAILURES_PER_MINUTE = 20
MAX_ADDRESSES = 100_000  # beyond this many tracked addresses, the quiet ones are forgotten


class AuthThrottle:
    """Counts failed authentications per address; ``limit`` 0 turns throttling off."""

    def __init__(
        self,
        limit: int = DEFAULT_FAILURES_PER_MINUTE,
        *,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 0:
            raise ValueError("limit: must be 0 (off) or more")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float] | None:
        times = self._failures.get(address)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[address]
            return None
        return times

    def retry_after(self, address: str) -> int | None:
        """Seconds ``address`` must wait before authenticating again, or ``None`` if it may."""
        if not self.limit:
            return None
        now = self.clock()
        times = self._recent(address, now)
        if times is None or len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window - now))

    def failed(self, address: str) -> None:
        """Record one failed authentication from ``address``."""
        if not self.limit:
            return
        now = self.clock()
        if len(self._failures) >= MAX_ADDRESSES:
            for quiet in [a for a, t in self._failures.items() if t[-1] <= now - self.window]:
                del self._failures[quiet]
            if len(self._failures) >= MAX_ADDRESSES:
                self._failures.pop(next(iter(self._failures)))
        times = self._recent(address, now) or self._failures.setdefault(address, deque())
        times.append(now)
        while len(times) > self.limit:  # only the newest ``limit`` failures matter
            times.popleft()
