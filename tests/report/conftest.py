"""Fixtures of the report tests: one synthetic data set (generated once per session)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SYNTH_LEADS = 4000
SYNTH_SEED = 8


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``leadgate.synth.generate`` output: 4000 leads with events, outcomes and truth."""
    from leadgate.synth import generate

    return generate(SYNTH_LEADS, SYNTH_SEED, tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="session")
def synth_history(synth: Any) -> Any:
    from leadgate.report.history import history_from_files

    return history_from_files(synth.leads, synth.events, synth.outcomes, accounts=synth.accounts)


@pytest.fixture(scope="session")
def truth(synth: Any) -> Any:
    import pandas as pd

    return pd.read_csv(Path(synth.truth))
