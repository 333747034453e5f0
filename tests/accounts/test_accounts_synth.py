"""Synthetic ABM data (synth/abm.py) and the example ABM model checked against its ground truth."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from accounts_helpers import AS_OF
from factories import explanation_differences
from leadgate.account_scoring import score_account_files
from leadgate.synth import generate
from leadgate.synth.abm import add_abm

EXAMPLE = Path(__file__).parents[2] / "src" / "leadgate" / "examples" / "b2b-abm.yaml"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("abm")
    generate(800, seed=3, out_dir=d, events_format="csv")
    add_abm(d, seed=3)
    # one events file holding both kinds, as the issue has it (DuckDB then reads it itself)
    import duckdb

    files = [str(d / "events.csv"), str(d / "account_events.csv")]
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv({files!r}, union_by_name = true, all_varchar = true)) "
        f"TO '{d / 'all_events.csv'}' (HEADER)"
    )
    return d


def _score(folder: Path, engine: str, one_file: bool = False) -> list[dict[str, object]]:
    events = (
        [folder / "all_events.csv"]
        if one_file
        else [folder / "events.csv", folder / "account_events.csv"]
    )
    scores = score_account_files(
        EXAMPLE, folder / "leads.csv", events, folder / "abm_accounts.csv", AS_OF, engine=engine
    )
    return [{**s.to_record(), "explanation": s.explanation.to_dict()} for s in scores]


def test_in_market_accounts_score_higher_and_qualify_more(folder: Path) -> None:
    truth = {r["account_id"]: r for r in csv.DictReader((folder / "account_truth.csv").open())}
    records = _score(folder, "python")
    assert len(records) == len(truth)
    groups = {
        flag: [r for r in records if truth[str(r["account_id"])]["in_market"] == flag]
        for flag in ("0", "1")
    }
    assert groups["1"] and groups["0"]
    mean = {k: sum(float(r["total"]) for r in v) / len(v) for k, v in groups.items()}  # type: ignore[arg-type]
    rate = {k: sum(bool(r["mqa"]) for r in v) / len(v) for k, v in groups.items()}
    assert mean["1"] > mean["0"] + 20, mean
    assert rate["1"] > 2 * rate["0"], rate
    tiers = {r["tier"] for r in truth.values()}
    assert tiers == {"1", "2", "3"}
    # the example's abm_when reads the tier
    assert all(r["abm"] == (truth[str(r["account_id"])]["tier"] in ("1", "2")) for r in records)
    # ... and DuckDB gives the same records and explanations (event ids aside), whether it
    # reads the one events file itself or is given rows the Python readers read
    assert not explanation_differences(records, _score(folder, "duckdb", one_file=True), ids=False)
    assert not explanation_differences(records, _score(folder, "duckdb"), ids=False)


def test_add_abm_is_deterministic(folder: Path, tmp_path: Path) -> None:
    for name in ("accounts.csv", "leads.csv", "truth.csv"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    counts = add_abm(tmp_path, seed=3)
    assert counts["in_market"] > 0 and counts["visits"] > 0
    for name in (
        "abm_accounts.csv",
        "account_events.csv",
        "account_truth.csv",
        "account_outcomes.csv",
    ):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes()
    add_abm(tmp_path, seed=4)  # another seed: other outcomes
    assert (tmp_path / "account_outcomes.csv").read_bytes() != (
        folder / "account_outcomes.csv"
    ).read_bytes()


def test_account_outcomes_follow_the_truth(folder: Path) -> None:
    """Opportunities and wins go to in-market accounts far beyond chance; out-of-market
    accounts get some (lost) opportunities, so opportunities alone do not give the truth."""
    truth = {r["account_id"]: r for r in csv.DictReader((folder / "account_truth.csv").open())}
    rows = list(csv.DictReader((folder / "account_outcomes.csv").open()))
    assert set(rows[0]) == {"account_id", "stage", "at", "amount"}
    stages: dict[str, list[str]] = {}
    for r in rows:
        stages.setdefault(r["account_id"], []).append(r["stage"])
        assert r["at"] > "2026-11-01" and float(r["amount"]) >= 1000  # after all activity (as_of)
    # each account: one opportunity, then won or lost, later
    assert all(s in (["opportunity", "won"], ["opportunity", "lost"]) for s in stages.values())
    opened = {
        a: r["at"]
        for a in stages
        for r in rows
        if r["account_id"] == a and r["stage"] == "opportunity"
    }
    assert all(r["at"] > opened[r["account_id"]] for r in rows if r["stage"] != "opportunity")
    in_market = {a for a, t in truth.items() if t["in_market"] == "1"}
    base = len(in_market) / len(truth)
    won = [a for a, s in stages.items() if s[-1] == "won"]
    opps = list(stages)
    for group in (won, opps):
        k, n = len([a for a in group if a in in_market]), len(group)
        # 4 standard errors above the base rate: chance would not reach it at this size
        assert k / n > base + 4 * (base * (1 - base) / n) ** 0.5, (k, n, base)
    assert in_market <= set(stages)  # every in-market account has an opportunity
    assert {a for a in opps if a not in in_market}  # ... and some others too, all lost
    assert all(stages[a][-1] == "lost" for a in opps if a not in in_market)
    two = [a for a in in_market if int(truth[a]["n_would_win"]) >= 2]
    assert two and all(stages[a][-1] == "won" for a in two)
