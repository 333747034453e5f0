"""The events checks of the DuckDB account stage name the row the Python reader names.

``batch/accounts_duckdb`` checks the lead rows through the lead query's ``bad_events`` count and
the other rows (account events, rows with no owner) in ``lg_ev_rest``; a full scan names the row
only when a count says one is bad. Each case puts one bad row in a CSV events file, among lead
and account events, and both executors must refuse it with the same one line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accounts_helpers import AS_OF, MODEL
from leadgate.account_scoring import score_account_files
from leadgate.errors import IngestError

GOOD = [
    "L1,,email_open,2026-10-01T00:00:00Z,",
    ",A1,page_view,2026-10-02T00:00:00Z,/pricing",
    "L2,,email_open,2026-10-03T00:00:00Z,",
]
BAD = {
    "lead row, no type": "L1,,,2026-10-04T00:00:00Z,",
    "lead row, blank type": "L2,,   ,2026-10-04T00:00:00Z,",
    "lead row, bad time": "L1,,email_open,yesterday,",
    "account row, no type": ",A1,,2026-10-04T00:00:00Z,/",
    "account row, bad time": ",A2,page_view,not a time,/",
    "no lead, no account": ",,page_view,2026-10-04T00:00:00Z,/",
}
# A model whose account plan reads no events: the account rows are checked all the same.
NO_ACCOUNT_EVENTS = re.sub(r"    intent:\n(      .*\n)+", "", MODEL)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("checks")
    (d / "model.yaml").write_text(MODEL, encoding="utf-8")
    assert "intent" not in NO_ACCOUNT_EVENTS.split("accounts:")[1]
    (d / "plain.yaml").write_text(NO_ACCOUNT_EVENTS, encoding="utf-8")
    (d / "leads.csv").write_text(
        "lead_id,account_id,title\nL1,A1,VP Sales\nL2,A2,Analyst\n", encoding="utf-8"
    )
    (d / "accounts.csv").write_text(
        "account_id,industry,tier\nA1,software,1\nA2,retail,3\n", encoding="utf-8"
    )
    return {"dir": d, "model": d / "model.yaml", "plain": d / "plain.yaml"}


def _refusal(inputs: dict[str, Path], model: Path, events: Path, engine: str) -> str:
    d = inputs["dir"]
    with pytest.raises(IngestError) as info:
        score_account_files(
            model, d / "leads.csv", events, d / "accounts.csv", AS_OF, engine=engine
        )
    return str(info.value)


@pytest.mark.parametrize("model", ["model", "plain"])
@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("where", [1, 4])
def test_a_bad_event_row_is_named_as_the_python_reader_names_it(
    inputs: dict[str, Path], case: str, where: int, model: str
) -> None:
    rows = [*GOOD]
    rows.insert(where - 1, BAD[case])
    events = inputs["dir"] / f"events-{model}-{where}-{case.replace(' ', '_')}.csv"
    events.write_text(
        "lead_id,account_id,type,timestamp,url\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    expected = _refusal(inputs, inputs[model], events, "python")
    assert f":{where + 1}:" in expected  # the header is line 1
    assert _refusal(inputs, inputs[model], events, "duckdb") == expected


def test_good_rows_pass_and_agree(inputs: dict[str, Path]) -> None:
    d = inputs["dir"]
    events = d / "good.csv"
    events.write_text("lead_id,account_id,type,timestamp,url\n" + "\n".join(GOOD) + "\n")
    scores = {
        engine: [
            s.to_record()
            for s in score_account_files(
                inputs["model"], d / "leads.csv", events, d / "accounts.csv", AS_OF, engine=engine
            )
        ]
        for engine in ("python", "duckdb")
    }
    assert scores["duckdb"] == scores["python"]
    assert len(scores["python"]) == 2


@pytest.mark.parametrize("leads", ["L1,A1,VP\nL1,A2,Analyst", "L1,A1,VP\n,A2,Analyst"])
@pytest.mark.parametrize("bad_events", [False, True])
def test_a_bad_leads_file_is_named_first(
    inputs: dict[str, Path], leads: str, bad_events: bool
) -> None:
    """The lead checks run on the lead query's rows; a bad leads file is still the refusal,
    whatever the events hold."""
    d = inputs["dir"]
    (d / "bad_leads.csv").write_text(f"lead_id,account_id,title\n{leads}\n", encoding="utf-8")
    rows = [*GOOD, *([BAD["account row, bad time"], BAD["lead row, bad time"]] * bad_events)]
    events = d / f"events-{bad_events}.csv"
    events.write_text("lead_id,account_id,type,timestamp,url\n" + "\n".join(rows) + "\n")
    refusals = []
    for engine in ("python", "duckdb"):
        with pytest.raises(IngestError) as info:
            score_account_files(
                inputs["model"], d / "bad_leads.csv", events, d / "accounts.csv", AS_OF,
                engine=engine,
            )  # fmt: skip
        refusals.append(str(info.value))
    assert "bad_leads.csv:3: lead_id" in refusals[0]
    assert refusals[1] == refusals[0]
