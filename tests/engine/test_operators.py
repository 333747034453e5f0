"""Every condition operator, table-driven, with the value semantics of docs/semantics.md."""

from __future__ import annotations

from typing import Any

import pytest

from factories import AS_OF, one_rule
from leadgate.engine import score_lead

CASES: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    # eq / ne on text: ASCII case-insensitive, missing never matches
    ({"country": {"eq": "us"}}, {"country": "US"}, True),
    ({"country": {"eq": "us"}}, {"country": "USA"}, False),
    ({"country": {"eq": "us"}}, {}, False),
    ({"country": {"eq": "us"}}, {"country": ""}, False),
    ({"country": {"ne": "us"}}, {"country": "DE"}, True),
    ({"country": {"ne": "us"}}, {}, False),
    ({"city": {"eq": "émile"}}, {"city": "ÉMILE"}, False),  # folding is ASCII-only
    ({"country": "US"}, {"country": "us"}, True),  # scalar shorthand for eq
    # numbers: numeric text counts, other text does not
    ({"size": {"eq": 200}}, {"size": "200"}, True),
    ({"size": {"eq": 200}}, {"size": 200.0}, True),
    ({"size": {"gt": 100}}, {"size": "1e3"}, True),
    ({"size": {"gt": 100}}, {"size": "200 staff"}, False),
    ({"size": {"gt": 100}}, {"size": True}, False),
    ({"size": {"gte": 200}}, {"size": 200}, True),
    ({"size": {"lt": 200}}, {"size": 200}, False),
    ({"size": {"lte": 200}}, {"size": 200}, True),
    ({"size": {"between": [200, 5000]}}, {"size": 5000}, True),
    ({"size": {"between": [200, 5000]}}, {"size": 5001}, False),
    ({"size": {"in": [1, 2]}}, {"size": "2"}, True),
    ({"size": {"not_in": [1, 2]}}, {"size": 3}, True),
    ({"size": {"not_in": [1, 2]}}, {}, False),
    ({"size": {"ne": 5}}, {"size": "five"}, False),
    # in / not_in on text
    ({"industry": {"in": ["software", "fintech"]}}, {"industry": "FinTech"}, True),
    ({"industry": {"not_in": ["software"]}}, {"industry": "retail"}, True),
    ({"zip": {"in": ["007", 5]}}, {"zip": "007"}, True),
    # booleans
    ({"opted_in": {"eq": True}}, {"opted_in": "Yes"}, True),
    ({"opted_in": {"eq": True}}, {"opted_in": True}, True),
    ({"opted_in": {"eq": False}}, {"opted_in": "0"}, True),
    ({"opted_in": {"ne": True}}, {"opted_in": "maybe"}, False),
    # text operators
    ({"url": {"contains": "/PRICING"}}, {"url": "https://x.io/pricing?a=1"}, True),
    ({"url": {"not_contains": "blog"}}, {"url": "/docs"}, True),
    ({"url": {"not_contains": "blog"}}, {}, False),
    ({"title": {"starts_with": "vp"}}, {"title": "VP Sales"}, True),
    ({"title": {"ends_with": "sales"}}, {"title": "VP Sales"}, True),
    ({"size": {"contains": "2"}}, {"size": 250}, True),  # text of a number
    # regex: RE2, case-insensitive, anywhere
    ({"title": {"matches": r"\b(director|vp)\b"}}, {"title": "Sales Director EMEA"}, True),
    ({"title": {"matches": r"\b(director|vp)\b"}}, {"title": "Directorate"}, False),
    ({"title": {"matches": "^head of"}}, {"title": "Head of IT"}, True),
    # exists
    ({"phone": {"exists": True}}, {"phone": "123"}, True),
    ({"phone": {"exists": True}}, {"phone": ""}, False),
    ({"phone": {"exists": False}}, {}, True),
    # email domains
    ({"email": {"domain_in": ["rival.io"]}}, {"email": "Ann@Rival.IO"}, True),
    ({"email": {"domain_in": ["rival.io"]}}, {"email": "ann@eu.rival.io"}, True),
    ({"email": {"domain_in": ["rival.io"]}}, {"email": "ann@notrival.io"}, False),
    ({"email": {"domain_matches": r"\.edu$"}}, {"email": "bob@mit.edu"}, True),
    ({"email": {"domain_matches": r"\.edu$"}}, {"email": "no-at-sign.edu"}, False),
    ({"email": {"not_free_email": True}}, {"email": "ann@acme.com"}, True),
    ({"email": {"not_free_email": True}}, {"email": "ann@gmail.com"}, False),
    ({"email": {"not_free_email": True}}, {}, False),
    ({"email": {"free_email": True}}, {"email": "ann@GMAIL.com"}, True),
    ({"email": {"not_free_email": False}}, {"email": "ann@yahoo.co.uk"}, True),
    # nested fields
    ({"account.industry": {"eq": "software"}}, {"account": {"industry": "Software"}}, True),
    ({"account.industry": {"eq": "software"}}, {"account.industry": "software"}, True),
    # combinators
    ({"all": [{"a": 1}, {"b": 2}]}, {"a": 1, "b": 2}, True),
    ({"all": [{"a": 1}, {"b": 2}]}, {"a": 1}, False),
    ({"any": [{"a": 1}, {"b": 2}]}, {"b": 2}, True),
    ({"any": [{"a": 1}, {"b": 2}]}, {}, False),
    ({"not": {"country": {"eq": "US"}}}, {}, True),
    ({"not": {"country": {"eq": "US"}}}, {"country": "us"}, False),
    ({"a": 1, "b": {"gt": 1}}, {"a": 1, "b": 2}, True),
    ({"a": 1, "b": {"gt": 1}}, {"a": 1, "b": 0}, False),
    ({"size": {"gte": 10, "lt": 20}}, {"size": 15}, True),
    ({"size": {"gte": 10, "lt": 20}}, {"size": 25}, False),
]


@pytest.mark.parametrize(("when", "profile", "expected"), CASES)
def test_operator(when: dict[str, Any], profile: dict[str, Any], expected: bool) -> None:
    score = score_lead(one_rule(when), profile, [], AS_OF, "L1")
    assert score.explanation.rules[0].matched is expected
    assert score.total == (10 if expected else 0)
