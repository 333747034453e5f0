"""The hidden propensity of each lead and the sales outcomes drawn from it.

**Propensity** is the true probability that a lead ends *won* if it is handed to sales::

    logit = BASE + seniority + department + industry + size + geography + channel + email
            + 1.3 demo_requested + 0.3 min(pricing_views, 3) + 0.35 min(webinars_attended, 2)
            + 0.12 min(downloads, 3) + 0.45 intent
    propensity = flaw_pass * sigmoid(logit)

where each profile term is the catalog's effect of the lead's value (catalogs.py), ``intent`` the
latent interest behind its activity, and ``flaw_pass`` the chance sales accepts a lead with a
flaw at all (0 for a competitor, 1% for a student, 3% for a duplicate, 5% for unusable contact
data, 10% for an account already in pipeline, 1 without a flaw).

**Funnel**: ``p = sigmoid(logit)`` is split into stage probabilities ``p^0.15`` (SAL, times
``flaw_pass``), ``p^0.2`` (SQL), ``p^0.15`` (opportunity), ``p^0.5`` (won); one uniform draw per
stage decides how far the lead gets, so ``would_win`` (every stage passed) is a Bernoulli draw
with probability ``propensity``, for every lead, handed over or not.

**Hand-off** (who reached sales historically, ``mql_time``) follows the old, imperfect process
the reference model is meant to replace: demo requests go to sales, so do most leads with three
high-value actions (downloads, webinars attended), a share of referrals, badge scans and bought
lists. ``mql_time`` is always the timestamp of the qualifying event itself. A rejected lead's
reason code names its real flaw, or else its weakest driver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadgate.synth import catalogs as cat
from leadgate.synth.accounts import BUSINESS, Accounts
from leadgate.synth.activity import NONE, Activity
from leadgate.synth.events import sigmoid
from leadgate.synth.leads import CHANNEL_INDEX, DAY, Leads
from leadgate.synth.product import ProductPlan

BASE = -5.8
HOUR = 3600
FLAWS = ("", "competitor", "student", "duplicate", "bad_contact_data", "already_in_pipeline")
FLAW_PASS = np.array([1.0, 0.0, 0.01, 0.03, 0.05, 0.10])
STAGE_EXPONENTS = (0.15, 0.2, 0.15, 0.5)  # SAL, SQL, opportunity, won; they sum to 1
_SOFT_REASONS = ("wrong_title", "wrong_company_size", "wrong_industry", "no_intent")


@dataclass(frozen=True)
class Funnel:
    """Truth for every lead and the observed funnel of the handed-over ones (index = lead)."""

    truth: dict[str, np.ndarray]  # truth.csv columns except lead_id
    handed: np.ndarray  # bool
    mql_time: np.ndarray  # epoch seconds or NONE; the rest are NONE when not reached by as_of
    first_touch_time: np.ndarray
    sal_time: np.ndarray
    sal_status: np.ndarray  # object: "accepted" | "rejected" | "" (pending)
    reject_reason: np.ndarray  # object
    sql_time: np.ndarray
    opportunity_time: np.ndarray
    amount: np.ndarray  # float, nan when no opportunity
    closed_time: np.ndarray
    outcome: np.ndarray  # object: "won" | "lost" | "open" | ""


def profile_effects(leads: Leads, accounts: Accounts) -> dict[str, np.ndarray]:
    """Log-odds contribution of each profile driver, per lead."""
    acc = leads.account
    size = accounts.company_size[acc]
    bounds = np.array([b for b, _ in cat.SIZE_BANDS])
    size_eff = np.array([e for _, e in cat.SIZE_BANDS])[np.searchsorted(bounds, size, "right")]
    return {
        "seniority_effect": np.array([s.effect for s in cat.SENIORITIES])[leads.seniority],
        "department_effect": np.array(
            [cat.DEPARTMENT_EFFECT[d] for d in leads.department], dtype=float
        ),
        "industry_effect": np.array([i.effect for i in cat.INDUSTRIES])[accounts.industry[acc]],
        "size_effect": size_eff,
        "geo_effect": np.array([c.effect for c in cat.COUNTRIES])[accounts.country[acc]],
        "channel_effect": np.array([c.effect for c in cat.CHANNELS])[leads.channel],
        "email_effect": np.where(leads.free_email, -0.3, 0.0),
    }


# The old process's routes by source: (source, share of its leads handed over, the moment).
# Inbound sources go to sales at their sign-up form (a referral's contact form, a badge scan,
# a trial or contact form); a bought list's contacts go to SDRs when the list is imported, the
# moment the lead is created (they have no event of their own then).
_CHANNEL_ROUTES = (
    ("referral", 0.35, "form"),
    ("events", 0.15, "form"),
    ("cold_list", 0.04, "created"),
    ("paid_search", 0.03, "form"),
    ("inbound_content", 0.02, "form"),
)


def _handoff(rng: np.random.Generator, leads: Leads, act: Activity, as_of: int) -> np.ndarray:
    """When each lead was handed to sales by the historical process (NONE = never).

    A lead becomes an MQL at the timestamp of what qualified it (its first demo request, its
    third high-value action, its sign-up form, or a bought list's import), never at a time of
    its own: a delay drawn here would differ by route, and the gap between the last event and
    ``mql_time`` would then tell a model which rule fired, something no real hand-off records.
    """
    n = len(leads)
    u = rng.random(n)
    t = np.full(n, NONE, dtype=np.int64)
    by_hv = (act.third_high_value != NONE) & (u < 0.6)
    t[by_hv] = act.third_high_value[by_hv]
    chan = leads.channel
    for name, share, moment in _CHANNEL_ROUTES:
        at = act.first_form if moment == "form" else leads.created_at
        pick = (t == NONE) & (chan == CHANNEL_INDEX[name]) & (u < share) & (at != NONE)
        t[pick] = at[pick]
    # A demo request always goes straight to sales (and wins over the slower routes).
    demo = act.first_demo != NONE
    t[demo] = np.where(
        t[demo] == NONE, act.first_demo[demo], np.minimum(t[demo], act.first_demo[demo])
    )
    t[t > as_of] = NONE
    return t


def _flaws(
    leads: Leads, handed_at: np.ndarray, rng: np.random.Generator, accounts: Accounts
) -> np.ndarray:
    """Index into FLAWS per lead; already-in-pipeline only applies to handed leads."""
    flaw = np.zeros(len(leads), dtype=np.int64)
    flaw[leads.bad_contact] = FLAWS.index("bad_contact_data")
    flaw[leads.duplicate_of >= 0] = FLAWS.index("duplicate")
    flaw[leads.is_student] = FLAWS.index("student")
    flaw[leads.is_competitor] = FLAWS.index("competitor")
    handed = np.flatnonzero((handed_at != NONE) & (flaw == 0))
    handed = handed[accounts.kind[leads.account[handed]] == BUSINESS]
    order = handed[np.lexsort((handed_at[handed], leads.account[handed]))]
    same = leads.account[order[1:]] == leads.account[order[:-1]]
    recent = handed_at[order[1:]] - handed_at[order[:-1]] < 120 * DAY
    later = order[1:][same & recent & (rng.random(max(len(order) - 1, 0)) < 0.35)]
    flaw[later] = FLAWS.index("already_in_pipeline")
    return flaw


def make_funnel(
    rng: np.random.Generator,
    leads: Leads,
    accounts: Accounts,
    act: Activity,
    as_of: int,
    product: ProductPlan | None = None,
) -> Funnel:
    """Propensity, counterfactual outcome and the observed funnel for every lead.

    ``product``: the product-led motion's plan; its effect joins the log-odds and its hand
    raises (and half the upgrades) were handed to sales at their time."""
    n = len(leads)
    effects = profile_effects(leads, accounts)
    fit = sum(effects[k] for k in ("seniority_effect", "department_effect", "industry_effect",
                                   "size_effect", "geo_effect"))  # fmt: skip
    demo = act.first_demo != NONE
    engagement = (
        1.3 * demo
        + 0.3 * np.minimum(act.pricing_views, 3)
        + 0.35 * np.minimum(act.webinars_attended, 2)
        + 0.12 * np.minimum(act.downloads, 3)
    )
    intent_eff = 0.45 * leads.intent
    logit = (
        BASE + fit + effects["channel_effect"] + effects["email_effect"] + engagement + intent_eff
    )
    if product is not None:
        logit = logit + product.effect()
    p = sigmoid(logit)

    # Two streams: who is handed over (and when) never shifts the draws of each lead's
    # counterfactual outcome and stage delays, so editing the hand-off process leaves them be.
    handoff_rng, rng = rng.spawn(2)
    mql = _handoff(handoff_rng, leads, act, as_of)
    if product is not None:
        by = product.handoff
        mql = np.where((by != NONE) & ((mql == NONE) | (by < mql)), by, mql)
    handed = mql != NONE
    flaw = _flaws(leads, mql, handoff_rng, accounts)
    flaw_pass = FLAW_PASS[flaw]
    propensity = flaw_pass * p

    stage_p = [p**e for e in STAGE_EXPONENTS]
    stage_p[0] = stage_p[0] * flaw_pass
    passed = [rng.random(n) < sp for sp in stage_p]
    would_win = passed[0] & passed[1] & passed[2] & passed[3]

    # Stage times: first touch within hours, the SAL decision within days, deals close in
    # months (longer for bigger companies).
    size = accounts.company_size[leads.account].astype(float)
    touch = mql + rng.lognormal(np.log(4 * HOUR), 1.0, n).astype(np.int64)
    sal = touch + rng.exponential(1.5 * DAY, n).astype(np.int64) + HOUR
    sql = sal + rng.exponential(9 * DAY, n).astype(np.int64) + HOUR
    opp = sql + rng.exponential(6 * DAY, n).astype(np.int64) + HOUR
    cycle = (20 + 35 * np.log10(size + 1)) * rng.lognormal(0.0, 0.35, n)
    close = opp + (cycle * DAY).astype(np.int64)
    amount = np.maximum(1000.0, np.round(2500 * size**0.45 * rng.lognormal(0.0, 0.35, n), -2))

    reached_touch = handed & (touch <= as_of)
    decided = reached_touch & (sal <= as_of)
    accepted = decided & passed[0]
    rejected = decided & ~passed[0]
    reached_sql = accepted & passed[1] & (sql <= as_of)
    reached_opp = reached_sql & passed[2] & (opp <= as_of)
    closed = reached_opp & (close <= as_of)

    def when(t: np.ndarray, reached: np.ndarray) -> np.ndarray:
        return np.where(reached, t, NONE)

    status = np.full(n, "", dtype=object)
    status[accepted] = "accepted"
    status[rejected] = "rejected"
    reason = np.full(n, "", dtype=object)
    reason[rejected] = _reasons(rng, flaw, effects, engagement + intent_eff)[rejected]
    outcome = np.full(n, "", dtype=object)
    outcome[reached_opp] = "open"
    outcome[closed & passed[3]] = "won"
    outcome[closed & ~passed[3]] = "lost"

    truth = {
        "propensity": np.round(propensity, 6),
        "would_win": would_win.astype(np.int64),
        "handed_to_sales": handed.astype(np.int64),
        "flaw": np.asarray(FLAWS, dtype=object)[flaw],
        "logit": np.round(logit, 6),
        "base": np.full(n, BASE),
        **{k: np.round(v, 6) for k, v in effects.items()},
        "fit_effect": np.round(fit, 6),
        "engagement_effect": np.round(engagement, 6),
        "intent_latent": np.round(leads.intent, 6),
        "intent_effect": np.round(intent_eff, 6),
        "demo_requested": demo.astype(np.int64),
        "pricing_views": act.pricing_views,
        "webinars_attended": act.webinars_attended,
        "downloads": act.downloads,
        "n_events": act.n_events,
    }
    return Funnel(
        truth=truth,
        handed=handed,
        mql_time=mql,
        first_touch_time=when(touch, reached_touch),
        sal_time=when(sal, decided),
        sal_status=status,
        reject_reason=reason,
        sql_time=when(sql, reached_sql),
        opportunity_time=when(opp, reached_opp),
        amount=np.where(reached_opp, amount, np.nan),
        closed_time=when(close, closed),
        outcome=outcome,
    )


def _reasons(
    rng: np.random.Generator,
    flaw: np.ndarray,
    effects: dict[str, np.ndarray],
    interest: np.ndarray,
) -> np.ndarray:
    """The reject reason sales would give: the lead's flaw, else its weakest driver."""
    n = len(flaw)
    deficits = np.stack(
        [
            effects["seniority_effect"] - 0.2,
            effects["size_effect"] - 0.2,
            effects["industry_effect"] - 0.1,
            interest - 0.8,
        ]
    ) + rng.normal(0.0, 0.15, (4, n))
    soft = np.asarray(_SOFT_REASONS, dtype=object)[np.argmin(deficits, axis=0)]
    out: np.ndarray = np.where(flaw > 0, np.asarray(FLAWS, dtype=object)[flaw], soft)
    return out
