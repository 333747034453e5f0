"""Shared data for the account tests: the issue's model and a small hand-checked account set."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)

LEAD_MODEL = """\
name: abm-test
version: 1
threshold: 30
dimensions:
  fit:
    rules:
      - {name: senior, when: {title: {matches: '\\b(vp|chief|director)\\b'}}, points: 20}
  engagement:
    rules:
      - {name: opened, event: email_open, points: 5, max_points: 20}
"""

ACCOUNTS_BLOCK = """\
accounts:
  threshold: 100
  floors: {fit: 20}
  abm_when: {tier: {in: [1, 2]}}
  dimensions:
    fit:
      rules:
        - {name: target industry, when: {industry: {in: [software, fintech]}}, points: 20}
    engagement:
      rules:
        - name: engaged people
          rollup: {count: leads, where: {score.engagement: {gte: 10}}}
          points: 10
          max_points: 40
        - name: best three leads
          rollup: {top_sum: total, n: 3}
          points: 0.5
    intent:
      half_life_days: 14
      rules:
        - {name: pricing research, event: page_view, where: {url: {contains: /pricing}}, points: 5}
  buying_group:
    roles:
      - {name: decision maker, when: {title: {matches: '\\b(vp|chief|head of|director)\\b'}}, required: 1}
      - {name: champion, when: {title: {matches: '\\bmanager\\b'}}, required: 1}
      - {name: practitioner, when: {title: {matches: '\\b(engineer|analyst|specialist)\\b'}}, required: 2}
    engaged_when: {score.engagement: {gte: 10}}
    min_completeness: 0.6
"""

MODEL = LEAD_MODEL + ACCOUNTS_BLOCK

ACCOUNTS: list[dict[str, Any]] = [
    {"account_id": "A1", "industry": "software", "tier": 1},
    {"account_id": "A2", "industry": "retail", "tier": 3},
]
LEADS: list[dict[str, Any]] = [
    {"lead_id": "L1", "account_id": "A1", "title": "VP Engineering"},
    {"lead_id": "L2", "account_id": "A1", "title": "Product Manager"},
    {"lead_id": "L3", "account_id": "A1", "title": "Data Analyst"},
    {"lead_id": "L4", "account_id": "A1", "title": "Engineer"},
    {"lead_id": "L5", "account_id": "A2", "title": "Director of Sales"},
    {"lead_id": "L6", "title": "Analyst"},  # no account
]


def _opens(lead: str, n: int) -> list[dict[str, Any]]:
    return [
        {"lead_id": lead, "type": "email_open", "timestamp": f"2026-10-{10 + i:02d}T00:00:00Z"}
        for i in range(n)
    ]


# Engagement: L1 4 opens (20), L2 2 (10), L3 1 (5), L4 3 (15), L5 2 (10).
EVENTS: list[dict[str, Any]] = [
    *_opens("L1", 4),
    *_opens("L2", 2),
    *_opens("L3", 1),
    *_opens("L4", 3),
    *_opens("L5", 2),
    # account-level: A1 viewed pricing 14 days ago (5 * 0.5 = 2.5) and the home page
    {"account_id": "A1", "type": "page_view", "timestamp": "2026-10-18T00:00:00Z",
     "url": "/pricing", "event_id": "x1"},
    {"account_id": "A1", "type": "page_view", "timestamp": "2026-10-20T00:00:00Z",
     "url": "/home", "event_id": "x2"},
]  # fmt: skip
