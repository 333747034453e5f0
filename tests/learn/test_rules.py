"""Scorecard bins written as rules: the engine gives every lead exactly its bin's points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from leadgate.engine import Event, compile_model, score_lead
from leadgate.learn.binning import bin_feature
from leadgate.learn.features import EventKind, event_features, profile_features
from leadgate.learn.rules import dump_yaml, feature_rules, flow_rules
from leadgate.model import parse_model

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def _model(rules: list[dict[str, object]]) -> object:
    text = dump_yaml({"name": "t", "version": "1", "threshold": 0,
                      "dimensions": flow_rules({"d": {"rules": rules}})})  # fmt: skip
    return compile_model(parse_model(text))


def _points(bf: object, rng: np.random.Generator) -> list[int]:
    pts = [int(p) for p in rng.integers(-20, 30, len(bf.bins))]  # type: ignore[attr-defined]
    pts[bf.reference] = 0  # type: ignore[attr-defined]
    return pts


def _events(n: int, rng: np.random.Generator) -> tuple[list[str], dict[str, list[Event]]]:
    ids = [f"L{i}" for i in range(n)]
    events: dict[str, list[Event]] = {}
    for lead in ids:
        k = int(rng.negative_binomial(1, 0.3))
        events[lead] = [
            Event(lead, str(rng.choice(["page_view", "demo_request"])),
                  AS_OF - timedelta(days=float(rng.uniform(-5, 200))), f"{lead}-{j}",
                  {"url": str(rng.choice(["/pricing", "/blog/x", "https://a.io/pricing?q=1"]))})
            for j in range(k)
        ]  # fmt: skip
    return ids, events


@pytest.mark.parametrize("kind", ["count", "recency"])
def test_event_bins_score_exactly_in_the_engine(kind: str) -> None:
    rng = np.random.default_rng(3)
    ids, events = _events(300, rng)
    feats = [f for f in event_features(ids, events, [AS_OF] * len(ids)) if f.kind == kind]
    assert {f.event for f in feats} >= {EventKind("page_view"), EventKind("page_view", "pricing")}
    y = (rng.random(len(ids)) < 0.3).astype(int)
    for f in feats:
        bf = bin_feature(f, y, "quantile")
        pts = _points(bf, rng)
        plan = _model(feature_rules(bf, pts))
        expected = np.asarray(pts)[bf.index(f.values)]
        got = [score_lead(plan, {}, events[i], AS_OF, i).total for i in ids]
        assert got == list(expected), f.name


def test_profile_bins_score_exactly_in_the_engine() -> None:
    rng = np.random.default_rng(5)
    n = 400
    size = rng.integers(1, 20000, n)
    rows = [
        {"size": (f"{s:,}" if i % 3 else int(s)) if i % 11 else "N/A",
         "level": str(rng.choice(["VP", "vp", "Manager", "Select", "Intern"])) if i % 13 else None,
         "email": str(rng.choice(["a@gmail.com", "b@acme.com", "c@rival.io", "nobody"],
                                 p=[0.3, 0.3, 0.3, 0.1]))}
        for i, s in enumerate(size)
    ]  # fmt: skip
    feats, _, _ = profile_features(rows, set())
    y = (rng.random(n) < 0.3).astype(int)
    assert {f.kind for f in feats} == {"numeric", "categorical", "flag"}
    for f in feats:
        bf = bin_feature(f, y, "quantile")
        pts = _points(bf, rng)
        plan = _model(feature_rules(bf, pts))
        expected = np.asarray(pts)[bf.index(f.values)]
        got = [score_lead(plan, row, [], AS_OF).total for row in rows]
        assert got == list(expected), f.name
