"""Shapes and pairwise interaction rules: a planted interaction is found, signed and scored alike.

The data is built here, small: ``region`` and ``employees`` each matter a little on their own, and
much more together (north AND 500+ employees: +2 log-odds); ``age`` has a U shape a monotone
binning cannot follow; ``noise`` carries nothing.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from leadgate.batch.spark_runner import spark_available
from leadgate.engine import compile_model, score_lead
from leadgate.learn import FitOptions, fit_table
from leadgate.learn.binning import Bin, BinnedFeature
from leadgate.learn.features import Feature
from leadgate.learn.interactions import find_interactions
from leadgate.model import load_model
from leadgate.scoring import score_files
from store_helpers import PG_URL

N = 3000


def _planted(path: Path, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east", "west"], N)
    employees = rng.integers(5, 2000, N)
    age = rng.integers(20, 70, N)
    noise = rng.normal(0, 1, N)
    logit = (
        -1.6
        + 0.3 * (region == "south")
        + 0.3 * (employees >= 1000)
        + 2.0 * ((region == "north") & (employees >= 500))
        + 0.9 * ((age < 30) | (age >= 60))
    )
    won = rng.random(N) < 1 / (1 + np.exp(-logit))
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["lead_id", "region", "employees", "age", "noise", "won"])
        for i in range(N):
            w.writerow([f"L{i}", region[i], employees[i], age[i], f"{noise[i]:.3f}",
                        int(won[i])])  # fmt: skip
    return path


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("planted")
    data = _planted(folder / "export.csv")
    with_pairs = fit_table(data, "won", "lead_id", folder / "pairs.yaml")
    without = fit_table(data, "won", "lead_id", folder / "plain.yaml",
                        options=FitOptions(interactions=False, shapes=False))  # fmt: skip
    return {"data": data, "pairs": with_pairs, "plain": without, "folder": folder}


def test_the_planted_interaction_is_found_with_the_right_sign(planted: dict[str, Any]) -> None:
    found = planted["pairs"].report["interactions"]
    assert found, "no interaction found"
    top = found[0]
    assert sorted(top["features"]) == ["employees", "region"], found
    assert "north" in top["rule"], top["rule"]
    # the cell is the north + large companies (more likely than the main effects say) or,
    # equivalently, the north + small ones (less likely): the points follow the lift
    assert (top["points"] > 0) == (top["lift"] > 1) and abs(top["lift"] - 1) > 0.2, top
    assert top["support"] >= 20 and 0 < top["support_share"] < 1
    # whichever cell was written, the model says "north AND large" is worth more than the sum
    # of its parts: the difference-in-differences of the totals is positive (planted: +2
    # log-odds, 58 points at 20 points to double the odds)
    plan = compile_model(load_model(planted["pairs"].model_path))
    as_of = datetime(2026, 6, 1, tzinfo=UTC)

    def total(region: str, employees: int) -> float:
        profile = {"lead_id": "x", "region": region, "employees": employees, "age": 45}
        return score_lead(plan, profile, (), as_of, "x").total

    contrast = (total("north", 1500) - total("north", 100)) - (
        total("east", 1500) - total("east", 100)
    )
    assert contrast > 20, contrast
    # nothing pairs with the noise column
    assert not any("noise" in it["features"] for it in found), found
    # the rule is an ordinary one: when = all of two conditions, integer points
    model = load_model(planted["pairs"].model_path)
    text = planted["pairs"].model_path.read_text()
    assert "all:" in text and model.spec.dimensions
    assert planted["pairs"].report["rules"] <= 60
    md = planted["pairs"].report_md.read_text()
    assert "## Interactions" in md and top["rule"].split(" & ")[0] in md


def test_interactions_and_shapes_rank_better_than_the_plain_scorecard(
    planted: dict[str, Any],
) -> None:
    pairs, plain = planted["pairs"].report, planted["plain"].report
    assert pairs["scorecard"]["auc"] > plain["scorecard"]["auc"], (
        pairs["scorecard"]["auc"], plain["scorecard"]["auc"])  # fmt: skip
    # the U-shaped age keeps both ends above the middle
    rows = json.loads(planted["pairs"].scorecard_path.read_text())["rows"]
    age = {r["bin"]: r["points"] for r in rows if r["feature"] == "age" and not r["missing"]}
    assert age, "age not selected"
    values = list(age.values())
    assert values[0] > min(values) < values[-1], age


@pytest.mark.parametrize(
    "engine",
    [
        "duckdb",
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="LEADGATE_TEST_PG_URL is not set"),
            ],
        ),
        pytest.param(
            "spark",
            marks=[
                pytest.mark.spark,
                pytest.mark.skipif(not spark_available(), reason="needs PySpark and Java"),
            ],
        ),
    ],
)
def test_a_scorecard_with_interactions_scores_identically_on_every_engine(
    planted: dict[str, Any], engine: str
) -> None:
    model = planted["pairs"].model_path
    as_of = datetime(2026, 6, 1, tzinfo=UTC)
    leads = planted["folder"] / "score.csv"
    lines = planted["data"].read_text().splitlines()
    leads.write_text("\n".join(lines[:601]) + "\n")
    python = score_files(model, leads, None, as_of, engine="python")
    sql = {r["lead_id"]: r for r in score_files(model, leads, None, as_of, engine=engine)}
    assert len(python) == len(sql) == 600
    for r in python:
        assert r["total"] == sql[r["lead_id"]]["total"], r["lead_id"]
        assert r["mql"] == sql[r["lead_id"]]["mql"]


def test_interaction_points_are_explained_rule_by_rule(planted: dict[str, Any]) -> None:
    pair = planted["pairs"].report["interactions"][0]
    plan = compile_model(load_model(planted["pairs"].model_path))
    as_of = datetime(2026, 6, 1, tzinfo=UTC)
    hits = 0
    for i, row in enumerate(csv.DictReader(planted["data"].open())):
        if i == 400:
            break
        score = score_lead(plan, row, (), as_of, row["lead_id"])
        rules = score.explanation.rules
        assert sum(r.points for r in rules) == score.total
        matched = [r for r in rules if r.name == pair["rule"] and r.matched]
        hits += bool(matched)
        assert all(r.points == pair["points"] for r in matched)
    assert 0 < hits < 400


def test_the_rule_budget_is_kept(planted: dict[str, Any], tmp_path: Path) -> None:
    small = fit_table(planted["data"], "won", "lead_id", tmp_path / "small.yaml",
                      options=FitOptions(max_rules=6))  # fmt: skip
    model = load_model(small.model_path)
    assert sum(len(d.rules) for d in model.spec.dimensions.values()) <= 6
    assert small.report["rules"] <= 6


def _binned(name: str, values: np.ndarray, cuts: tuple[float, ...]) -> BinnedFeature:
    bins = [Bin(1, 0, 0.0, lo=lo, hi=hi)
            for lo, hi in zip((None, *cuts), (*cuts, None), strict=True)]  # fmt: skip
    bins.append(Bin(0, 0, 0.0, missing=True))
    return BinnedFeature(Feature(name, "numeric", "fit", values), bins, len(bins) - 1, 0.1,
                         "quantile", cuts)  # fmt: skip


def test_no_interaction_is_found_in_pure_noise() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    feats = [_binned(f"x{k}", rng.normal(size=n), (-1.0, 0.0, 1.0)) for k in range(4)]
    y = (rng.random(n) < 0.3).astype(float)
    logit = np.full(n, np.log(0.3 / 0.7))
    assert find_interactions(feats, logit, y, 20 / np.log(2), 10) == []
