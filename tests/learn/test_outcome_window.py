"""The outcome window: rows handed over too recently to have reached their outcome are left out."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgate.learn.tables import (
    MIN_TIMED_POSITIVES,
    OUTCOME_WINDOW_SHARE,
    outcome_window,
    table_from_files,
)

END = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 86400.0


def _iso(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else ""


def _write(tmp: Path, rows: list[dict[str, str]]) -> tuple[Path, Path]:
    leads, outcomes = tmp / "leads.csv", tmp / "outcomes.csv"
    with leads.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["lead_id", "segment"])
        w.writerows([r["lead_id"], "a" if i % 2 else "b"] for i, r in enumerate(rows))
    with outcomes.open("w", newline="") as fh:
        w = csv.DictWriter(fh, ["lead_id", "mql_time", "sal_status", "sal_time", "sql_time",
                                "closed_time", "outcome"])  # fmt: skip
        w.writeheader()
        w.writerows(rows)
    return leads, outcomes


def _funnel(n_old: int, n_recent: int) -> list[dict[str, str]]:
    """Old leads: one in four won 100 days after hand-off; recent ones: rejected or open."""
    rows = []
    for i in range(n_old + n_recent):
        recent = i >= n_old
        mql = END - timedelta(days=(20 + i % 60) if recent else 200 + i)
        won = not recent and i % 4 == 0
        rows.append({
            "lead_id": f"L{i:04d}", "mql_time": _iso(mql),
            "sal_status": "rejected" if recent and i % 2 else "accepted",
            "sal_time": _iso(mql + timedelta(days=2)),
            "sql_time": _iso(mql + timedelta(days=10)) if won or (recent and not i % 2) else "",
            "closed_time": _iso(mql + timedelta(days=100)) if not recent else "",
            "outcome": "won" if won else "open" if recent and not i % 2 else "lost",
        })  # fmt: skip
    # the latest time in the file: a deal closed the day before the data's end
    rows[0]["closed_time"] = _iso(END - timedelta(days=1))
    return rows


def test_recent_rows_are_left_out_whatever_their_label(tmp_path: Path) -> None:
    leads, outcomes = _write(tmp_path, _funnel(120, 40))
    table = table_from_files(leads, None, outcomes, "won")
    kept = {int(i[1:]) for i in table.ids}
    assert kept == set(range(120))  # every old lead, no recent one (rejected ones included)
    assert any("outcome window (100 days" in note for note in table.notes), table.notes
    # as labelled without the window, the recent leads are all negatives (open ones are skipped)
    assert table.y.mean() > 0.2


def test_the_sql_target_uses_the_time_to_sql(tmp_path: Path) -> None:
    leads, outcomes = _write(tmp_path, _funnel(120, 40))
    table = table_from_files(leads, None, outcomes, "sql")
    # the window is 10 days: recent leads handed 20+ days ago stay (open deals are SQLs too)
    assert any("outcome window (10 days" in note for note in table.notes), table.notes
    assert len(table.ids) == 160


def test_window_is_not_applied_when_too_little_would_remain(tmp_path: Path) -> None:
    leads, outcomes = _write(tmp_path, _funnel(45, 40))
    table = table_from_files(leads, None, outcomes, "won")
    assert len(table.ids) == 45 + 20  # the recent open deals are still undecided
    assert any("not applied" in note for note in table.notes), table.notes


def test_no_window_without_the_positives_times(tmp_path: Path) -> None:
    rows = _funnel(120, 40)
    for r in rows:
        r["closed_time"] = ""
    leads, outcomes = _write(tmp_path, rows)
    table = table_from_files(leads, None, outcomes, "won")
    assert len(table.ids) == 140
    assert not any("window" in note for note in table.notes)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 400), min_size=0, max_size=40), st.integers(0, 5))
def test_window_covers_the_share_of_positives(delays_days: list[float], unknown: int) -> None:
    moments = np.arange(len(delays_days) + unknown, dtype=float) * DAY
    reached = np.r_[moments[: len(delays_days)] + np.asarray(delays_days) * DAY,
                    np.full(unknown, np.nan)]  # fmt: skip
    window = outcome_window(moments, reached)
    if len(delays_days) < MIN_TIMED_POSITIVES:
        assert window is None
        return
    assert window is not None
    within = np.asarray(delays_days) * DAY <= window + 1e-6
    assert within.mean() >= OUTCOME_WINDOW_SHARE - 1e-9
