"""The people and companies: titles, seniority, e-mail domains, students, competitors, sizes."""

from __future__ import annotations

import re

import numpy as np

from leadgate.model.free_email import FREE_EMAIL_DOMAINS
from leadgate.synth import catalogs as cat

from .conftest import Data


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[1]


def test_every_free_mail_domain_is_on_the_models_free_list() -> None:
    domains = {d for d, _ in cat.FREE_GLOBAL} | {d for c in cat.COUNTRIES for d, _ in c.free}
    assert domains <= set(FREE_EMAIL_DOMAINS)


def test_business_leads_write_from_their_company_domain(data: Data) -> None:
    leads = data.leads.merge(data.accounts[["account_id", "domain"]], on="account_id")
    domains = leads.email.map(_domain)
    free = domains.isin(FREE_EMAIL_DOMAINS)
    assert 0.08 < free.mean() < 0.3
    assert (domains[~free] == leads.domain[~free]).all()
    assert leads.email.str.match(r"^[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+$").all()


def test_students_and_competitors_are_there_and_look_like_it(data: Data) -> None:
    leads = data.leads
    students = leads[leads.seniority == "student"]
    assert 0.01 < len(students) / len(leads) < 0.06
    assert (students.industry == "education").all()
    assert students.email.str.contains(r"\.(?:edu|ac\.uk|ac\.in|edu\.au|ca|de)$").all()
    assert students.email.str.endswith(".edu").mean() > 0.4
    rivals = leads[leads.email.str.endswith("@rival.io")]
    assert len(rivals) >= 3 and (rivals.company == "Rival").all()


def test_titles_carry_seniority_and_department(data: Data) -> None:
    leads = data.leads
    assert set(leads.seniority) == {s.name for s in cat.SENIORITIES}
    share = leads.seniority.value_counts(normalize=True)
    assert share["individual_contributor"] > share["manager"] > share["vp"] > share["student"]
    senior = re.compile(r"\b(director|vp|vice president|head of)\b", re.I)
    by_title = leads.title.fillna("").map(lambda t: bool(senior.search(t)))
    assert 0.2 < by_title.mean() < 0.5
    assert by_title[leads.seniority == "individual_contributor"].sum() == 0
    assert leads.title.isna().mean() < 0.05  # a few left the field empty
    assert set(leads.department) >= {"marketing", "sales", "engineering", "executive"}


def test_geography_industries_sizes_and_channels(data: Data) -> None:
    leads, accounts = data.leads, data.accounts
    region = {c.code: c.region for c in cat.COUNTRIES}
    assert (leads.country.map(region) == leads.region).all()
    assert leads.country.value_counts().index[0] == "US" and leads.country.nunique() >= 12
    assert set(accounts.industry) == {i.name for i in cat.INDUSTRIES}
    sizes = accounts.company_size
    assert sizes.min() >= 1 and sizes.max() <= cat.SIZE_MAX
    assert sizes.max() > 100 * sizes.median()  # heavy tailed
    assert set(leads.source) == {c.name for c in cat.CHANNELS}
    assert leads.company_size.isna().mean() < 0.08


def test_leads_are_numbered_in_creation_order_and_spread_over_time(data: Data) -> None:
    created = data.leads.created_at.to_numpy()
    assert (created[1:] >= created[:-1]).all()
    months = data.leads.created_at.str[:7].value_counts().sort_index()
    assert len(months) >= 18
    assert months.iloc[-3:].mean() > months.iloc[:3].mean()  # a growing company


def test_duplicates_repeat_an_earlier_person(data: Data) -> None:
    dup_ids = data.truth.lead_id[data.truth.flaw == "duplicate"]
    assert len(dup_ids) > 0
    emails = data.leads.set_index("lead_id").email
    first_seen = data.leads.drop_duplicates("email").set_index("email").lead_id
    for lead_id in dup_ids:
        assert first_seen[emails[lead_id]] < lead_id
    assert np.isfinite(data.truth.propensity).all()
