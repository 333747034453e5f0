"""The batch re-score's SQL decisions equal the Python ones, lead by lead, over generated states.

``service/rescore_batch.classify_sql`` decides in DuckDB, for every lead at once, whether a fresh
score is recorded (``changed``) and whether it may move the lead (``work``); the per-lead path
decides the same with ``lifecycle.scores.score_changed`` and ``may_move``. Hypothesis generates
stored lead states (every stage, times a microsecond apart, missing scores, other models and
segments, totals at the resolution's edge) and fresh scores; the states are written to a real
store (SQLite and PostgreSQL), exported as the batch path exports them
(``batch.batch_scores(snapshot=True)``), classified in SQL and compared with the Python
decisions read from the same stored rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from leadgate.engine.compile import compile_model
from leadgate.lifecycle.scores import may_move, score_changed
from leadgate.lifecycle.stages import Stage
from leadgate.model.loader import parse_model
from leadgate.service.batch import batch_scores
from leadgate.service.rescore import HISTORY_RESOLUTION, TICK_RESOLUTION
from leadgate.service.rescore_batch import classify_params, classify_sql
from leadgate.store import Store, open_store
from leadgate.store.history import fetch_leads
from leadgate.store.schema import leads
from store_helpers import BACKENDS, temp_store_url

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
US = timedelta(microseconds=1)
HASH = "h-current"
PLAN = compile_model(
    parse_model(
        "name: m\nversion: 1\nthreshold: 1\n"
        "dimensions: {fit: {rules: [{name: r, when: {title: {eq: x}}, points: 1}]}}\n"
    )
)

# Moments a microsecond apart and further, so "an event after the stage began" is tested at
# its edge (equal times are not "after").
_offsets = st.sampled_from([-86_400_000_000, -1, 0, 0, 1, 2, 3_600_000_000])
# Half the leads at nurture, where re-entry depends on that edge; the rest at any stage.
_stages = st.one_of(st.just(Stage.NURTURE), st.sampled_from(list(Stage)))
_totals = st.sampled_from([0.0, 0.004, 0.005, 0.0051, 1.0, 12.5, 12.505, 13.5, 30.0, -2.0])


@st.composite
def _lead(draw: st.DrawFn) -> dict[str, Any]:
    since = T0 + draw(_offsets) * US
    has_event = draw(st.integers(0, 3)) > 0
    scored = draw(st.integers(0, 3)) > 0
    old_total = draw(_totals) if scored else None
    return {
        "stage": draw(_stages).value,
        "stage_since": since,
        "last_event_at": since + draw(st.one_of(st.just(0), _offsets)) * US if has_event else None,
        "score_total": old_total,
        "qualifies": draw(st.sampled_from([None, True, True, False])) if scored else None,
        "segment": draw(st.sampled_from([None, "default", "enterprise"])) if scored else None,
        "score_model_hash": draw(st.sampled_from([HASH, "h-old"])) if scored else None,
        # The fresh score: near the old total (the resolution's edge) or anywhere.
        "fresh_total": (old_total or 0.0) + draw(st.sampled_from([0.0, 0.004, 0.005, 1.0, -1.0]))
        if draw(st.booleans())
        else draw(_totals),
        "fresh_mql": draw(st.booleans()),
        "fresh_segment": draw(st.sampled_from(["default", "enterprise"])),
    }


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with temp_store_url(request.param, tmp_path) as url:
        yield open_store(url)


def _write(store: Store, states: list[dict[str, Any]]) -> list[str]:
    ids = [f"L{i:03d}" for i in range(len(states))]
    stored = ("stage", "stage_since", "last_event_at", "score_total", "qualifies", "segment")
    with store.write() as conn:
        conn.execute(delete(leads))
        conn.execute(
            insert(leads),
            [
                {
                    "lead_id": lead_id, "attrs": {}, "created_at": T0, "updated_at": T0,
                    "cycle": 0, "score_model_hash": s["score_model_hash"],
                    **{k: s[k] for k in stored},
                }
                for lead_id, s in zip(ids, states, strict=True)
            ],
        )  # fmt: skip
    return ids


def _fresh_scores(ids: list[str], states: list[dict[str, Any]]) -> str:
    """A DuckDB query of the fresh scores, shaped like the batch path's scores query."""
    rows = ", ".join(
        f"('{lead_id}', {i}, CAST({s['fresh_total']!r} AS DOUBLE), {str(s['fresh_mql']).upper()}, "
        f"'{s['fresh_segment']}')"
        for i, (lead_id, s) in enumerate(zip(ids, states, strict=True))
    )
    return (
        "SELECT *, mql AS handoff, false AS pql, 0 AS pql_held "
        f"FROM (VALUES {rows}) AS t(lead_id, input_row, total, mql, "
        "segment)"
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    states=st.lists(_lead(), min_size=5, max_size=25),
    resolution=st.sampled_from([HISTORY_RESOLUTION, TICK_RESOLUTION]),
)
def test_classify_sql_is_the_python_decision(
    store: Store, states: list[dict[str, Any]], resolution: float
) -> None:
    ids = _write(store, states)
    with store.read() as conn:
        rows = fetch_leads(conn, ids)  # the stored state as the per-lead path reads it
        with batch_scores(conn, PLAN, T0, snapshot=True, sort=False) as (con, _):
            con.execute(classify_sql(_fresh_scores(ids, states)), classify_params(HASH, resolution))
            got = {
                lead_id: (changed, work)
                for lead_id, changed, work in con.execute(
                    "SELECT lead_id, changed, work FROM lg_scored"
                ).fetchall()
            }
    want = {}
    for lead_id, s in zip(ids, states, strict=True):
        lead = rows[lead_id]
        changed = score_changed(
            old_total=lead.score_total, old_qualifies=lead.qualifies, old_segment=lead.segment,
            old_model_hash=lead.score_model_hash, total=s["fresh_total"],
            qualifies=s["fresh_mql"], segment=s["fresh_segment"], model_hash=HASH,
            resolution=resolution,
        )  # fmt: skip
        work = may_move(
            stage=lead.stage, stage_since=lead.stage_since, last_event_at=lead.last_event_at,
            old_qualifies=lead.qualifies, qualifies=s["fresh_mql"],
        )  # fmt: skip
        want[lead_id] = (changed, work)
    assert got == want
