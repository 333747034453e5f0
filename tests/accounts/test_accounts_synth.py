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
    for name in ("abm_accounts.csv", "account_events.csv", "account_truth.csv"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes()
