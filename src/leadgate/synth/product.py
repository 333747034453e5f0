"""The product-led motion (issue #16): trial sign-ups, activation, usage, invitations, upgrades and
hand raises, driven by a hidden product propensity that also drives the leads' outcomes.

Each business account is a *workspace*. A lead's hidden **product latent** ``u`` mixes the
workspace's appetite (one standard normal per account, shared by its users), the lead's own
latent intent and noise::

    u = 0.7 workspace + 0.5 intent + 0.5 noise

``u`` drives every step (``sigmoid`` of a linear function of ``u``, see ``make_plan``):

- **trial**: whether the lead uses the product at all (about a third of leads); its workspace's
  first user ``signed_up``, later users mostly join on a teammate's invitation
  (``invite_accepted``; the inviter's ``invite_sent`` comes just before), some sign up on their
  own;
- **activation** (``activated``) within days of the start, then an **active period** whose
  length and session rate grow with ``u``: sessions (``session_start``), each with some
  ``feature_used`` (``feature``), ``post_created`` (``count``: posts in it), ``event_ingested``
  (``events``: events ingested) and ``insight_created``;
- **upgrades** (``plan_upgraded`` with ``seats``, then ``seats_added`` with ``seats``) and
  **hand raises** (``contact_sales``, ``enterprise_trial_started``, likelier in companies of 500+).

The ground truth: the outcome model (``outcomes.make_funnel``) adds ``PRODUCT_WEIGHT * u`` to the
log-odds of every trial user, so product usage signals (PQLs) predict won deals because the
same ``u`` drives both. Historically, every hand raise went to sales at its time, and half of
the self-serve upgrades did (the ``handoff`` times). Deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadgate.synth.accounts import BUSINESS, COMPETITOR, Accounts
from leadgate.synth.activity import NONE
from leadgate.synth.events import sigmoid
from leadgate.synth.leads import DAY, Leads

PRODUCT_WEIGHT = 1.5  # log-odds of a win per unit of the product latent, for trial users
PRODUCT_TYPES: tuple[str, ...] = (
    "signed_up", "invite_accepted", "invite_sent", "activated", "session_start", "feature_used",
    "post_created", "event_ingested", "insight_created", "plan_upgraded", "seats_added",
    "contact_sales", "enterprise_trial_started",
)  # fmt: skip
# The event properties the product events carry (text, as every synthetic property is).
PROPERTIES: tuple[str, ...] = ("feature", "count", "seats", "events")
FEATURES: tuple[str, ...] = (
    "channels", "threads", "calls", "playbooks", "boards", "search", "integrations", "insights",
)  # fmt: skip
_FEATURE_W = np.array([0.25, 0.2, 0.12, 0.08, 0.1, 0.12, 0.07, 0.06])
MAX_SESSIONS = 160
P = {name: k for k, name in enumerate(PRODUCT_TYPES)}


@dataclass(frozen=True)
class ProductPlan:
    """Per lead (index = lead number): the hidden latent, the product milestones (epoch seconds
    or ``NONE``) and the active period; plus the milestone events of all leads, sorted by lead."""

    latent: np.ndarray  # u
    trial: np.ndarray  # bool
    start: np.ndarray  # sign-up or join time
    activated_at: np.ndarray
    active_until: np.ndarray  # end of the active period (<= as_of); NONE when never activated
    session_rate: np.ndarray  # sessions per day while active
    upgraded_at: np.ndarray
    hand_raised_at: np.ndarray  # first contact_sales or enterprise_trial_started
    handoff: np.ndarray  # when the historical process handed the lead to sales for it
    milestones: dict[str, np.ndarray]  # lead, type, timestamp, seats (-1 = none)

    def effect(self) -> np.ndarray:
        """The product's log-odds contribution to each lead's outcome."""
        out: np.ndarray = np.where(self.trial, PRODUCT_WEIGHT * self.latent, 0.0)
        return out

    def truth(self, sessions: np.ndarray) -> dict[str, np.ndarray]:
        """truth.csv columns of the product motion (``sessions``: per lead, generated)."""
        return {
            "product_latent": np.round(self.latent, 6),
            "trial": self.trial.astype(np.int64),
            "activated": (self.activated_at != NONE).astype(np.int64),
            "upgraded": (self.upgraded_at != NONE).astype(np.int64),
            "hand_raised": (self.hand_raised_at != NONE).astype(np.int64),
            "sessions": sessions,
            "product_effect": np.round(self.effect(), 6),
        }


def _later(
    rng: np.random.Generator, base: np.ndarray, mean_days: float, ok: np.ndarray, as_of: int
) -> np.ndarray:
    """``base`` plus an exponential delay where ``ok``; ``NONE`` where not ok or after as_of."""
    t = base + (rng.exponential(mean_days, len(base)) * DAY).astype(np.int64)
    return np.where(ok & (t <= as_of), t, NONE)


def make_plan(
    rng: np.random.Generator, leads: Leads, accounts: Accounts, as_of: int
) -> ProductPlan:
    """Draw every lead's product journey up to its events (sessions come per block)."""
    n = len(leads)
    acc = leads.account
    kind = accounts.kind[acc]
    u = 0.7 * rng.normal(size=len(accounts))[acc] + 0.5 * leads.intent + 0.5 * rng.normal(size=n)
    p_trial = np.where(kind == COMPETITOR, 0.8, sigmoid(-0.9 + 0.6 * u))
    start = leads.created_at + (rng.exponential(1.0, n) * DAY).astype(np.int64)
    trial = (rng.random(n) < p_trial) & (start <= as_of)
    start = np.where(trial, start, NONE)

    # The workspace's first user signs up; the later ones mostly join on its invitation.
    users = np.flatnonzero(trial)
    users = users[np.lexsort((users, start[users], acc[users]))]
    first = np.r_[True, acc[users][1:] != acc[users][:-1]] if len(users) else np.zeros(0, bool)
    founder_of = users[np.maximum.accumulate(np.where(first, np.arange(len(users)), 0))]
    invited = ~first & (rng.random(len(users)) < 0.8)
    joiner, inviter = users[invited], founder_of[invited]
    gap = start[joiner] - start[inviter]
    invite_at = start[joiner] - (rng.random(len(joiner)) * np.minimum(gap, 2 * DAY)).astype(
        np.int64
    )
    # Invitations to people who never became leads, more from keen users.
    n_extra = np.where(first, rng.poisson(0.6 * np.exp(0.6 * u[users])), 0)
    extra_by = np.repeat(users, n_extra)
    extra_at = start[extra_by] + (rng.exponential(6.0, len(extra_by)) * DAY).astype(np.int64)

    size = accounts.company_size[acc]
    business = kind == BUSINESS
    activated = _later(rng, start, 1.5, trial & (rng.random(n) < sigmoid(0.2 + 1.3 * u)), as_of)
    active = activated != NONE
    length = rng.exponential(30.0, n) * np.exp(0.7 * u) * DAY
    active_until = np.where(active, np.minimum(as_of, activated + length.astype(np.int64)), NONE)
    rate = np.clip(0.3 * np.exp(0.6 * u), 0.05, 3.0)
    upgraded = _later(
        rng, activated, 15.0, active & business & (rng.random(n) < sigmoid(-2.0 + 1.6 * u)), as_of
    )
    contact = _later(
        rng, activated, 20.0,
        active & business & (rng.random(n) < sigmoid(-2.8 + 1.6 * u + 0.8 * (size >= 500))), as_of,
    )  # fmt: skip
    enterprise = _later(
        rng, activated, 15.0,
        active & business & (size >= 200) & (rng.random(n) < sigmoid(-4.0 + 1.6 * u)), as_of,
    )  # fmt: skip
    raised = np.where(
        (contact != NONE) & ((enterprise == NONE) | (contact < enterprise)), contact, enterprise
    )
    handoff = np.where((upgraded != NONE) & (rng.random(n) < 0.5), upgraded, NONE)
    handoff = np.where((raised != NONE) & ((handoff == NONE) | (raised < handoff)), raised, handoff)

    up = np.flatnonzero(upgraded != NONE)
    n_add = rng.poisson(0.8 * np.exp(0.5 * u[up]))
    add_by = np.repeat(up, n_add)
    add_at = upgraded[add_by] + (rng.exponential(12.0, len(add_by)) * DAY).astype(np.int64)
    signed = users[first | ~invited]
    joined = users[invited]

    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray | int]] = [
        (signed, P["signed_up"], start[signed], -1),
        (joined, P["invite_accepted"], start[joined], -1),
        (inviter, P["invite_sent"], invite_at, -1),
        (extra_by, P["invite_sent"], extra_at, -1),
        (np.flatnonzero(active), P["activated"], activated[active], -1),
        (up, P["plan_upgraded"], upgraded[up], 1 + rng.poisson(2.0 * np.exp(0.4 * u[up]))),
        (add_by, P["seats_added"], add_at, rng.integers(1, 6, len(add_by))),
    ]
    for t in (contact, enterprise):
        rows = np.flatnonzero(t != NONE)
        parts.append((rows, P["contact_sales" if t is contact else "enterprise_trial_started"],
                      t[rows], -1))  # fmt: skip
    lead = np.concatenate([p[0] for p in parts]).astype(np.int64)
    typ = np.concatenate([np.full(len(p[0]), p[1], np.int8) for p in parts])
    ts = np.concatenate([p[2] for p in parts]).astype(np.int64)
    seats = np.concatenate([np.broadcast_to(np.asarray(p[3]), len(p[0])) for p in parts])
    keep = ts <= as_of
    order = np.lexsort((typ[keep], ts[keep], lead[keep]))
    milestones = {
        "lead": lead[keep][order], "type": typ[keep][order], "timestamp": ts[keep][order],
        "seats": seats[keep][order].astype(np.int64),
    }  # fmt: skip
    return ProductPlan(
        latent=u, trial=trial, start=start, activated_at=activated, active_until=active_until,
        session_rate=rate, upgraded_at=upgraded, hand_raised_at=raised, handoff=handoff,
        milestones=milestones,
    )  # fmt: skip


def _text(values: np.ndarray, mask: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values, mask=mask), pa.string())


def make_product_events(
    rng: np.random.Generator, plan: ProductPlan, lo: int, hi: int, as_of: int
) -> tuple[dict[str, np.ndarray], pa.Table]:
    """The product events of leads ``lo..hi-1``: (per-lead session counts ``{"sessions"}``, a
    table of ``lead`` (number), ``type`` (index into PRODUCT_TYPES), ``timestamp`` (epoch
    seconds) and the PROPERTIES as text), sorted by lead then time."""
    idx = np.arange(lo, hi)
    act = plan.activated_at[lo:hi]
    active = act != NONE
    span = np.where(active, plan.active_until[lo:hi] - act, 0) / DAY
    n_sess = np.minimum(rng.poisson(plan.session_rate[lo:hi] * span), MAX_SESSIONS)
    s_lead = np.repeat(idx, n_sess)
    s_ts = np.repeat(act, n_sess) + (
        rng.random(len(s_lead)) * np.repeat(span, n_sess) * DAY
    ).astype(np.int64)
    u = plan.latent[s_lead]
    k = len(s_lead)
    feat = rng.random(k) < 0.6
    post = rng.random(k) < 0.55
    ingest = rng.random(k) < 0.35
    insight = rng.random(k) < sigmoid(-2.4 + 0.8 * u)
    features = rng.choice(len(FEATURES), k, p=_FEATURE_W / _FEATURE_W.sum())
    posts = 1 + rng.poisson(2.0 * np.exp(0.4 * u))
    volume = np.rint(rng.lognormal(np.log(2000.0) + 0.8 * u, 1.0)).astype(np.int64)
    m = plan.milestones
    a, b = np.searchsorted(m["lead"], [lo, hi])
    cols = [
        (s_lead, P["session_start"], s_ts, -1, -1, -1, -1),
        (s_lead[feat], P["feature_used"], s_ts[feat] + 60, features[feat], -1, -1, -1),
        (s_lead[post], P["post_created"], s_ts[post] + 120, -1, posts[post], -1, -1),
        (s_lead[ingest], P["event_ingested"], s_ts[ingest] + 30, -1, -1, -1, volume[ingest]),
        (s_lead[insight], P["insight_created"], s_ts[insight] + 300, -1, -1, -1, -1),
        (m["lead"][a:b], -1, m["timestamp"][a:b], -1, -1, m["seats"][a:b], -1),
    ]

    def column(j: int, dtype: type) -> np.ndarray:
        return np.concatenate([np.broadcast_to(np.asarray(c[j]), len(c[0])) for c in cols]).astype(
            dtype
        )

    lead, ts = column(0, np.int64), column(2, np.int64)
    typ = column(1, np.int8)
    typ[len(typ) - (b - a) :] = m["type"][a:b]
    feature, count, seats, events = (column(j, np.int64) for j in (3, 4, 5, 6))
    keep = ts <= as_of  # a session's follow-ups a few minutes after as_of are not seen yet
    order = np.flatnonzero(keep)[np.lexsort((typ[keep], ts[keep], lead[keep]))]
    feature, count, seats, events = (c[order] for c in (feature, count, seats, events))
    table = pa.table(
        {
            "lead": lead[order],
            "type": typ[order],
            "timestamp": ts[order],
            "feature": pa.array(np.asarray(FEATURES, dtype=object)[np.maximum(feature, 0)],
                                mask=feature < 0),
            "count": _text(count, count < 0),
            "seats": _text(seats, seats < 0),
            "events": _text(events, events < 0),
        }
    )  # fmt: skip
    return {"sessions": np.bincount(s_lead - lo, minlength=hi - lo)}, table
