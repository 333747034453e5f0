"""Synthetic activity: every event of a block of leads, generated with vectorised numpy.

A lead's activity is the sum of four processes, each driven by its latent intent ``z``:

- its **sign-up** (the form, download, registration or badge scan that created it);
- **e-mail**: a nurture sequence in the first 45 days and weekly newsletters; a lead opens each
  newsletter with probability ``sigmoid(-1.6 + 1.1 z)``, fading with the lead's age, clicks some
  opens (and lands on the linked page), and may unsubscribe, after which it receives nothing;
- **web sessions** in waves: a wave starts at sign-up and later re-engagement waves start at
  random times; each wave's session rate decays exponentially (``N e^(-t/tau) / tau``), so
  activity comes in bursts separated by long silences (a shot-noise Cox process: Hawkes-like
  bursts, but each wave is triggered at random rather than by earlier events). A
  session views pages (pricing and product pages more often for high intent), and may download
  content, submit a form or request a demo;
- **webinars**: registrations (a few days before the date) and attendance.

Nothing loops per event in Python: counts are drawn per lead (or per session) and expanded with
``np.repeat``. Events are returned as integer codes into the ``Calendar`` vocabularies, sorted by
lead then time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadgate.synth import catalogs as cat
from leadgate.synth.calendar import EMAIL, NURTURE_DAYS, SOURCE_EVENT_CHANNEL, WEBINAR, Calendar
from leadgate.synth.leads import CHANNEL_INDEX, DAY, Leads

T = {name: k for k, name in enumerate(cat.EVENT_TYPES)}
_RESEARCH = np.array([w for _, w in cat.RESEARCH_URLS]) / sum(w for _, w in cat.RESEARCH_URLS)
_BUYING = [(u, w) for u, w in cat.BUYING_URLS if u != "/demo"]
_BUYING_W = np.array([w for _, w in _BUYING]) / sum(w for _, w in _BUYING)
_SESSION_CH = np.array([w for _, w in cat.SESSION_CHANNELS]) / sum(
    w for _, w in cat.SESSION_CHANNELS
)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise."""
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


@dataclass(frozen=True)
class EventBlock:
    """The events of leads ``lo..hi-1``: parallel arrays, sorted by (lead, timestamp, type)."""

    lead: np.ndarray  # int64, global lead number
    type: np.ndarray  # int8, index into catalogs.EVENT_TYPES
    timestamp: np.ndarray  # int64 epoch seconds
    url: np.ndarray  # int32 code into Calendar.urls, -1 = none
    asset: np.ndarray  # int32 code into Calendar.assets, -1 = none
    channel: np.ndarray  # int32 code into Calendar.channels, -1 = none

    def __len__(self) -> int:
        return len(self.lead)


class _Parts:
    """Accumulates event arrays from each process before they are merged and sorted."""

    def __init__(self) -> None:
        self.cols: list[tuple[np.ndarray, ...]] = []

    def add(
        self,
        lead: np.ndarray,
        type_: int,
        ts: np.ndarray,
        url: np.ndarray | int = -1,
        asset: np.ndarray | int = -1,
        channel: np.ndarray | int = -1,
    ) -> None:
        n = len(lead)
        if n == 0:
            return

        def full(v: np.ndarray | int) -> np.ndarray:
            return np.full(n, v, dtype=np.int32) if np.isscalar(v) else np.asarray(v, np.int32)

        self.cols.append(
            (
                lead.astype(np.int64),
                np.full(n, type_, dtype=np.int8),
                np.asarray(ts, dtype=np.int64),
                full(url),
                full(asset),
                full(channel),
            )
        )

    def merged(self) -> tuple[np.ndarray, ...]:
        if not self.cols:
            return tuple(
                np.empty(0, dtype=d) for d in (np.int64, np.int8, np.int64) + (np.int32,) * 3
            )
        return tuple(np.concatenate(c) for c in zip(*self.cols, strict=True))


def make_events(
    rng: np.random.Generator, leads: Leads, lo: int, hi: int, cal: Calendar, as_of: int
) -> EventBlock:
    """All events of leads ``lo..hi-1`` with timestamps in [created_at, as_of]."""
    n = hi - lo
    idx = np.arange(n)
    start = leads.created_at[lo:hi]
    z = leads.intent[lo:hi]
    chan = leads.channel[lo:hi]
    student = leads.is_student[lo:hi]
    competitor = leads.is_competitor[lo:hi]
    cold = chan == CHANNEL_INDEX["cold_list"]
    life = (as_of - start) / DAY
    parts = _Parts()

    _signups(rng, parts, idx, start, chan, cal)
    _emails(rng, parts, idx, start, z, cold, life, cal, as_of)
    _sessions(rng, parts, idx, start, z, cold, student, competitor, life, cal, as_of)
    _webinars(rng, parts, idx, start, z, chan, student, life, cal, as_of)

    lead, typ, ts, url, asset, ch = parts.merged()
    keep = (ts <= as_of) & (ts >= start[lead])
    lead, typ, ts, url, asset, ch = (a[keep] for a in (lead, typ, ts, url, asset, ch))
    order = np.lexsort((typ, ts, lead))
    return EventBlock(
        lead=lead[order] + lo,
        type=typ[order],
        timestamp=ts[order],
        url=url[order],
        asset=asset[order],
        channel=ch[order],
    )


def _signups(
    rng: np.random.Generator,
    parts: _Parts,
    idx: np.ndarray,
    start: np.ndarray,
    chan: np.ndarray,
    cal: Calendar,
) -> None:
    """The event that created each lead, by source (bought lists have none)."""
    src_ch = {s: cal.channel_code(c) for s, c in SOURCE_EVENT_CHANNEL.items()}

    rows = idx[chan == CHANNEL_INDEX["inbound_content"]]
    asset = rng.integers(0, len(cat.ASSETS), len(rows))
    url = cal.url_code(f"/resources/{cat.ASSETS[0]}") + asset
    social = rng.random(len(rows)) < 0.25
    ch = np.where(social, cal.channel_code("social"), src_ch["inbound_content"])
    parts.add(rows, T["form_submit"], start[rows], url, asset, ch)
    parts.add(rows, T["content_download"], start[rows] + 20, url, asset, ch)

    rows = idx[chan == CHANNEL_INDEX["paid_search"]]
    landing = np.where(
        rng.random(len(rows)) < 0.5, cal.url_code("/pricing"), cal.url_code("/product")
    )
    parts.add(rows, T["page_view"], start[rows], landing, -1, src_ch["paid_search"])
    form = np.where(rng.random(len(rows)) < 0.6, cal.url_code("/trial"), cal.url_code("/contact"))
    parts.add(rows, T["form_submit"], start[rows] + 90, form, -1, src_ch["paid_search"])

    rows = idx[chan == CHANNEL_INDEX["referral"]]
    parts.add(rows, T["form_submit"], start[rows], cal.url_code("/contact"), -1, src_ch["referral"])

    rows = idx[chan == CHANNEL_INDEX["events"]]
    show = np.clip(np.searchsorted(cal.show_times, start[rows], "right") - 1, 0, None)
    parts.add(rows, T["form_submit"], start[rows], -1, cal.show_asset0 + show, src_ch["events"])
    # webinar sign-ups are registrations, made in _webinars so attendance follows them


def _emails(
    rng: np.random.Generator,
    parts: _Parts,
    idx: np.ndarray,
    start: np.ndarray,
    z: np.ndarray,
    cold: np.ndarray,
    life: np.ndarray,
    cal: Calendar,
    as_of: int,
) -> None:
    """Opens and clicks of the nurture sequence and weekly newsletters; unsubscribing stops them."""
    news = cal.newsletter_times
    k0 = np.searchsorted(news, start, "right")
    n_elig = len(news) - k0
    rate = sigmoid(-1.6 + 1.1 * z - 0.8 * cold)
    email = cal.channel_code(EMAIL)
    p_unsub = sigmoid(-2.6 - 0.5 * z + 1.3 * cold)
    unsub = (rng.random(len(idx)) < p_unsub) & (n_elig > 0)
    unsub_at = np.where(
        unsub, start + (rng.random(len(idx)) * life * DAY).astype(np.int64), as_of + 1
    )
    parts.add(idx[unsub], T["unsubscribe"], unsub_at[unsub], -1, -1, email)

    # Nurture: sent at fixed days after sign-up (15:00 UTC), opened a little more often.
    n_nurture = len(NURTURE_DAYS)
    rows = np.repeat(idx, n_nurture)
    step = np.tile(np.arange(n_nurture), len(idx))
    day = start[rows] - start[rows] % DAY + np.asarray(NURTURE_DAYS)[step] * DAY + 15 * 3600
    t_open = day + rng.exponential(5 * 3600, len(rows)).astype(np.int64)
    ok = (rng.random(len(rows)) < np.minimum(1.0, 1.2 * rate[rows])) & (t_open < unsub_at[rows])
    parts.add(rows[ok], T["email_open"], t_open[ok], -1, cal.nurture_asset0 + step[ok], email)
    click = ok & (rng.random(len(rows)) < sigmoid(-1.5 + 0.5 * z[rows]))
    t_click = t_open[click] + rng.integers(5, 600, int(click.sum()))
    link = cal.url_code(f"/resources/{cat.ASSETS[0]}") + step[click] % len(cat.ASSETS)
    parts.add(rows[click], T["email_click"], t_click, link, cal.nurture_asset0 + step[click], email)
    parts.add(rows[click], T["page_view"], t_click + 3, link, -1, email)

    n_open = rng.binomial(n_elig, rate)
    rows = np.repeat(idx, n_open)
    k = k0[rows] + (rng.random(len(rows)) * n_elig[rows]).astype(np.int64)
    sent = news[k]
    t_open = sent + rng.exponential(6 * 3600, len(rows)).astype(np.int64)
    # Interest fades: a lead opens less the longer ago it signed up.
    fade = 0.35 + 0.65 * np.exp(-(sent - start[rows]) / (200 * DAY))
    ok = (rng.random(len(rows)) < fade) & (t_open < unsub_at[rows])
    rows, k, t_open = rows[ok], k[ok], t_open[ok]
    parts.add(rows, T["email_open"], t_open, -1, cal.newsletter_asset0 + k, email)

    click = rng.random(len(rows)) < sigmoid(-1.5 + 0.5 * z[rows])
    rows, k, t_click = rows[click], k[click], t_open[click] + rng.integers(5, 600, int(click.sum()))
    # The link clicked: a content piece, a blog post or the pricing page, then a page view.
    link = rng.choice(len(cal.urls), len(rows))
    parts.add(rows, T["email_click"], t_click, link, cal.newsletter_asset0 + k, email)
    parts.add(rows, T["page_view"], t_click + 3, link, -1, email)


def _sessions(
    rng: np.random.Generator,
    parts: _Parts,
    idx: np.ndarray,
    start: np.ndarray,
    z: np.ndarray,
    cold: np.ndarray,
    student: np.ndarray,
    competitor: np.ndarray,
    life: np.ndarray,
    cal: Calendar,
    as_of: int,
) -> None:
    """Web sessions in decaying waves plus a trickle of background visits."""
    n = len(idx)
    # Waves: one at sign-up, then re-engagement waves at random times.
    n_extra = rng.poisson(life / 150.0 * (0.2 + sigmoid(z)))
    w_lead = np.concatenate([idx, np.repeat(idx, n_extra)])
    w_start = np.concatenate(
        [
            start,
            start[w_lead[n:]]
            + (rng.random(len(w_lead) - n) * life[w_lead[n:]] * DAY).astype(np.int64),
        ]
    )
    strength = np.concatenate(
        [np.exp(-0.3 + 0.9 * z - 1.2 * cold), np.exp(-0.5 + 0.8 * z[w_lead[n:]])]
    ) * rng.lognormal(0.0, 0.5, len(w_lead))
    tau = np.concatenate([np.full(n, 18.0), np.full(len(w_lead) - n, 8.0)]) * rng.lognormal(
        0.0, 0.5, len(w_lead)
    )
    window = (as_of - w_start) / DAY
    mass = 1.0 - np.exp(-window / tau)
    count = rng.poisson(strength * mass)
    s_lead = np.repeat(w_lead, count)
    u = rng.random(len(s_lead))
    s_mass = np.repeat(mass, count)
    s_tau = np.repeat(tau, count)
    s_time = np.repeat(w_start, count) + (-s_tau * np.log1p(-u * s_mass) * DAY).astype(np.int64)
    # Background visits: direct and search traffic at a low, steady rate.
    n_bg = rng.poisson(life * np.exp(-5.4 + 0.5 * z))
    bg_lead = np.repeat(idx, n_bg)
    bg_time = start[bg_lead] + (rng.random(len(bg_lead)) * life[bg_lead] * DAY).astype(np.int64)
    s_lead = np.concatenate([s_lead, bg_lead])
    s_time = np.concatenate([s_time, bg_time])
    s_time += rng.integers(0, 8 * 3600, len(s_time))  # sessions spread over the working day
    # B2B buyers research at work: most weekend sessions happen on the Monday instead.
    weekday = (s_time // DAY + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    to_monday = (weekday >= 5) & (rng.random(len(s_time)) < 0.7)
    s_time = s_time + np.where(to_monday, (7 - weekday) * DAY, 0)
    n_s = len(s_lead)
    s_chan = rng.choice(len(_SESSION_CH), n_s, p=_SESSION_CH)

    # Page views: 1 + geometric pages, buying pages more likely for high intent and competitors.
    pages = rng.geometric(0.6, n_s)
    p_lead = np.repeat(s_lead, pages)
    first_page = np.cumsum(pages) - pages
    pos = np.arange(len(p_lead)) - np.repeat(first_page, pages)
    p_time = np.repeat(s_time, pages) + pos * 70 + rng.integers(0, 60, len(p_lead))
    buying_p = sigmoid(-0.8 + 0.8 * z + 1.5 * competitor - 2.0 * student)
    buy = rng.random(len(p_lead)) < buying_p[p_lead]
    n_research = len(cat.RESEARCH_URLS)
    research_url = rng.choice(n_research, len(p_lead), p=_RESEARCH)
    buying_url = n_research + rng.choice(len(_BUYING), len(p_lead), p=_BUYING_W)
    url = np.where(buy, buying_url, research_url)
    parts.add(p_lead, T["page_view"], p_time, url, -1, np.repeat(s_chan, pages))

    end = s_time + pages * 70 + 30
    zs = z[s_lead]
    # Content downloads, forms and demo requests happen inside sessions.
    dl = rng.random(n_s) < sigmoid(-2.0 + 0.5 * zs + 0.9 * student[s_lead])
    asset = rng.integers(0, len(cat.ASSETS), int(dl.sum()))
    parts.add(
        s_lead[dl],
        T["content_download"],
        end[dl],
        cal.url_code(f"/resources/{cat.ASSETS[0]}") + asset,
        asset,
        s_chan[dl],
    )
    form = rng.random(n_s) < sigmoid(-4.2 + 0.6 * zs)
    parts.add(
        s_lead[form], T["form_submit"], end[form] + 40, cal.url_code("/contact"), -1, s_chan[form]
    )
    demo_p = sigmoid(-5.6 + 1.2 * zs) * np.where(student[s_lead], 0.02, 1.0)
    demo_p = demo_p * np.where(competitor[s_lead], 0.3, 1.0)
    demo = np.flatnonzero(rng.random(n_s) < demo_p)
    # People ask for a demo once; one in five asks again (no answer yet, a colleague), never more.
    demo = demo[np.lexsort((end[demo], s_lead[demo]))]
    lead_d = s_lead[demo]
    first = np.r_[True, lead_d[1:] != lead_d[:-1]]
    second = np.r_[False, ~first[1:] & first[:-1]]
    demo = demo[first | (second & (rng.random(len(demo)) < 0.2))]
    parts.add(
        s_lead[demo], T["demo_request"], end[demo] + 60, cal.url_code("/demo"), -1, s_chan[demo]
    )


def _webinars(
    rng: np.random.Generator,
    parts: _Parts,
    idx: np.ndarray,
    start: np.ndarray,
    z: np.ndarray,
    chan: np.ndarray,
    student: np.ndarray,
    life: np.ndarray,
    cal: Calendar,
    as_of: int,
) -> None:
    """Webinar registrations (days ahead) and attendance; webinar leads signed up this way."""
    web = cal.webinar_times
    k0 = np.searchsorted(web, start, "right")
    n_ahead = len(web) - k0  # webinars a lead can still register for
    n_reg = rng.poisson(life / 28.0 * sigmoid(-3.4 + 0.8 * z + 0.8 * student))
    n_reg = np.minimum(n_reg, n_ahead)
    rows = np.repeat(idx, n_reg)
    k = k0[rows] + (rng.random(len(rows)) * n_ahead[rows]).astype(np.int64)
    # Webinar-sourced leads signed up by registering for the next webinar.
    signup = idx[(chan == CHANNEL_INDEX["webinar"]) & (n_ahead > 0)]
    rows = np.concatenate([signup, rows])
    k = np.concatenate([k0[signup], k])
    reg_t = web[k] - rng.exponential(6 * DAY, len(rows)).astype(np.int64)
    reg_t[: len(signup)] = start[signup]
    reg_t = np.maximum(reg_t, start[rows] + 60)
    # One registration per lead and webinar.
    _, first = np.unique(rows * len(web) + k, return_index=True)
    rows, k, reg_t = rows[first], k[first], reg_t[first]
    ok = reg_t < web[k]
    rows, k, reg_t = rows[ok], k[ok], reg_t[ok]
    topic = k % len(cat.WEBINAR_TOPICS)
    url = cal.webinar_url0() + topic
    wch = cal.channel_code(WEBINAR)
    parts.add(rows, T["webinar_registered"], reg_t, url, cal.webinar_asset0 + k, wch)
    attend = (web[k] <= as_of) & (rng.random(len(rows)) < 0.35 + 0.3 * sigmoid(z[rows]))
    t_att = web[k[attend]] + rng.integers(0, 900, int(attend.sum()))
    parts.add(
        rows[attend], T["webinar_attended"], t_att, url[attend], cal.webinar_asset0 + k[attend], wch
    )
