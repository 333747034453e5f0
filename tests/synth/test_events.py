"""The activity: event types and properties, bursts and silences, unsubscribes, webinars."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .conftest import Data

DAY = pd.Timedelta(days=1)


def test_events_are_sorted_per_lead_and_ids_follow_file_order(data: Data) -> None:
    ev = data.events
    assert (ev.lead_id.to_numpy()[1:] >= ev.lead_id.to_numpy()[:-1]).all()
    same = ev.lead_id.to_numpy()[1:] == ev.lead_id.to_numpy()[:-1]
    ts = ev.timestamp.to_numpy()
    assert (ts[1:][same] >= ts[:-1][same]).all()
    assert ev.event_id.iloc[0] == "E000000001" and ev.event_id.is_monotonic_increasing


def test_properties_fit_the_event_type(data: Data) -> None:
    ev = data.events
    views = ev[ev.type == "page_view"]
    assert views.url.notna().all() and views.url.str.startswith("/").all()
    assert {"/pricing", "/product", "/careers"} <= set(views.url)
    assert views.url.str.startswith("/blog/").any() and views.url.str.startswith("/docs/").any()
    downloads = ev[ev.type == "content_download"]
    assert downloads.asset.notna().all()
    assert (downloads.url == "/resources/" + downloads.asset).all()
    assert (ev[ev.type == "demo_request"].url == "/demo").all()
    opens = ev[ev.type == "email_open"]
    assert (opens.channel == "email").all() and opens.asset.str.match(
        r"^(newsletter|nurture)-"
    ).all()
    assert ev[ev.type.str.startswith("webinar_")].asset.str.startswith("webinar-").all()
    assert {"organic_search", "paid_search", "email", "webinar", "events"} <= set(ev.channel)


def test_activity_comes_in_bursts_with_long_silences(data: Data) -> None:
    ev = data.events
    web = ev[ev.type.isin(["page_view", "content_download", "demo_request"])]
    gaps = web.groupby("lead_id").timestamp.diff().dropna()
    assert (gaps < pd.Timedelta(minutes=10)).mean() > 0.3  # pages within a session
    assert (gaps > 30 * DAY).mean() > 0.02  # and months of silence between bursts
    per_lead = ev.groupby("lead_id").size().reindex(data.leads.lead_id, fill_value=0)
    assert per_lead.max() > 8 * per_lead.median()  # a few very active leads
    assert 12 < per_lead.mean() < 40


def test_activity_fades_after_sign_up(data: Data) -> None:
    created = pd.to_datetime(data.leads.set_index("lead_id").created_at)
    ev = data.events[data.events.type == "page_view"]
    age = ev.timestamp.reset_index(drop=True) - created.loc[ev.lead_id].reset_index(drop=True)
    first_month = (age < 30 * DAY).sum()
    second_month = ((age >= 30 * DAY) & (age < 60 * DAY)).sum()
    assert first_month > 2 * second_month


def test_no_email_reaches_a_lead_after_it_unsubscribed(data: Data) -> None:
    ev = data.events
    unsub = ev[ev.type == "unsubscribe"].groupby("lead_id").timestamp.min()
    assert len(unsub) > 10
    mails = ev[ev.type.isin(["email_open", "email_click"]) & ev.lead_id.isin(unsub.index)]
    assert (mails.timestamp.to_numpy() < unsub.loc[mails.lead_id].to_numpy()).all()


def test_webinar_attendance_follows_registration(data: Data) -> None:
    ev = data.events
    reg = ev[ev.type == "webinar_registered"].set_index(["lead_id", "asset"]).timestamp
    att = ev[ev.type == "webinar_attended"].set_index(["lead_id", "asset"]).timestamp
    assert len(att) > 20 and len(reg) > len(att)
    assert att.index.isin(reg.index).all()
    assert (att.to_numpy() > reg.loc[att.index].to_numpy()).all()
    assert not reg.index.duplicated().any()


def test_high_intent_leads_view_pricing_and_ask_for_demos(data: Data) -> None:
    t = data.truth.set_index("lead_id")
    high = t.intent_latent > t.intent_latent.quantile(0.8)
    low = t.intent_latent < t.intent_latent.quantile(0.5)
    assert t.pricing_views[high].mean() > 3 * t.pricing_views[low].mean()
    assert t.demo_requested[high].mean() > 3 * t.demo_requested[low].mean()
    assert np.corrcoef(t.intent_latent, np.log1p(t.n_events))[0, 1] > 0.4


def test_a_lead_asks_for_a_demo_at_most_twice(data: Data) -> None:
    demos = data.events[data.events.type == "demo_request"].groupby("lead_id").size()
    assert len(demos) > 20 and demos.max() <= 2 and (demos == 2).any()


def test_people_browse_on_weekdays_more_than_at_weekends(data: Data) -> None:
    views = data.events[data.events.type == "page_view"].timestamp.dt.day_of_week
    weekend_share = (views >= 5).mean()
    assert 0.02 < weekend_share < 2 / 7 * 0.6
