"""The reference model on synthetic data: a realistic MQL share, and MQLs that convert better."""

from __future__ import annotations

from collections import defaultdict
from importlib.resources import files

import pandas as pd
import pytest

from leadgate.engine import compile_model, score_lead
from leadgate.io.readers import read_events, read_leads
from leadgate.model import load_model

from .conftest import Data


@pytest.fixture(scope="module")
def scored(data: Data) -> pd.DataFrame:
    model = load_model(files("leadgate") / "examples" / "b2b-inbound.yaml")
    plan = compile_model(model)
    events = defaultdict(list)
    for e in read_events(data.result.events):
        events[e.lead_id].append(e)
    rows = []
    for lead in read_leads(data.result.leads):
        s = score_lead(plan, lead, events[lead["lead_id"]], data.result.as_of)
        rows.append({"lead_id": s.lead_id, "mql": s.mql, "total": s.total})
    df = pd.DataFrame(rows).merge(data.truth, on="lead_id")
    return df.merge(data.outcomes, on="lead_id", how="left")


def test_a_realistic_share_of_leads_are_mqls(scored: pd.DataFrame) -> None:
    assert 0.04 <= scored.mql.mean() <= 0.15


def test_mqls_convert_much_better_than_the_rest(scored: pd.DataFrame) -> None:
    mql, rest = scored[scored.mql], scored[~scored.mql]
    assert mql.propensity.mean() > 3 * rest.propensity.mean()
    assert mql.would_win.mean() > 3 * rest.would_win.mean()
    handed = scored[scored.handed_to_sales == 1]
    won = handed.outcome == "won"
    assert won[handed.mql].mean() > 1.5 * won[~handed.mql].mean()


def test_the_models_knock_outs_hit_the_flawed_leads(scored: pd.DataFrame) -> None:
    assert not scored.mql[scored.flaw == "competitor"].any()
    assert scored.mql[scored.flaw == "student"].mean() < 0.05
