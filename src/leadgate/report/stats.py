"""Conversion rates with their sample size and a Wilson score interval.

A rate measured on 2 leads is not 100%: every rate a report shows carries ``k`` (successes),
``n`` (the cohort it is measured on) and the Wilson interval, which stays inside [0, 1] and
behaves at k = 0 and k = n where the normal approximation does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``k`` successes in ``n`` trials.

    ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` with ``p = k/n``;
    ``(0, 1)`` when ``n`` is 0 (nothing is known).
    """
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"k must be within 0..n, got k={k}, n={n}")
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # Clamp rounding noise at the edges (k = 0 or k = n give exactly 0 / 1 analytically).
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n`` converted; ``value`` is None when ``n`` is 0."""

    k: int
    n: int

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.interval
        return {"k": self.k, "n": self.n, "rate": self.value, "lo": lo, "hi": hi}

    def fields(self, name: str) -> dict[str, Any]:
        """The flat record fields of the rate called ``name``: ``name`` (the value),
        ``name_n``, ``name_lo``, ``name_hi`` (csv/json rows of every report)."""
        lo, hi = self.interval
        return {name: self.value, f"{name}_n": self.n, f"{name}_lo": lo, f"{name}_hi": hi}

    def text(self) -> str:
        """``42.0% (21/50, 28.9–56.1)`` for tables; ``–`` when nothing was measured."""
        if not self.n:
            return "–"
        lo, hi = self.interval
        return f"{100 * self.k / self.n:.1f}% ({self.k}/{self.n}, {100 * lo:.1f}–{100 * hi:.1f})"
