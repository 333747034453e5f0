"""Rules that hold for every frame: stage counts never grow down the funnel, groups add up to the
total, and a higher threshold never makes more MQLs."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from report_builders import at, cycle, lead, make_frame

from leadgate.engine import compile_model
from leadgate.model import parse_model
from leadgate.report.funnel import funnel_report
from leadgate.report.history import History, replay
from leadgate.report.sweep import curve, qualifies, scored_leads

STAGES = ["mql", "rejected", "sal", "sql", "opp", "won", "lost"]
leads_st = st.lists(
    st.tuples(
        st.sampled_from(["web", "list", "ref"]),
        st.sampled_from([None, *STAGES]),
        st.integers(0, 90),  # MQL day
        st.sampled_from(["1", "2"]),
    ),
    min_size=1,
    max_size=25,
)


@given(leads_st)
def test_counts_shrink_down_the_funnel_and_groups_add_up(
    spec: list[tuple[str, str | None, int, str]],
) -> None:
    leads = [lead(f"L{i}", ch) for i, (ch, _, _, _) in enumerate(spec)]
    cycles = [cycle(f"L{i}", stage, mql=at(day), model_version=v)
              for i, (_, stage, day, v) in enumerate(spec) if stage]  # fmt: skip
    report = funnel_report(make_frame(leads, cycles), ["channel", "cohort"], mix_versions=True)
    for row in [*report.rows, report.total]:
        c = row.counts
        assert c["leads"] >= c["mqls_of_leads"] >= c["sqls_of_leads"] >= c["wins_of_leads"]
        assert c["mqls"] >= c["sals"] >= c["sqls"] >= c["opps"] >= c["wins"]
        for rate in row.rates.values():
            lo, hi = rate.interval
            assert 0 <= lo <= hi <= 1
    for key in ("mqls", "sals", "sqls", "opps", "wins"):
        assert sum(r.counts[key] for r in report.rows) == report.total.counts[key]
    split = funnel_report(make_frame(leads, cycles), [])
    assert sum(r.counts["mqls"] for r in split.rows) == report.total.counts["mqls"]


MODEL = """\
name: p
version: 1
threshold: 15
floors: {fit: 5}
dimensions:
  fit:
    rules:
      - {name: a, when: {a: {eq: 1}}, points: 10}
      - {name: b, when: {b: {eq: 1}}, points: 7}
  engagement:
    rules:
      - {name: c, when: {c: {eq: 1}}, points: 12}
"""


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.sampled_from(STAGES)),
                min_size=1, max_size=20))  # fmt: skip
def test_more_threshold_never_more_mqls(spec: list[tuple[bool, bool, bool, str]]) -> None:
    plan = compile_model(parse_model(MODEL, "p.yaml"))
    profiles = {f"L{i}": {"lead_id": f"L{i}", "a": int(a), "b": int(b), "c": int(c)}
                for i, (a, b, c, _) in enumerate(spec)}  # fmt: skip
    frame = make_frame(
        [lead(i) for i in profiles], [cycle(f"L{i}", s) for i, (*_, s) in enumerate(spec)]
    )
    history = History(profiles, {}, frame)
    scores = replay(plan, history)
    data = scored_leads(plan, scores, frame)
    points = curve(data, floor_scales=(1.0,))
    mqls = [p["mqls"] for p in points]
    assert all(x >= y for x, y in pairwise(mqls))
    # At the model's own thresholds and floors the sweep's rule agrees with the engine's MQL flag.
    current = qualifies(data, data.base_threshold)
    assert {i for i, q in zip(data.lead_ids, current, strict=True) if q} == {
        i for i, s in scores.items() if s.mql
    }
    assert np.all(data.known)
