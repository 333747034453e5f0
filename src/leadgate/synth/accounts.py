"""Synthetic accounts (companies): names, domains, industries, heavy-tailed sizes, countries.

Three kinds of account: ordinary businesses (most), universities (where the student leads come
from, with academic e-mail domains) and the competitor ``Rival`` (rival.io), whose staff sign up
to look at the product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from leadgate.synth import catalogs as cat

BUSINESS, UNIVERSITY, COMPETITOR = 0, 1, 2
LEADS_PER_ACCOUNT = 3.0  # average; the spread is heavy tailed (big companies have more leads)
_LEADS_PER_UNIVERSITY = 1500
# Qualifiers that tell apart companies that drew the same name.
_QUALIFIERS = ("Group", "Global", "Digital", "Solutions", "Holdings", "International", "Partners")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Accounts:
    """Column arrays of the accounts table; ``industry`` and ``country`` index the catalogs."""

    account_id: np.ndarray  # str
    company: np.ndarray  # str
    domain: np.ndarray  # str
    industry: np.ndarray  # int, index into catalogs.INDUSTRIES
    company_size: np.ndarray  # int, employees
    country: np.ndarray  # int, index into catalogs.COUNTRIES
    kind: np.ndarray  # BUSINESS | UNIVERSITY | COMPETITOR

    def __len__(self) -> int:
        return len(self.account_id)

    def of_kind(self, kind: int) -> np.ndarray:
        """Indexes of the accounts of one kind."""
        return np.flatnonzero(self.kind == kind)


def company_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Employees: log-normal body and a Pareto tail (a few firms with tens of thousands), 1..100k."""
    body = rng.lognormal(cat.SIZE_LOG_MEAN, cat.SIZE_LOG_SD, n)
    tail = rng.random(n) < 0.04
    body[tail] = 2000.0 * (1.0 + rng.pareto(1.1, int(tail.sum())))
    return np.clip(np.rint(body), 1, cat.SIZE_MAX).astype(np.int64)


def _unique_names(names: list[str]) -> list[str]:
    """Make company names unique by adding a qualifier (then a number) to later duplicates."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for name in names:
        k = seen.get(name, 0)
        seen[name] = k + 1
        if k == 0:
            out.append(name)
            continue
        extra = _QUALIFIERS[(k - 1) % len(_QUALIFIERS)]
        rounds = (k - 1) // len(_QUALIFIERS)
        candidate = f"{name} {extra}" + (f" {rounds + 1}" if rounds else "")
        while candidate in seen:  # a qualified name may collide with a drawn one
            candidate += " Co"
        seen[candidate] = 1
        out.append(candidate)
    return out


def _slug(name: str) -> str:
    return _SLUG.sub("", name.lower())


def make_accounts(rng: np.random.Generator, n_leads: int) -> Accounts:
    """The accounts behind ``n_leads`` leads: businesses, universities and the competitor."""
    n_business = max(1, round(n_leads / LEADS_PER_ACCOUNT))
    n_univ = max(2, min(len(cat.UNIVERSITY_WORDS) * 2, n_leads // _LEADS_PER_UNIVERSITY + 2))

    country_w = cat.normalised([c.weight for c in cat.COUNTRIES])
    industry_w = cat.normalised([i.weight for i in cat.INDUSTRIES])
    country = rng.choice(len(cat.COUNTRIES), n_business, p=country_w)
    industry = rng.choice(len(cat.INDUSTRIES), n_business, p=industry_w)
    size = company_sizes(rng, n_business)

    first = rng.integers(0, len(cat.COMPANY_WORDS), n_business)
    second = rng.integers(0, len(cat.COMPANY_WORDS), n_business)
    three_words = rng.random(n_business) < 0.35
    word_pick = rng.integers(0, 1 << 30, n_business)
    com_tld = rng.random(n_business)
    names: list[str] = []
    domains_tld: list[str] = []
    for i in range(n_business):
        ind = cat.INDUSTRIES[industry[i]]
        word = ind.words[word_pick[i] % len(ind.words)]
        head = cat.COMPANY_WORDS[first[i]]
        if three_words[i] and second[i] != first[i]:
            head += " " + cat.COMPANY_WORDS[second[i]]
        names.append(f"{head} {word}")
        ctry = cat.COUNTRIES[country[i]]
        # Most firms outside the US still use .com; software firms like .io.
        if ind.name == "software" and com_tld[i] < 0.3:
            domains_tld.append(".io")
        elif ctry.code == "US" or com_tld[i] < 0.45:
            domains_tld.append(".com")
        else:
            domains_tld.append(ctry.tld)
    names = _unique_names(names)
    domains = [_slug(n) + t for n, t in zip(names, domains_tld, strict=True)]

    u_country_codes = list(cat.UNIVERSITY_SUFFIX)
    u_country_w = cat.normalised([0.6, 0.06, 0.12, 0.07, 0.1, 0.05])
    u_ctry = rng.choice(len(u_country_codes), n_univ, p=u_country_w)
    u_names, u_domains = [], []
    for j in range(n_univ):
        word = cat.UNIVERSITY_WORDS[j % len(cat.UNIVERSITY_WORDS)]
        if j >= len(cat.UNIVERSITY_WORDS):
            word += " State"
        code = u_country_codes[u_ctry[j]]
        u_names.append(f"{word} University")
        u_domains.append(
            _slug(word)
            + ("u" if j >= len(cat.UNIVERSITY_WORDS) else "")
            + (cat.UNIVERSITY_SUFFIX[code])
        )
    code_index = {c.code: k for k, c in enumerate(cat.COUNTRIES)}
    edu = next(k for k, i in enumerate(cat.INDUSTRIES) if i.name == "education")
    sw = next(k for k, i in enumerate(cat.INDUSTRIES) if i.name == "software")

    company = np.array(names + u_names + [cat.COMPETITOR["company"]], dtype=object)
    domain = np.array(domains + u_domains + [cat.COMPETITOR["domain"]], dtype=object)
    n = len(company)
    width = max(6, len(str(n)))
    return Accounts(
        account_id=np.array([f"A{i + 1:0{width}d}" for i in range(n)], dtype=object),
        company=company,
        domain=domain,
        industry=np.concatenate([industry, np.full(n_univ, edu), [sw]]).astype(np.int64),
        company_size=np.concatenate(
            [size, rng.integers(1500, 40000, n_univ), [cat.COMPETITOR["size"]]]
        ).astype(np.int64),
        country=np.concatenate(
            [country, [code_index[u_country_codes[c]] for c in u_ctry], [code_index["US"]]]
        ).astype(np.int64),
        kind=np.concatenate(
            [np.full(n_business, BUSINESS), np.full(n_univ, UNIVERSITY), [COMPETITOR]]
        ).astype(np.int64),
    )
