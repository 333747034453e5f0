"""The leakage guard: post-outcome columns are reported and dropped, unless forced or excluded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from leadgate.learn import FitOptions, fit_table
from leadgate.learn.binning import bin_feature
from leadgate.learn.features import Feature
from leadgate.learn.leakage import detect_leaks


def test_near_perfect_single_predictors_are_leaks() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(1000) < 0.3).astype(int)
    close_days = np.where(y == 1, rng.integers(5, 90, 1000), np.nan)  # only won deals close
    honest = y + rng.normal(0, 1.2, 1000)
    binned = [
        bin_feature(Feature("days_to_close", "numeric", "fit", close_days, column="days_to_close"), y),
        bin_feature(Feature("visits", "numeric", "fit", honest, column="visits"), y),
    ]  # fmt: skip
    leaks = detect_leaks(binned, y)
    assert [lk.feature for lk in leaks] == ["days_to_close"]
    assert "probably recorded after the outcome" in leaks[0].reason


def test_force_keeps_the_leak_and_exclude_removes_the_column(
    messy_export: dict[str, Any], tmp_path: Path
) -> None:
    forced = fit_table(messy_export["train"], "Converted", "lead_id", tmp_path / "forced.yaml",
                       options=FitOptions(force=True))  # fmt: skip
    assert forced.report["leaks"][0]["dropped"] is False
    assert "Opportunity Stage" in (tmp_path / "forced.yaml").read_text()
    excluded = fit_table(messy_export["train"], "Converted", "lead_id", tmp_path / "ex.yaml",
                         exclude=("Opportunity Stage",))  # fmt: skip
    report = json.loads(excluded.report_json.read_text())
    assert report["leaks"] == []
    assert "Opportunity Stage" not in {f["feature"] for f in report["features"]}


def test_one_predictive_dimension_and_a_target_mql_rate(
    messy_export: dict[str, Any], tmp_path: Path
) -> None:
    from leadgate.model import load_model

    result = fit_table(messy_export["train"], "Converted", "lead_id", tmp_path / "p.yaml",
                       options=FitOptions(layout="predictive", threshold_method="rate",
                                          mql_rate=0.2, name="export-scorecard"))  # fmt: skip
    spec = load_model(tmp_path / "p.yaml").spec
    assert spec.name == "export-scorecard" and list(spec.dimensions) == ["predictive"]
    assert result.report["threshold"]["method"] == "rate"
    # chosen on the training split for at most 20% MQLs; the held-out share lands near it
    assert 0.1 < result.report["scorecard"]["mql_rate"] < 0.3
