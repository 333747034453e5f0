"""The server process's garbage collector: what start-up and warm-up leave behind is set aside.

A full (oldest-generation) collection scans every container object the process holds: the
modules, the app, its schemas, the compiled models and the store's caches, some 100k objects
once the first requests have run. Measured in ``leadgate serve`` under 8 clients
(``benchmarks/api_accounts.py``), each full collection stopped every request for 50-190 ms,
and one pause delays all the requests in flight: they were the p99. Objects alive at start-up
and after warm-up live as long as the process, so they are moved out of the collector's sight
(``gc.freeze``): later full collections scan only what requests made since (a few ms).

Frozen objects are never collected: only what is alive at start-up and at the first few full
collections after it is frozen (``WARM_UP_FREEZES``), so what requests allocate later (report
caches replaced, states evicted) is collected as before.
"""

from __future__ import annotations

import gc
from typing import Any

WARM_UP_FREEZES = 3  # full collections after start-up whose survivors are frozen (warm-up)


def settle() -> None:
    """Freeze what start-up made, and the survivors of the next ``WARM_UP_FREEZES`` full
    collections (the first requests' imports and caches)."""
    gc.collect()
    gc.freeze()
    left = [WARM_UP_FREEZES]

    def after_full_collection(phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        left[0] -= 1
        gc.freeze()
        if left[0] <= 0:
            gc.callbacks.remove(after_full_collection)

    gc.callbacks.append(after_full_collection)
