"""The funnel: propensity drives outcomes, reject reasons match flaws, channels convert apart."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from leadgate.synth.catalogs import REJECT_REASONS
from leadgate.synth.outcomes import FLAW_PASS, FLAWS

from .conftest import Data


@pytest.fixture(scope="module")
def funnel(data: Data) -> pd.DataFrame:
    df = data.leads.merge(data.truth, on="lead_id").merge(data.outcomes, on="lead_id", how="left")
    df["won"] = df.outcome == "won"
    return df


def test_outcomes_cover_exactly_the_leads_handed_to_sales(data: Data, funnel: pd.DataFrame) -> None:
    assert data.outcomes.lead_id.is_unique
    handed = set(funnel.lead_id[funnel.handed_to_sales == 1])
    assert set(data.outcomes.lead_id) == handed
    assert 0.1 < len(handed) / len(funnel) < 0.35


def test_stage_times_run_in_order_and_statuses_are_consistent(funnel: pd.DataFrame) -> None:
    h = funnel[funnel.handed_to_sales == 1]
    times = {c: pd.to_datetime(h[c]) for c in (
        "created_at", "mql_time", "first_touch_time", "sal_time", "sql_time",
        "opportunity_time", "closed_time",
    )}  # fmt: skip
    order = list(times)
    for a, b in itertools.pairwise(order):
        both = times[a].notna() & times[b].notna()
        assert (times[a][both] <= times[b][both]).all(), (a, b)
    assert set(h.sal_status.dropna()) == {"accepted", "rejected"}
    rejected = h[h.sal_status == "rejected"]
    assert rejected.reject_reason.notna().all() and rejected.sql_time.isna().all()
    assert set(rejected.reject_reason) <= set(REJECT_REASONS)
    assert h.reject_reason[h.sal_status != "rejected"].isna().all()
    assert h.sql_time[h.sal_status != "accepted"].isna().all()
    assert set(h.outcome.dropna()) == {"won", "lost", "open"}
    opp = h.opportunity_time.notna()
    assert (h.amount[opp] > 0).all() and h.amount[~opp].isna().all()
    assert h.closed_time[h.outcome == "open"].isna().all()
    assert h.closed_time[h.outcome.isin(["won", "lost"])].notna().all()


def test_rejections_name_the_leads_real_flaw(funnel: pd.DataFrame) -> None:
    rejected = funnel[funnel.sal_status == "rejected"]
    flawed = rejected[rejected.flaw.notna()]
    assert (flawed.reject_reason == flawed.flaw).all()
    for flaw in ("student", "competitor"):
        handed = funnel[(funnel.flaw == flaw) & funnel.sal_status.notna()]
        assert len(handed) >= 2, flaw
        assert (handed.sal_status == "rejected").mean() > 0.9
    assert (funnel.sal_status[funnel.flaw == "competitor"] != "accepted").all()
    clean = rejected[rejected.flaw.isna()]
    assert set(clean.reject_reason) == {"wrong_title", "wrong_company_size", "wrong_industry",
                                        "no_intent"}  # fmt: skip
    juniors = clean[clean.seniority.isin(["intern", "individual_contributor"])]
    assert (juniors.reject_reason == "wrong_title").mean() > 0.5


def test_propensity_is_the_documented_function_of_the_drivers(funnel: pd.DataFrame) -> None:
    t = funnel
    parts = ["seniority_effect", "department_effect", "industry_effect", "size_effect",
             "geo_effect"]  # fmt: skip
    assert np.allclose(t[parts].sum(axis=1), t.fit_effect, atol=1e-5)
    logit = t.base + t.fit_effect + t.channel_effect + t.email_effect + t.engagement_effect
    assert np.allclose(logit + t.intent_effect, t.logit, atol=1e-5)
    flaw_pass = t.flaw.fillna("").map(dict(zip(FLAWS, FLAW_PASS, strict=True)))
    expected = flaw_pass / (1 + np.exp(-t.logit))
    assert np.allclose(expected, t.propensity, atol=1e-5)


def test_propensity_drives_outcomes(funnel: pd.DataFrame) -> None:
    t = funnel
    top = t.propensity >= t.propensity.quantile(0.9)
    bottom = t.propensity <= t.propensity.median()
    assert t.would_win[top].mean() > 10 * max(t.would_win[bottom].mean(), 0.002)
    # calibrated: the expected number of wins is close to the drawn number
    assert abs(t.would_win.sum() - t.propensity.sum()) < 4 * np.sqrt(t.propensity.sum())
    # every observed win is a would-be win, and won deals come from high propensity
    assert t.would_win[t.won].all() and t.won.sum() >= 10
    assert t.propensity[t.won].mean() > 3 * t.propensity.mean()
    assert t.propensity[t.flaw == "competitor"].max() == 0


def test_channels_convert_as_real_ones_do(funnel: pd.DataFrame) -> None:
    # Ratios are judged on would_win (a draw for every lead): observed wins need a hand-off and
    # a close by as_of, a handful per channel at this size (2 to 10), too few for a ratio.
    would_win = funnel.groupby("source").would_win.mean()
    for good in ("referral", "inbound_content"):
        assert would_win[good] > 3 * would_win["cold_list"] + 0.005, good
    assert would_win.idxmax() == "referral" and would_win.idxmin() == "cold_list"
    won_per_lead = funnel.groupby("source").won.mean()
    assert won_per_lead.idxmin() == "cold_list"
    assert (
        min(won_per_lead["referral"], won_per_lead["inbound_content"]) > won_per_lead["cold_list"]
    )
    truth = funnel.groupby("source").propensity.mean()
    assert truth.idxmax() == "referral" and truth.idxmin() == "cold_list"


def test_amounts_grow_with_company_size(funnel: pd.DataFrame) -> None:
    opp = funnel[funnel.amount.notna() & funnel.company_size.notna()]
    assert len(opp) >= 20
    assert opp.amount.rank().corr(opp.company_size.rank()) > 0.5


def test_mql_time_is_the_moment_of_what_qualified_the_lead(data: Data) -> None:
    # A hand-off time drawn apart from the events (an hour after the third download, days after
    # sign-up) would let a model read from the gap to the last event which route fired.
    h = data.outcomes[["lead_id", "mql_time"]].assign(mql_time=lambda o: pd.to_datetime(o.mql_time))
    h = h.merge(data.leads[["lead_id", "source", "created_at"]], on="lead_id")
    ev = data.events.merge(h, on="lead_id")
    at = ev[ev.timestamp == ev.mql_time]
    qualifying = {"demo_request", "content_download", "webinar_attended", "form_submit"}
    by_event = set(at.lead_id[at.type.isin(qualifying)])
    # bought lists go to SDRs when imported: at the lead's creation, before any event
    imported = h.source.eq("cold_list") & h.mql_time.eq(pd.to_datetime(h.created_at))
    assert set(h.lead_id) == by_event | set(h.lead_id[imported])
    before = ev[ev.timestamp < ev.mql_time]
    assert not before.lead_id.isin(h.lead_id[imported]).any()
    # A demo request goes straight to sales: nobody was handed over later than their first one.
    first_demo = ev[ev.type == "demo_request"].groupby("lead_id").timestamp.min()
    mql = h.set_index("lead_id").mql_time[first_demo.index]
    assert (mql <= first_demo).all() and (mql == first_demo).mean() > 0.5
