"""engine/horizon.py: an event older than the model's horizon changes no score (by 1e-9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from leadgate.engine import Event, compile_model, score_lead
from leadgate.engine.horizon import TOLERANCE, horizon
from leadgate.model import parse_model

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def _plan(rules: str, extra: str = ""):  # type: ignore[no-untyped-def]
    text = f"name: h\nversion: 1\nthreshold: 50\ndimensions:\n  e:\n    rules:\n{rules}{extra}"
    return compile_model(parse_model(text, "h.yaml"))


def test_windows_and_half_lives() -> None:
    plan = _plan(
        "      - {name: w, event: a, points: 5, within_days: 90}\n"
        "      - {name: d, event: b, points: 8, half_life_days: 10}\n"
        "      - {name: p, when: {title: {contains: vp}}, points: 20}\n"
    )
    seen = horizon(plan)
    assert seen.by == "rule 'd'"
    assert abs(seen.days - 10 * 32.897352853986263) < 1e-6  # 10 * log2(8 / 1e-9)
    only_window = _plan("      - {name: w, event: a, points: 5, within_days: 90}\n")
    assert (horizon(only_window).days, horizon(only_window).by) == (90, "rule 'w'")


def test_rules_that_count_for_ever_make_it_unbounded() -> None:
    forever = _plan("      - {name: f, event: a, points: 5}\n")
    assert (horizon(forever).days, horizon(forever).by) == (None, "rule 'f'")
    count = _plan("      - {name: c, events: {type: a, min_count: 2}, points: 5}\n")
    assert horizon(count).days is None


@given(
    points=st.floats(min_value=0.01, max_value=1000),
    half_life=st.floats(min_value=0.5, max_value=400),
    beyond=st.floats(min_value=0.01, max_value=50),
)
def test_an_event_beyond_the_horizon_moves_the_score_less_than_the_tolerance(
    points: float, half_life: float, beyond: float
) -> None:
    plan = _plan(
        f"      - {{name: d, event: a, points: {points!r}, half_life_days: {half_life!r}}}\n"
    )
    days = horizon(plan).days
    assert days is not None
    old = Event("L", "a", AS_OF - timedelta(days=days + beyond), "e1", {})
    recent = Event("L", "a", AS_OF - timedelta(days=1), "e2", {})
    with_old = score_lead(plan, {}, [old, recent], AS_OF).total
    without = score_lead(plan, {}, [recent], AS_OF).total
    assert 0 <= with_old - without < TOLERANCE
