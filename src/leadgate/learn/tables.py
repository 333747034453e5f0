"""Learning tables from files: leads + events + outcomes, or one flat export with an outcome column.

``table_from_files``: the population is the leads with an outcome row (leads handed to sales: only
they have a known result) and a value in the as-of field (``mql_time`` by default), which is the
moment being predicted: features see the profile and only the events up to that moment. Labels:

- ``won``: outcome ``won`` -> 1; ``open`` (undecided) or a pending SAL -> left out; else 0;
- ``sql``: an ``sql_time`` -> 1; a pending SAL -> left out; else 0;
- ``sal``: ``sal_status`` accepted -> 1, rejected -> 0, else left out.

Outcome window (the credit scorer's performance window): a lead handed over last week has had
no time to be won, while its rejection is known within days, so recent rows are mostly
negatives whatever their quality, and a time-based held-out split would be made of them. The
window is the time ``OUTCOME_WINDOW_SHARE`` of the positives took from their as-of moment to the
target (``closed_time``, ``sql_time`` or ``sal_time``); rows whose moment falls within it of the
latest time in the outcomes file are left out, positive or not, so every row kept had the same
chance to reach its outcome. Without those columns, or when too little would remain to learn
from, no row is left out and the report says so.

``table_from_flat``: every row with a label is a lead; labels are 0/1, true/false, yes/no (any
case) or, with ``positive``, "equals that label". A date column, when there is one, orders the
time-based split.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from leadgate.engine.event import Event
from leadgate.engine.ir import FALSE_WORDS, TRUE_WORDS
from leadgate.engine.values import fold, text_of
from leadgate.errors import IngestError, LeadgateError, OptionError
from leadgate.io import read_leads, read_table
from leadgate.io.readers import event_from_row, parse_timestamp
from leadgate.learn.features import FeatureTable, event_features, profile_features

TARGETS = ("won", "sql", "sal")
# The outcome window covers the time this share of positives took to reach the target.
OUTCOME_WINDOW_SHARE = 0.9
MIN_TIMED_POSITIVES = 10
POSITIVE_TIME = {"won": "closed_time", "sql": "sql_time", "sal": "sal_time"}
FLAT_AS_OF = datetime(2000, 1, 1, tzinfo=UTC)  # no event rules learned from a flat table


def _present(value: Any) -> bool:
    return text_of(value) is not None


def outcome_label(row: dict[str, Any], target: str) -> int | None:
    """The label of one outcomes row for ``target`` (None: not decided yet)."""
    sal = fold(text_of(row.get("sal_status")) or "")
    if target == "sal":
        return 1 if sal == "accepted" else 0 if sal == "rejected" else None
    if sal not in ("accepted", "rejected"):
        return None
    if target == "sql":
        return 1 if _present(row.get("sql_time")) else 0
    outcome = fold(text_of(row.get("outcome")) or "")
    if outcome == "open":
        return None
    return 1 if outcome == "won" else 0


def _epoch_or_nan(value: Any) -> float:
    if not _present(value):
        return math.nan
    try:
        return parse_timestamp(value).timestamp()
    except LeadgateError:
        return math.nan


def outcome_window(moments: np.ndarray, reached: np.ndarray) -> float | None:
    """Seconds within which ``OUTCOME_WINDOW_SHARE`` of the positives reached the target.

    Args:
        moments: epoch seconds of the positives' as-of moments.
        reached: epoch seconds at which each reached the target (NaN: not recorded).

    Returns:
        The window, or None when fewer than ``MIN_TIMED_POSITIVES`` positives have both times.
    """
    delay = reached - moments
    delay = delay[np.isfinite(delay) & (delay >= 0)]
    if len(delay) < MIN_TIMED_POSITIVES:
        return None
    return float(np.quantile(delay, OUTCOME_WINDOW_SHARE, method="higher"))


def _apply_window(
    labels: dict[str, int], moments: dict[str, datetime], reached: dict[str, float], end: float
) -> str | None:
    """Leave out the rows too recent to have reached their outcome; returns the report note."""
    ids = list(labels)
    window = outcome_window(
        np.asarray([moments[i].timestamp() for i in ids if labels[i]]),
        np.asarray([reached.get(i, math.nan) for i in ids if labels[i]]),
    )
    if window is None or not math.isfinite(end):
        return None
    recent = [i for i in ids if moments[i].timestamp() > end - window]
    kept = [labels[i] for i in ids if moments[i].timestamp() <= end - window]
    days = window / 86400
    if len(kept) < 50 or sum(kept) < 10 or len(kept) - sum(kept) < 10:
        return (f"outcome window ({days:.0f} days) not applied: too little would remain; the "
                "most recent rows may be labelled before their outcome was known")  # fmt: skip
    for i in recent:
        del labels[i], moments[i]
    return (f"{len(recent)} outcome rows left out: handed over within the outcome window "
            f"({days:.0f} days, the time {OUTCOME_WINDOW_SHARE:.0%} of positives took) of the "
            "latest time in the outcomes file, outcome not known yet")  # fmt: skip


def table_from_files(
    leads: str | Path,
    events: str | Path | None,
    outcomes: str | Path,
    target: str = "won",
    as_of_field: str = "mql_time",
    exclude: Sequence[str] = (),
) -> FeatureTable:
    """The learning table of leads with a known outcome, at their as-of moment."""
    if target not in TARGETS:
        raise OptionError("target", f"expected one of {', '.join(TARGETS)}, got '{target}'")
    labels: dict[str, int] = {}
    moments: dict[str, datetime] = {}
    reached: dict[str, float] = {}  # when a positive reached the target (outcome window)
    end = -math.inf  # the latest time in the outcomes file
    skipped = Counter[str]()
    for line, row in read_table(outcomes):
        lead = text_of(row.get("lead_id"))
        if lead is None:
            raise IngestError("is required", file=str(outcomes), line=line, field="lead_id")
        if as_of_field not in row:
            raise IngestError(f"no column '{as_of_field}' (see as_of_field)", file=str(outcomes),
                              line=line, field=as_of_field)  # fmt: skip
        if not _present(row.get(as_of_field)):
            skipped[f"no {as_of_field}"] += 1
            continue
        moment = parse_timestamp(row[as_of_field], str(outcomes), line, as_of_field)
        end = max([end, moment.timestamp()] + [t for col, v in row.items()
                   if col.endswith("_time") and math.isfinite(t := _epoch_or_nan(v))])  # fmt: skip
        label = outcome_label(row, target)
        if label is None:
            skipped["outcome not decided yet"] += 1
            continue
        moments[lead] = moment
        labels[lead] = label
        if label:
            reached[lead] = _epoch_or_nan(row.get(POSITIVE_TIME[target]))
    window_note = _apply_window(labels, moments, reached, end)
    profiles = [p for p in read_leads(leads) if p["lead_id"] in labels]
    ids = [p["lead_id"] for p in profiles]
    missing = len(labels) - len(ids)
    by_lead: dict[str, list[Event]] = defaultdict(list)
    if events is not None:
        wanted = set(ids)
        for line, row in read_table(events):
            if text_of(row.get("lead_id")) in wanted:
                ev = event_from_row(row, str(events), line)
                by_lead[ev.lead_id].append(ev)
    as_of = [moments[i] for i in ids]
    skip = {"lead_id", *exclude}
    features, dropped, _ = profile_features(profiles, skip)
    features += event_features(ids, by_lead, as_of)
    notes = [f"{n} outcome rows left out: {why}" for why, n in sorted(skipped.items())]
    if window_note:
        notes.append(window_note)
    if missing:
        notes.append(f"{missing} outcome rows name a lead that is not in {leads}")
    return FeatureTable(
        ids=ids, y=np.asarray([labels[i] for i in ids], dtype=int), features=features,
        times=np.asarray([m.timestamp() for m in as_of]), dropped=dropped,
        profiles=profiles, events=dict(by_lead), as_of=as_of, notes=notes,
    )  # fmt: skip


def flat_label(value: Any, positive: str | None) -> int | None:
    """A flat export's outcome cell as 1/0 (None when blank); raises on an unknown value."""
    text = text_of(value)
    if text is None or not text.strip():
        return None
    word = fold(text.strip())
    if positive is not None:
        return 1 if word == fold(positive.strip()) else 0
    if word in TRUE_WORDS or word in ("1.0", "won"):
        return 1
    if word in FALSE_WORDS or word in ("0.0", "lost"):
        return 0
    raise ValueError(text)


def table_from_flat(
    data: str | Path,
    target: str,
    id_column: str,
    exclude: Sequence[str] = (),
    positive: str | None = None,
) -> FeatureTable:
    """The learning table of a flat export (one row per lead, an outcome column)."""
    file = str(data)
    rows: list[dict[str, Any]] = []
    labels: list[int] = []
    blank = 0
    for line, row in read_table(data):
        for col in (target, id_column):
            if col not in row:
                raise IngestError(f"no column '{col}' (columns: {', '.join(row)})", file=file,
                                  line=line, field=col)  # fmt: skip
        try:
            label = flat_label(row[target], positive)
        except ValueError as exc:
            raise IngestError(
                f"outcome '{exc}' is not 0/1, true/false or yes/no (name the positive value "
                "with the positive option)", file=file, line=line, field=target,
            ) from None  # fmt: skip
        if label is None:
            blank += 1
            continue
        if not _present(row[id_column]):
            raise IngestError("is required", file=file, line=line, field=id_column)
        rows.append(row)
        labels.append(label)
    y = np.asarray(labels, dtype=int)
    if len(rows) < 50 or y.sum() < 10 or (len(y) - y.sum()) < 10:
        raise LeadgateError(
            f"{file}: too little to learn from: {len(rows)} labelled rows, {int(y.sum())} positive "
            "(need at least 50 rows with 10 of each outcome)"
        )
    ids = [str(text_of(r[id_column])) for r in rows]
    skip = {id_column, target, *exclude}
    features, dropped, times = profile_features(rows, skip)
    if times is not None and np.isfinite(times).mean() < 0.9:
        times = None
    profiles = [{**r, "lead_id": i} for r, i in zip(rows, ids, strict=True)]
    notes = [f"{blank} rows without an outcome left out"] if blank else []
    return FeatureTable(
        ids=ids, y=y, features=features, times=times, dropped=dropped, profiles=profiles,
        as_of=[FLAT_AS_OF] * len(ids), notes=notes,
    )  # fmt: skip


def check_learnable(table: FeatureTable, source: str) -> None:
    """Refuse a table a scorecard cannot be learned from, saying why."""
    n, pos = len(table.y), int(table.y.sum())
    if n < 50 or pos < 10 or n - pos < 10:
        raise LeadgateError(
            f"{source}: too little to learn from: {n} leads with a known outcome, {pos} positive "
            "(need at least 50 with 10 of each outcome)"
        )
    if not table.features:
        raise LeadgateError(f"{source}: no usable feature columns")
