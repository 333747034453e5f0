"""generate(): the files, their columns and types, determinism, time bounds and user errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.io.readers import read_events
from leadgate.synth import DEFAULT_AS_OF, SynthError, generate
from leadgate.synth.catalogs import EVENT_TYPES

from .conftest import N_LEADS, Data

COLUMNS = {
    "accounts": ["account_id", "company", "domain", "industry", "company_size", "country", "region"],
    "leads": [
        "lead_id", "account_id", "email", "first_name", "last_name", "title", "seniority",
        "department", "company", "industry", "company_size", "country", "region", "source",
        "created_at",
    ],
    "events": ["event_id", "lead_id", "type", "timestamp", "url", "asset", "channel"],
    "outcomes": [
        "lead_id", "mql_time", "sal_status", "sal_time", "reject_reason", "first_touch_time",
        "sql_time", "opportunity_time", "amount", "closed_time", "outcome",
    ],
}  # fmt: skip
ISO_Z = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


def test_writes_the_five_files_with_the_agreed_columns(data: Data) -> None:
    r = data.result
    assert sorted(p.name for p in r.out_dir.iterdir()) == [
        "accounts.csv", "events.parquet", "leads.csv", "outcomes.csv", "truth.csv",
    ]  # fmt: skip
    assert list(data.accounts.columns) == COLUMNS["accounts"]
    assert list(data.leads.columns) == COLUMNS["leads"]
    assert list(data.events.columns) == COLUMNS["events"]
    assert list(data.outcomes.columns) == COLUMNS["outcomes"]
    assert list(data.truth.columns[:2]) == ["lead_id", "propensity"]
    assert len(data.leads) == len(data.truth) == N_LEADS == r.n_leads
    assert len(data.events) == r.n_events and len(data.accounts) == r.n_accounts
    assert len(data.outcomes) == r.n_handed


def test_column_types_and_keys(data: Data) -> None:
    leads, events = data.leads, data.events
    assert leads.lead_id.is_unique and data.accounts.account_id.is_unique
    assert data.accounts.domain.is_unique
    assert set(leads.account_id) <= set(data.accounts.account_id)
    assert pd.api.types.is_integer_dtype(data.accounts.company_size)
    assert leads.company_size.dropna().eq(leads.company_size.dropna().round()).all()
    assert leads.created_at.str.match(ISO_Z).all()
    assert events.event_id.is_unique and set(events.lead_id) <= set(leads.lead_id)
    assert set(events.type) == set(EVENT_TYPES)
    raw = pq.read_table(data.result.events, columns=["timestamp"]).column("timestamp")
    assert raw.type == pa.string() and raw.to_pandas().str.match(ISO_Z).all()
    for col in ("mql_time", "sal_time", "first_touch_time"):
        assert data.outcomes[col].dropna().str.match(ISO_Z).all()
    assert data.truth.propensity.min() >= 0 and data.truth.propensity.max() <= 1


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = generate(300, 5, tmp_path / "a", events_format="csv")
    b = generate(300, 5, tmp_path / "b", events_format="csv")
    c = generate(300, 6, tmp_path / "c", events_format="csv")
    for name in ("accounts.csv", "leads.csv", "events.csv", "outcomes.csv", "truth.csv"):
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    assert a.leads.read_bytes() != c.leads.read_bytes()
    pa_, pb = generate(300, 5, tmp_path / "pa"), generate(300, 5, tmp_path / "pb")
    assert pa_.events.read_bytes() == pb.events.read_bytes()


def test_timestamps_lie_in_the_18_months_before_as_of(data: Data) -> None:
    as_of = pd.Timestamp(DEFAULT_AS_OF)
    ts = data.events.timestamp
    assert ts.max() <= as_of
    assert ts.min() >= as_of - pd.Timedelta(days=560)
    assert ts.max() - ts.min() > pd.Timedelta(days=500)
    created = pd.to_datetime(data.leads.set_index("lead_id").created_at)
    lead_created = created.loc[data.events.lead_id].reset_index(drop=True)
    assert (ts.reset_index(drop=True) >= lead_created).all()
    assert created.max() <= as_of
    for col in ("mql_time", "sal_time", "sql_time", "opportunity_time", "closed_time"):
        assert pd.to_datetime(data.outcomes[col].dropna()).max() <= as_of


def test_as_of_moves_the_whole_data_set(tmp_path: Path) -> None:
    as_of = datetime(2025, 3, 15, 12, tzinfo=UTC)
    r = generate(200, 1, tmp_path, as_of=as_of)
    ts = pd.to_datetime(pq.read_table(r.events).column("timestamp").to_pandas())
    assert ts.max() <= pd.Timestamp(as_of)
    assert ts.min() >= pd.Timestamp(as_of - timedelta(days=560))
    assert r.as_of == as_of


def test_the_three_event_formats_hold_the_same_events(tmp_path: Path) -> None:
    seen = {}
    for fmt in ("parquet", "csv", "jsonl"):
        r = generate(150, 3, tmp_path / fmt, events_format=fmt)
        assert r.events.name == f"events.{fmt}"
        seen[fmt] = read_events(r.events)
    assert seen["parquet"] == seen["csv"] == seen["jsonl"]
    assert len(seen["csv"]) > 150


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_leads": 0}, r"leads: must be a whole number of at least 1, got 0"),
        ({"n_leads": -5}, r"got -5"),
        ({"seed": -1}, r"seed: must be a whole number"),
        ({"events_format": "xml"}, r"format: expected one of parquet, csv, jsonl, got 'xml'"),
    ],
)
def test_bad_options_raise_synth_error(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {"n_leads": 10, "seed": 1, "out_dir": tmp_path / "out", **kwargs}
    with pytest.raises(SynthError, match=message):
        generate(**args)
    assert not (tmp_path / "out").exists()


def test_unwritable_out_is_a_user_error_and_leaves_nothing(tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(SynthError, match=r"file.txt exists and is not a folder"):
        generate(10, 1, a_file)
    with pytest.raises(SynthError, match=r"cannot write to .*file.txt/sub: Not a directory"):
        generate(10, 1, a_file / "sub")
    r = generate(10, 1, tmp_path / "ok")
    assert [p.name for p in r.out_dir.iterdir() if p.name.startswith(".")] == []


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**63 - 1))
def test_any_small_count_and_seed_gives_a_consistent_data_set(
    tmp_path: Path, n: int, seed: int
) -> None:
    r = generate(n, seed, tmp_path / f"{n}-{seed}", events_format="csv")
    leads = pd.read_csv(r.leads)
    events = pd.read_csv(r.events)
    assert len(leads) == n and leads.lead_id.is_unique
    assert set(events.lead_id) <= set(leads.lead_id) and len(events) == r.n_events
    assert len(pd.read_csv(r.outcomes)) == r.n_handed and len(pd.read_csv(r.truth)) == n


def test_as_of_outside_the_supported_years_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match=r"as_of: must be in the years 2000 to 2199"):
        generate(10, 1, tmp_path, as_of=datetime(1970, 6, 1, tzinfo=UTC))
