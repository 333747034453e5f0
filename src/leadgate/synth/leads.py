"""Synthetic leads: who they are (name, title, seniority, e-mail), where they came from, and the
hidden traits (latent intent, flaws) that drive their activity and their outcome.

Leads are numbered in creation order (``L0000001`` is the oldest). Business leads belong to a
business account; students to a university; competitors to Rival. A small share are duplicates
(the same person signing up again) or carry unusable contact data; both are flaws that sales
rejects for, with the matching reason code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadgate.synth import catalogs as cat
from leadgate.synth.accounts import BUSINESS, COMPETITOR, UNIVERSITY, Accounts

DAY = 86_400
HISTORY_DAYS = 548  # about 18 months of history before as_of
STUDENT_SHARE = 0.03
COMPETITOR_SHARE = 0.005
DUPLICATE_SHARE = 0.02
FIT_INTENT = 0.5  # how much a lead's fit raises its latent intent

SENIORITY_INDEX = {s.name: k for k, s in enumerate(cat.SENIORITIES)}
CHANNEL_INDEX = {c.name: k for k, c in enumerate(cat.CHANNELS)}
_BAD_LOCALS = ("info", "test", "noreply", "asdf", "sales", "contact", "x")


@dataclass(frozen=True)
class Leads:
    """Column arrays of the leads table plus hidden per-lead traits (index = lead number)."""

    lead_id: np.ndarray  # str
    account: np.ndarray  # int, index into Accounts
    email: np.ndarray  # str
    first_name: np.ndarray
    last_name: np.ndarray
    title: np.ndarray  # str ('' = not given)
    seniority: np.ndarray  # int, index into catalogs.SENIORITIES
    department: np.ndarray  # str
    channel: np.ndarray  # int, index into catalogs.CHANNELS
    created_at: np.ndarray  # int64 epoch seconds, ascending
    size_reported: np.ndarray  # bool: company_size filled in on the form
    # hidden traits
    intent: np.ndarray  # float, latent interest (standard normal, shifted by channel)
    is_student: np.ndarray  # bool
    is_competitor: np.ndarray  # bool
    free_email: np.ndarray  # bool
    bad_contact: np.ndarray  # bool
    duplicate_of: np.ndarray  # int, lead number of the original, -1 when not a duplicate

    def __len__(self) -> int:
        return len(self.lead_id)


def _pick(rng: np.random.Generator, choices: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(choices, dtype=object)[rng.integers(0, len(choices), n)]


def _email_locals(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, free: np.ndarray
) -> list[str]:
    """Local parts in the usual corporate patterns; personal addresses add digits."""
    pattern = rng.integers(0, 4, len(first))
    digits = rng.integers(1, 999, len(first))
    out = []
    for f, la, p, d, is_free in zip(first, last, pattern, digits, free, strict=True):
        f, la = f.lower(), la.lower().replace(" ", "")
        local = (f"{f}.{la}", f"{f[0]}{la}", f, f"{f}_{la}")[p]
        if is_free and p != 0:
            local += str(d)
        out.append(local)
    return out


def make_leads(rng: np.random.Generator, n: int, accounts: Accounts, as_of_epoch: int) -> Leads:
    """``n`` leads created over the 18 months before ``as_of``, newest last."""
    # Lead volume grows over time (the company is growing): density rises towards as_of.
    offsets = np.sort(rng.random(n) ** 0.6)
    created = as_of_epoch - ((1.0 - offsets) * HISTORY_DAYS * DAY).astype(np.int64) - 3600
    # Fewer sign-ups at weekends: most weekend ones move to a weekday of the same week.
    weekday = (created // DAY + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    move = (weekday >= 5) & (rng.random(n) < 0.6)
    target = rng.integers(0, 5, n)
    created = np.sort(created - np.where(move, (weekday - target) * DAY, 0))
    kind_u = rng.random(n)
    is_student = kind_u < STUDENT_SHARE
    is_competitor = (kind_u >= STUDENT_SHARE) & (kind_u < STUDENT_SHARE + COMPETITOR_SHARE)
    business = ~(is_student | is_competitor)

    # Accounts: bigger companies produce more leads (weight ~ size^0.5).
    biz = accounts.of_kind(BUSINESS)
    w = accounts.company_size[biz].astype(float) ** 0.5
    account = np.empty(n, dtype=np.int64)
    account[business] = rng.choice(biz, int(business.sum()), p=w / w.sum())
    account[is_student] = rng.choice(accounts.of_kind(UNIVERSITY), int(is_student.sum()))
    account[is_competitor] = accounts.of_kind(COMPETITOR)[0]

    # Channels: students come through content and webinars, never from bought lists.
    channel = rng.choice(len(cat.CHANNELS), n, p=cat.normalised([c.weight for c in cat.CHANNELS]))
    student_ch = [CHANNEL_INDEX[c] for c in ("inbound_content", "webinar", "paid_search")]
    channel[is_student] = rng.choice(student_ch, int(is_student.sum()), p=[0.6, 0.3, 0.1])
    comp_ch = [CHANNEL_INDEX[c] for c in ("inbound_content", "webinar", "paid_search")]
    channel[is_competitor] = rng.choice(comp_ch, int(is_competitor.sum()), p=[0.4, 0.4, 0.2])

    # Seniority depends on company size; students are students.
    small = accounts.company_size[account] < 200
    seniority = np.where(
        small,
        rng.choice(len(cat.SENIORITIES), n, p=cat.normalised(cat.SENIORITY_WEIGHTS_SMALL)),
        rng.choice(len(cat.SENIORITIES), n, p=cat.normalised(cat.SENIORITY_WEIGHTS_LARGE)),
    )
    seniority[is_student] = SENIORITY_INDEX["student"]
    dept_idx = rng.choice(len(cat.DEPARTMENTS), n, p=cat.normalised(cat.DEPARTMENT_WEIGHTS))
    department = np.asarray(cat.DEPARTMENTS, dtype=object)[dept_idx]
    department[seniority == SENIORITY_INDEX["c_level"]] = "executive"
    department[is_student] = "academic"

    titles = np.empty(n, dtype=object)
    pattern_pick = rng.integers(0, 1 << 30, n)
    for s_idx, sen in enumerate(cat.SENIORITIES):
        rows = np.flatnonzero(seniority == s_idx)
        pats = sen.patterns
        for r in rows:
            titles[r] = pats[pattern_pick[r] % len(pats)].format(
                d=cat.DEPT_LABEL.get(department[r], "")
            )
    # Real forms are messy: some titles typed in lower case, some left empty.
    case_u = rng.random(n)
    lower = case_u < 0.06
    titles[lower] = [t.lower() for t in titles[lower]]
    titles[case_u > 0.98] = ""

    # Names follow the account's country.
    country = accounts.country[account]
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    for pool, (firsts, lasts) in cat.NAMES.items():
        in_pool = np.array([c.names == pool for c in cat.COUNTRIES])[country]
        k = int(in_pool.sum())
        first[in_pool] = _pick(rng, firsts, k)
        last[in_pool] = _pick(rng, lasts, k)

    ch_free = np.array([c.free_email for c in cat.CHANNELS])[channel]
    free = business & (rng.random(n) < ch_free)
    ch_bad = np.array([c.bad_data for c in cat.CHANNELS])[channel]
    bad = business & (rng.random(n) < ch_bad)

    locals_ = np.array(_email_locals(rng, first, last, free), dtype=object)
    locals_[bad] = _pick(rng, _BAD_LOCALS, int(bad.sum()))
    domain = accounts.domain[account].copy()
    domain[free] = _free_domains(rng, country[free])
    email = np.array([f"{a}@{b}" for a, b in zip(locals_, domain, strict=True)], dtype=object)
    first[bad & (rng.random(n) < 0.5)] = "Test"

    # Latent intent: channel shift, students and competitors are keen researchers, and people
    # the product is built for (senior, target industry, right size) care more about it.
    intent = rng.normal(0.0, 1.0, n) + np.array([c.intent for c in cat.CHANNELS])[channel]
    size_bounds = np.array([b for b, _ in cat.SIZE_BANDS])
    fit = (
        np.array([s.effect for s in cat.SENIORITIES])[seniority]
        + np.array([i.effect for i in cat.INDUSTRIES])[accounts.industry[account]]
        + np.array([e for _, e in cat.SIZE_BANDS])[
            np.searchsorted(size_bounds, accounts.company_size[account], "right")
        ]
    )
    intent += FIT_INTENT * np.where(is_student, 0.0, fit)
    intent[is_student] += 0.4
    intent[is_competitor] += 0.6

    # Duplicates: the same person signs up again later (same name, e-mail, title, account).
    duplicate_of = np.full(n, -1, dtype=np.int64)
    dup = business & (rng.random(n) < DUPLICATE_SHARE)
    dup[0] = False
    dup_rows = np.flatnonzero(dup)
    originals = (rng.random(len(dup_rows)) * dup_rows).astype(np.int64)
    ok = business[originals]
    dup_rows, originals = dup_rows[ok], originals[ok]
    duplicate_of[dup_rows] = originals
    # A duplicate of a duplicate is a duplicate of the first sign-up (chains are short).
    while len(originals) and (duplicate_of[originals] >= 0).any():
        chained = duplicate_of[originals] >= 0
        originals[chained] = duplicate_of[originals[chained]]
    duplicate_of[dup_rows] = originals
    for arr in (account, email, first, last, titles, seniority, department):
        arr[dup_rows] = arr[originals]
    free[dup_rows] = free[originals]
    bad[dup_rows] = bad[originals]

    width = max(7, len(str(n)))
    return Leads(
        lead_id=np.array([f"L{i + 1:0{width}d}" for i in range(n)], dtype=object),
        account=account,
        email=email,
        first_name=first,
        last_name=last,
        title=titles,
        seniority=seniority.astype(np.int64),
        department=department,
        channel=channel.astype(np.int64),
        created_at=created,
        size_reported=rng.random(n) >= 0.04,
        intent=intent,
        is_student=is_student,
        is_competitor=is_competitor,
        free_email=free,
        bad_contact=bad,
        duplicate_of=duplicate_of,
    )


def _free_domains(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """A free mailbox provider per lead: the global ones plus the country's local favourites."""
    out = np.empty(len(country), dtype=object)
    for c_idx, ctry in enumerate(cat.COUNTRIES):
        rows = np.flatnonzero(country == c_idx)
        if not len(rows):
            continue
        local_share = sum(w for _, w in ctry.free)
        names = [d for d, _ in cat.FREE_GLOBAL] + [d for d, _ in ctry.free]
        weights = [w * (1.0 - local_share) for _, w in cat.FREE_GLOBAL] + [w for _, w in ctry.free]
        out[rows] = np.asarray(names, dtype=object)[
            rng.choice(len(names), len(rows), p=cat.normalised(weights))
        ]
    return out
