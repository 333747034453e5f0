"""One lead's or one account's events (``io.owners``): a read that keeps only some owners' rows
gives exactly the rows, and line numbers, of a whole read filtered afterwards, in every format,
with text and numeric ids; and the explanations built on it equal those of a whole read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadgate.account_scoring import explain_account, read_account_inputs, score_accounts
from leadgate.engine.accounts_compile import compile_accounts
from leadgate.io.owners import Owners, id_text
from leadgate.io.readers import read_table
from leadgate.model import load_model
from leadgate.scoring import explain_lead, iter_scores, read_inputs
from leadgate.synth import generate
from leadgate.synth.abm import add_abm

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "leadgate" / "examples"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)

LEAD = st.sampled_from(["L1", "L2", "L3", "", None, 7, 7.0, 8])
ACCOUNT = st.sampled_from(["A1", "A2", "", None, 9])
ROW = st.fixed_dictionaries(
    {"lead_id": LEAD, "account_id": ACCOUNT, "n": st.integers(0, 5)},
)


def _write(path: Path, rows: list[dict[str, Any]], text_ids: bool) -> None:
    """``rows`` as an events file; ``text_ids``: ids written as text, else as numbers where
    the format has them (a Parquet float column; "L1" and "A1" become 1.0)."""

    def cell(v: Any) -> Any:
        return "" if v is None else (str(v) if text_ids else v)

    def number(v: Any) -> float | None:
        return None if v is None or v == "" else float(str(v).lstrip("LA"))

    ids = ("lead_id", "account_id")
    if path.suffix == ".csv":
        lines = ["lead_id,account_id,type,timestamp,n"]
        lines += [
            f"{cell(r['lead_id'])},{cell(r['account_id'])},visit,2026-01-01,{r['n']}" for r in rows
        ]
        path.write_text("\n".join(lines) + "\n")
    elif path.suffix == ".jsonl":
        dicts = [
            {**r, **{k: cell(r[k]) for k in ids}, "type": "visit", "timestamp": "2026-01-01"}
            for r in rows
        ]
        path.write_text("".join(json.dumps(d) + "\n" for d in dicts))
    else:
        columns = {
            k: pa.array([cell(r[k]) for r in rows], pa.string())
            if text_ids
            else pa.array([number(r[k]) for r in rows], pa.float64())
            for k in ids
        }
        table = pa.table({**columns, "type": ["visit"] * len(rows), "n": [r["n"] for r in rows]})
        pq.write_table(table, path, row_group_size=3)  # several batches: numbering across them


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(ROW, max_size=25),
    kind=st.sampled_from(["csv", "jsonl", "parquet"]),
    text_ids=st.booleans(),
    leads=st.sets(st.sampled_from(["L1", "L2", "7", "8", "1"])),
    accounts=st.sets(st.sampled_from(["A1", "9", "2"])),
)
def test_a_read_of_some_owners_is_the_whole_read_filtered(
    tmp_path: Path, rows: list[dict[str, Any]], kind: str, text_ids: bool,
    leads: set[str], accounts: set[str],
) -> None:  # fmt: skip
    path = tmp_path / f"events.{kind}"
    _write(path, rows, text_ids)
    owners = Owners(frozenset(leads), frozenset(accounts))
    whole = list(read_table(path))
    first = 2 if kind == "csv" else 1  # a CSV's header is line 1; Parquet counts rows
    assert [line for line, _ in whole] == list(range(first, first + len(rows)))
    expected = [
        (line, row)
        for line, row in whole
        if owners.keeps(row.get("lead_id"), row.get("account_id"))
    ]
    assert list(read_table(path, owners=owners)) == expected
    # what is kept is what the readers would make of the ids (io.readers._text_id)
    for _, row in expected:
        lead = id_text(row.get("lead_id"))
        assert lead in leads if lead is not None else id_text(row.get("account_id")) in accounts


def test_ids_compare_as_the_readers_make_them_text() -> None:
    assert id_text(7.0) == "7" and id_text(7) == "7" and id_text("07") == "07"
    assert id_text("") is None and id_text(None) is None and id_text(True) is None
    owners = Owners(frozenset({"7"}), frozenset({"A1"}))
    assert owners.keeps(7.0, None) and not owners.keeps(8, "A1") and owners.keeps("", "A1")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("owners-demo")
    generate(400, seed=11, out_dir=folder, product_led=True)
    add_abm(folder, seed=11)
    names = (
        "leads.csv",
        "events.parquet",
        "accounts.csv",
        "account_events.csv",
        "abm_accounts.csv",
    )
    return {n.split(".")[0]: folder / n for n in names}


def test_explaining_one_lead_reads_its_events_and_its_accounts_and_scores_as_a_whole_read(
    demo: dict[str, Path],
) -> None:
    # posthog-pql has scope: account measures: a lead's score reads its account's leads' events
    model = EXAMPLES / "posthog-pql.yaml"
    from leadgate.engine import compile_model

    plan = compile_model(load_model(model))
    inputs = read_inputs(demo["leads"], demo["events"], demo["accounts"])
    as_of = AS_OF
    whole = {s.lead_id: s for s in iter_scores(plan, inputs, as_of)}
    teams: dict[Any, int] = {}
    for p in inputs.leads:
        teams[p.get("account_id")] = teams.get(p.get("account_id"), 0) + 1
    picked = [p["lead_id"] for p in inputs.leads if teams[p.get("account_id")] > 1][:6]
    picked += [p["lead_id"] for p in inputs.leads][:3]
    assert len(picked) > 3, "some explained leads share their account"
    for lead_id in picked:
        one = explain_lead(
            model, demo["leads"], demo["events"], lead_id, as_of, accounts=demo["accounts"]
        )
        assert one.explanation.to_dict() == whole[lead_id].explanation.to_dict()
        assert one.total == whole[lead_id].total


def test_explaining_one_account_scores_as_a_whole_read(demo: dict[str, Path]) -> None:
    model = EXAMPLES / "b2b-abm.yaml"
    files = [demo["events"], demo["account_events"]]
    inputs = read_account_inputs(demo["leads"], files, demo["abm_accounts"])
    plan = compile_accounts(load_model(model))
    as_of = AS_OF
    for acct in [a["account_id"] for a in inputs.accounts][:5]:
        whole = score_accounts(plan, inputs, as_of, "python", account=acct)[0]
        one = explain_account(model, demo["leads"], files, demo["abm_accounts"], acct, as_of)
        assert one.total == whole.total and one.mqa == whole.mqa
        assert one.explanation == whole.explanation


def test_a_bad_row_of_the_explained_lead_is_named_and_others_are_not_read(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("lead_id,email,title\nL1,a@x.com,CTO\nL2,b@y.com,VP\n")
    events = tmp_path / "events.csv"
    events.write_text(
        "lead_id,type,timestamp\nL1,email_open,2026-01-01\nL2,email_open,not a time\n"
        "L1,email_open,2026-01-02\n"
    )
    model = EXAMPLES / "b2b-inbound.yaml"
    as_of = datetime(2026, 2, 1, tzinfo=UTC)
    ok = explain_lead(model, leads, events, "L1", as_of)
    assert ok.lead_id == "L1"
    from leadgate.errors import IngestError

    with pytest.raises(IngestError) as bad:
        explain_lead(model, leads, events, "L2", as_of)
    assert bad.value.line == 3 and bad.value.field == "timestamp"
