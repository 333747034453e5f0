"""One small synthetic data set shared by the synth tests (generated once per session)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from leadgate.synth import SynthResult, generate

N_LEADS = 2000
SEED = 11


@dataclass(frozen=True)
class Data:
    result: SynthResult
    accounts: pd.DataFrame
    leads: pd.DataFrame
    events: pd.DataFrame
    outcomes: pd.DataFrame
    truth: pd.DataFrame


def _csv(path: Path) -> pd.DataFrame:
    # keep_default_na=False + na_values=[""]: only empty cells are missing (not "NA" etc.)
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _events(path: Path) -> pd.DataFrame:
    events = pq.read_table(path).to_pandas()
    events["timestamp"] = pd.to_datetime(events.timestamp)
    return events


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    out = tmp_path_factory.mktemp("synth")
    result = generate(N_LEADS, SEED, out)
    return Data(
        result=result,
        accounts=_csv(result.accounts),
        leads=_csv(result.leads),
        events=_events(result.events),
        outcomes=_csv(result.outcomes),
        truth=_csv(result.truth),
    )
