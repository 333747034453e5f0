"""Every report on synthetic data recovers what the generator put in (``leadgate.synth``).

The generator's truth (truth.csv) gives each lead's hidden log-odds and flaw; a handed-over lead
reaches SQL with probability ``flaw_pass * sigmoid(logit) ** (e_sal + e_sql)`` (the stage
exponents of synth/outcomes.py), wins with
``propensity``, and sales' first touch comes after a log-normal delay with a 4-hour median,
independent of the lead. The reports must find those facts back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from leadgate.model import load_model
from leadgate.report.calibrate import calibrate, write_calibrated_model
from leadgate.report.compare import compare_models
from leadgate.report.funnel import funnel_report
from leadgate.report.quality import quality_report
from leadgate.report.rejections import rejection_report
from leadgate.report.speed import speed_report
from leadgate.report.targets import funnel_targets
from leadgate.synth.outcomes import FLAW_PASS, FLAWS, STAGE_EXPONENTS

REFERENCE = "src/leadgate/examples/b2b-inbound.yaml"


@pytest.fixture(scope="module")
def merged(synth_history: Any, truth: pd.DataFrame) -> pd.DataFrame:
    t = truth.copy()
    # The generator's own constants: the SAL and SQL stage exponents, the flaws' pass rates.
    flaw_pass = dict(zip(FLAWS, FLAW_PASS, strict=True))
    p = 1 / (1 + np.exp(-t["logit"]))
    t["p_sql"] = t["flaw"].fillna("").map(flaw_pass) * p ** sum(STAGE_EXPONENTS[:2])
    return synth_history.frame.merge(t, on="lead_id")


def test_channel_with_best_true_conversion_ranks_first(
    synth_history: Any, merged: pd.DataFrame
) -> None:
    # True conversion of a channel's leads: the mean hidden propensity of its leads (the
    # generator's channel effect plus everything else about them).
    true_won = merged.drop_duplicates("lead_id").groupby("channel")["propensity"].mean()
    report = funnel_report(synth_history.frame, ["channel"])
    for rate in ("lead:won", "lead:sql"):
        measured = sorted(report.rows, key=lambda r: -(r.rates[rate].value or 0))
        assert measured[0].group["channel"] == true_won.idxmax(), rate
    worst = min(report.rows, key=lambda r: r.rates["lead:sql"].value or 0)
    assert worst.group["channel"] == true_won.idxmin() == "cold_list"


def test_mql_to_sql_intervals_contain_the_truth(synth_history: Any, merged: pd.DataFrame) -> None:
    # Of the leads handed over, a channel's true MQL->SQL is the mean of their p_sql.
    handed = merged[merged["is_mql"]]
    true_sql = handed.groupby("channel")["p_sql"].mean()
    rows = funnel_report(synth_history.frame, ["channel"]).rows
    inside = [
        r.rates["mql:sql"].interval[0]
        <= true_sql[r.group["channel"]]
        <= r.rates["mql:sql"].interval[1]
        for r in rows
    ]
    assert sum(inside) >= len(rows) - 1  # 95% intervals: one miss in six is allowed
    measured = pd.Series({r.group["channel"]: r.rates["mql:sql"].value for r in rows})
    assert measured.idxmin() == true_sql.idxmin() == "cold_list"


def test_quality_flags_the_bought_list(synth_history: Any) -> None:
    rows = {r.group["channel"]: r for r in quality_report(synth_history.frame).rows}
    cold = rows["cold_list"]
    # Bought lists are the worst leads the generator makes: flagged, and the lowest MQL->SQL.
    assert cold.flags and not cold.flags[0].startswith("low n")
    assert cold.mql_sql.value == min(r.mql_sql.value for r in rows.values())
    assert not any("criteria too loose" in f for f in rows["referral"].flags)


def test_flawed_leads_are_rejected_for_their_flaw(synth_history: Any, truth: pd.DataFrame) -> None:
    frame = synth_history.frame
    for flaw in ("student", "competitor", "duplicate", "bad_contact_data"):
        ids = set(truth.loc[truth["flaw"] == flaw, "lead_id"])
        report = rejection_report(frame[frame["lead_id"].isin(ids)], [])
        if report.rejected == 0:
            continue  # e.g. competitors are rarely handed over at all
        assert report.reasons[0]["reason"] == flaw, (flaw, report.reasons[:3])
    by_persona = rejection_report(frame, ["persona"])
    assert by_persona.top_reasons("persona", "student/intern", 1) == ["student"]


def test_students_got_in_on_engagement_not_fit(synth_history: Any) -> None:
    frame = synth_history.frame
    plan = __import__("leadgate.engine", fromlist=["compile_model"]).compile_model(
        load_model(REFERENCE)
    )
    report = rejection_report(frame, [], history=synth_history, plan=plan)
    student_rules = [r for r in report.by["top_rule"] if r["reason"] == "student"]
    top = max(student_rules, key=lambda r: r["count"])
    assert top["group"].startswith(("engagement:", "intent:"))


def test_speed_to_lead_recovers_the_touch_delay(synth_history: Any) -> None:
    report = speed_report(synth_history.frame)
    assert 3.0 <= report.quantiles_hours["median"] <= 5.5  # log-normal, median 4 h
    # P(delay > 24 h) = P(Z > ln 6) = 3.7%: inside the measured interval.
    lo, hi = report.breach_rate.interval
    assert lo <= 0.037 <= hi or report.breached_untouched > 0
    # The delay does not depend on the lead: conversion is the same in the two main buckets.
    b = {x.bucket: x for x in report.buckets}
    a, c = b["<1h"].mql_sql.interval, b["1-24h"].mql_sql.interval
    assert a[0] <= c[1] and c[0] <= a[1]


def test_compare_a_stricter_version_picks_a_subset_with_better_outcomes(
    synth_history: Any, tmp_path: Any
) -> None:
    from leadgate.engine import compile_model
    from leadgate.model import parse_model

    base = load_model(REFERENCE)
    with open(REFERENCE) as fh:
        text = fh.read().replace("threshold: 60 ", "threshold: 75 ")
    strict = parse_model(text.replace("version: 1", "version: 2"), "strict.yaml")
    since = datetime(
        2026, 5, 1, tzinfo=UTC
    )  # the leads of the last six months: same leads for both
    report = compare_models(synth_history, compile_model(base), compile_model(strict), since=since)
    created = synth_history.frame.drop_duplicates("lead_id")["created_at"]
    assert report.leads == int((created >= since).sum())
    assert report.only_b == 0 and report.only_a > 0
    assert report.both + report.only_a == report.sets[0].leads
    assert report.model_b["version"] == "2"


def test_calibration_meets_the_target_and_writes_a_model(synth_history: Any, tmp_path: Any) -> None:
    model = load_model(REFERENCE)
    result = calibrate(model, synth_history)
    assert result.met
    sal = result.recommended["sal_acceptance"]
    assert 0.60 <= sal.value <= 0.75 and result.recommended["coverage"] >= 0.5
    out, new = write_calibrated_model(model, result, tmp_path / "calibrated.yaml")
    assert load_model(out).version == "2"
    assert new.spec.threshold == pytest.approx(result.thresholds["default"])


def test_targets_from_measured_rates(synth_history: Any) -> None:
    plan = funnel_targets(2_000_000, 25_000, frame=synth_history.frame)
    assert plan.wins_per_period == 7
    rows = {r.channel: r for r in plan.channels}
    assert rows["cold_list"].share < 0.05
    assert sum(r.share for r in plan.channels) == pytest.approx(1.0)
