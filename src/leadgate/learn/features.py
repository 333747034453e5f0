"""Features for learning: profile attributes and event counts/recency, each one a leadgate rule.

Every feature is defined so that the engine can compute it again from a model rule: a profile
column (``when``), or a count of events of one kind in a window (a count rule ``events:``), or the
time since the last such event (count rules with ``within_days``). Learning uses nothing a rule
cannot see.

Leakage guard: an event counts for a lead only when ``timestamp <= as_of`` for that lead — the
moment being predicted (its ``mql_time`` by default) — the same test the engine applies
(docs/semantics.md "Time"). Later events never reach a feature.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from leadgate.engine.event import Event
from leadgate.engine.values import domain_of, fold, text_of
from leadgate.learn.cleaning import (
    category_values,
    classify_column,
    is_free_email,
    numeric_values,
)

COUNT_WINDOWS: tuple[float | None, ...] = (30.0, None)  # days; None = all history before as_of
SECTION_SHARE = 0.02  # a URL section becomes its own event kind above this share of its type
INTENT_WORDS = re.compile(r"demo|pricing|price|trial|quote|contact|buy|purchase|sales")
_SECTION_RE = re.compile(r"^(?:https?://[^/]*)?/([^/?#]+)", re.IGNORECASE)
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class EventKind:
    """A kind of event a feature counts: a type, optionally only page views of one URL section."""

    type: str
    section: str | None = None

    @property
    def label(self) -> str:
        return self.type if self.section is None else f"{self.type} /{self.section}"

    def where(self) -> dict[str, Any] | None:
        """The rule's ``where`` condition on event properties (None: every event of the type)."""
        if self.section is None:
            return None
        return {"url": {"matches": f"^(https?://[^/]*)?/{re.escape(self.section)}([/?#]|$)"}}

    @property
    def dimension(self) -> str:
        return "intent" if INTENT_WORDS.search(self.label.lower()) else "engagement"


@dataclass
class Feature:
    """One learnable feature, with everything needed to write it back as rules.

    ``kind``: "numeric" (column, NaN = missing), "categorical" (column, folded text with
    ``cleaning.MISSING``/``OTHER``), "flag" (free-mail address of ``column``), "count" (events of
    ``event`` within ``within_days``) or "recency" (days since the last such event, NaN = never).
    """

    name: str
    kind: str
    dimension: str
    values: np.ndarray
    column: str | None = None
    event: EventKind | None = None
    within_days: float | None = None
    text_numbers: bool = False
    integer_valued: bool = False
    placeholders: tuple[str, ...] = ()
    operator: str = "in"  # categorical: "in" (the value) or "domain_in" (an e-mail's domain)


@dataclass
class FeatureTable:
    """The learning table: one row per lead, its label, the moment predicted, and its features."""

    ids: list[str]
    y: np.ndarray
    features: list[Feature]
    times: np.ndarray | None = None  # epoch seconds of each row's moment (time-based split)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, list[Event]] = field(default_factory=dict)
    as_of: list[datetime] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rare_cutoff(n_rows: int) -> int:
    """Categories seen fewer times than this are pooled into "other" (1% of rows, at least 20)."""
    return max(20, math.ceil(0.01 * n_rows))


def profile_features(
    rows: Sequence[Mapping[str, Any]], skip: set[str]
) -> tuple[list[Feature], list[tuple[str, str]], np.ndarray | None]:
    """Features from profile columns; returns (features, dropped columns with reasons, times).

    ``times`` is the first date column's epoch seconds (NaN when unparseable), for the split.
    """
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in skip and key not in columns:
                columns.append(key)
    features: list[Feature] = []
    dropped: list[tuple[str, str]] = []
    times: np.ndarray | None = None
    for col in columns:
        values = [row.get(col) for row in rows]
        kind = classify_column(col, values)
        if kind.kind == "numeric":
            nums, placeholders = numeric_values(values)
            features.append(
                Feature(col, "numeric", "fit", np.asarray(nums, dtype=float), column=col,
                        text_numbers=kind.text_numbers, integer_valued=kind.integer_valued,
                        placeholders=tuple(placeholders))
            )  # fmt: skip
        elif kind.kind == "categorical":
            cats, _, placeholders = category_values(values, rare_cutoff(len(rows)))
            features.append(
                Feature(col, "categorical", "fit", np.asarray(cats, dtype=object), column=col,
                        placeholders=tuple(placeholders))
            )  # fmt: skip
        elif kind.kind == "email":
            flags = np.asarray([is_free_email(v) for v in values], dtype=float)
            features.append(Feature(f"{col} free-mail", "flag", "fit", flags, column=col))
            domains, _, _ = category_values([domain_of(v) for v in values], rare_cutoff(len(rows)))
            features.append(
                Feature(f"{col} domain", "categorical", "fit", np.asarray(domains, dtype=object),
                        column=col, operator="domain_in")
            )  # fmt: skip
        else:
            if kind.kind == "date" and times is None:
                times = np.asarray([_epoch(v) for v in values], dtype=float)
            dropped.append((col, kind.reason))
    return features, dropped, times


def _epoch(value: Any) -> float:
    from leadgate.errors import IngestError
    from leadgate.io.readers import parse_timestamp

    try:
        return parse_timestamp(value).timestamp()
    except IngestError:
        return math.nan


def _section(event: Event) -> str | None:
    url = text_of(event.properties.get("url"))
    if url is None:
        return None
    m = _SECTION_RE.match(url)
    return fold(m.group(1)) if m else None


def event_kinds(events: Sequence[Event]) -> list[EventKind]:
    """The event kinds worth a feature: every type, plus frequent URL sections of a type."""
    types = Counter(e.type for e in events)
    sections = Counter((e.type, s) for e in events if (s := _section(e)) is not None)
    kinds = [EventKind(t) for t in sorted(types)]
    for (t, s), n in sorted(sections.items()):
        # a section holding (almost) all of its type's events would only duplicate the type
        if n >= SECTION_SHARE * types[t] and n >= 20 and n < 0.95 * types[t]:
            kinds.append(EventKind(t, s))
    return kinds


def event_features(
    ids: Sequence[str], events: Mapping[str, Sequence[Event]], as_of: Sequence[datetime]
) -> list[Feature]:
    """Counts per kind in each of ``COUNT_WINDOWS`` and days since the last event of the kind.

    Only events with ``timestamp <= as_of`` of their lead count (the leakage guard).
    """
    visible: list[tuple[int, Event, float]] = []
    for i, lead in enumerate(ids):
        now = as_of[i].timestamp()
        for ev in events.get(lead, ()):
            if ev.epoch <= now:
                visible.append((i, ev, (now - ev.epoch) / SECONDS_PER_DAY))
    kinds = event_kinds([ev for _, ev, _ in visible])
    index = {k: j for j, k in enumerate(kinds)}
    rows: list[int] = []
    cols: list[int] = []
    ages: list[float] = []
    for i, ev, age in visible:
        section = _section(ev)
        own = (
            (EventKind(ev.type),)
            if section is None
            else (EventKind(ev.type), EventKind(ev.type, section))
        )
        for kind in own:
            j = index.get(kind)
            if j is not None:
                rows.append(i)
                cols.append(j)
                ages.append(age)
    r, c, a = np.asarray(rows, dtype=int), np.asarray(cols, dtype=int), np.asarray(ages)
    n, k = len(ids), len(kinds)
    out: list[Feature] = []
    recency = np.full((n, k), np.inf)
    np.minimum.at(recency, (r, c), a)
    recency[np.isinf(recency)] = np.nan
    for window in COUNT_WINDOWS:
        counts = np.zeros((n, k))
        mask = a <= window if window is not None else np.ones(len(a), dtype=bool)
        np.add.at(counts, (r[mask], c[mask]), 1.0)
        for j, kind in enumerate(kinds):
            suffix = f"in {window:g} days" if window is not None else "ever"
            out.append(
                Feature(f"{kind.label} count {suffix}", "count", kind.dimension, counts[:, j],
                        event=kind, within_days=window, integer_valued=True)
            )  # fmt: skip
    for j, kind in enumerate(kinds):
        out.append(
            Feature(f"{kind.label} recency", "recency", kind.dimension, recency[:, j], event=kind)
        )
    return out
