"""The MQA report (report/mqa.py) on a store of synthetic ABM data, against a direct count on the
synthetic files and their ground truth; the CLI and the HTTP route answer the same numbers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from abm_store import ABM_TIERS, AS_OF, AbmTruth, load_abm_store, make_abm_folder
from leadgate.report.mqa import mqa_report
from leadgate.report.mqa_store import account_frame_from_store, mqa_report_from_store, with_abm
from leadgate.report.stats import wilson
from leadgate.store import Store, open_store
from leadgate.store.schema import mql_cycles
from store_helpers import BACKENDS, temp_store_url


@pytest.fixture(scope="module", params=BACKENDS)
def abm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Store, AbmTruth]]:
    folder = make_abm_folder(tmp_path_factory.mktemp("mqa"))
    with temp_store_url(request.param, folder) as url, open_store(url) as store:
        truth = load_abm_store(folder, store)
        yield url, store, truth


def test_mqa_funnel_by_tier_matches_the_truth(abm: tuple[str, Store, AbmTruth]) -> None:
    _, store, truth = abm
    assert truth.mqas and truth.opportunities and truth.won  # the data exercises every stage
    report = mqa_report_from_store(store, by=["tier"])
    rows = {r.group["tier"]: r for r in report.rows}
    assert set(rows) == set(truth.tier.values())
    for tier, row in rows.items():
        mine = {a for a, t in truth.tier.items() if t == tier}
        mqas = [a for a in truth.mqas if a in mine]
        assert row.counts["accounts"] == len(mine)
        assert row.counts["mqas"] == row.counts["mqa_accounts"] == len(mqas)
        # account_outcomes.csv's opportunities and wins, of the accounts handed off
        assert row.counts["opps"] == len([a for a in mqas if a in truth.opportunities])
        assert row.counts["wins"] == len([a for a in mqas if a in truth.won])
        rate = row.rates["opp:won"]
        assert (rate.k, rate.n) == (row.counts["wins"], row.counts["opps"])
        assert rate.interval == wilson(rate.k, rate.n)  # the report's one Wilson
    assert report.total.counts["mqas"] == len(truth.mqas)


def test_handoffs_count_each_once(abm: tuple[str, Store, AbmTruth]) -> None:
    _, store, truth = abm
    report = mqa_report_from_store(store)
    by_kind = {h.group["handoff"]: h for h in report.handoffs}
    abm_accounts = {a for a, t in truth.tier.items() if t in ABM_TIERS}
    # ABM: one hand-off per MQA cycle of an ABM account (tier 1 or 2, the model's abm_when)
    abm_mqas = [a for a in truth.mqas if a in abm_accounts]
    assert by_kind["ABM (MQA)"].counts["handoffs"] == len(abm_mqas)
    assert by_kind["ABM (MQA)"].counts["wins"] == len([a for a in abm_mqas if a in truth.won])
    # inbound: the lead cycles of leads whose account is not ABM; the others are not counted
    with store.read() as conn:
        cycles = conn.execute(select(mql_cycles.c.lead_id)).scalars().all()
    of_abm = Counter(truth.lead_account[lead] in abm_accounts for lead in cycles)
    inbound = by_kind["inbound (MQL)"]
    assert inbound.counts["handoffs"] == of_abm[False] > 0
    assert report.not_counted == of_abm[True] > 0
    won = [o for o in truth.outcomes if o["outcome"] == "won"]
    assert inbound.counts["wins"] == len(
        [o for o in won if truth.lead_account[o["lead_id"]] not in abm_accounts]
    )
    total = by_kind["all hand-offs"].counts
    assert total["handoffs"] == inbound.counts["handoffs"] + len(abm_mqas)
    assert total["wins"] == inbound.counts["wins"] + by_kind["ABM (MQA)"].counts["wins"]


def test_leads_of_abm_accounts_are_abm_whatever_their_cycles_say(
    abm: tuple[str, Store, AbmTruth],
) -> None:
    """A lead cycle opened by its account's MQA (h2's ``abm_when`` hand-off) is the account's
    hand-off: never counted as inbound, even on a non-ABM account's lead."""
    from leadgate.report.store_frame import frame_from_store

    _, store, _ = abm
    accounts, lead_abm = account_frame_from_store(store)
    frame = with_abm(frame_from_store(store), lead_abm)
    before = mqa_report(accounts, frame)
    mqls = frame.index[frame["is_mql"] & ~frame["abm"]]
    relabelled = frame.copy()
    relabelled.loc[mqls[:3], "qualified_by"] = "mqa"
    after = mqa_report(accounts, relabelled)
    inbound = {h.group["handoff"]: h.counts["handoffs"] for h in after.handoffs}
    assert inbound["inbound (MQL)"] == before.handoffs[0].counts["handoffs"] - 3
    assert after.not_counted == before.not_counted + 3


def test_window_and_groups(abm: tuple[str, Store, AbmTruth]) -> None:
    _, store, truth = abm
    later = mqa_report_from_store(store, by=["segment", "abm"], since=AS_OF.replace(year=2030))
    assert later.total.counts["mqas"] == 0 and later.total.counts["accounts"] == 0
    report = mqa_report_from_store(store, by=["abm"])
    rows = {r.group["abm"]: r.counts["mqas"] for r in report.rows}
    assert rows["yes"] == len([a for a in truth.mqas if truth.tier[a] in ABM_TIERS])
    from leadgate.errors import OptionError

    with pytest.raises(OptionError, match="unknown dimension 'channel'"):
        mqa_report_from_store(store, by=["channel"])


def test_cli_and_http_answer_the_same(abm: tuple[str, Store, AbmTruth]) -> None:
    from fastapi.testclient import TestClient

    from api_helpers import Clock, bearer, role_keys
    from leadgate.api.app import create_app
    from leadgate.cli import _register
    from leadgate.cli import app as cli
    from leadgate.errors import OptionError

    if not any(g.name == "report" for g in cli.registered_groups):
        _register()

    url, store, _ = abm
    expected = json.loads(json.dumps(mqa_report_from_store(store, by=["tier"]).to_dict(),
                                     default=str))  # fmt: skip
    run = CliRunner().invoke(cli, ["report", "mqa", "--db", url, "--by", "tier", "-f", "json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout) == expected
    table = CliRunner().invoke(cli, ["report", "mqa", "--db", url], env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    assert "ABM (MQA)" in table.stdout and "inbound (MQL)" in table.stdout
    # the tables fit 80 columns (piped, the footnote wraps at 160)
    assert max(len(line) for line in table.stdout.splitlines() if "│" in line) <= 80
    bad = CliRunner().invoke(cli, ["report", "mqa", "--db", url, "--by", "colour"])
    assert isinstance(bad.exception, OptionError) and "colour" in str(bad.exception)
    api = create_app(url, clock=Clock(AS_OF))
    keys: dict[str, Any] = role_keys(api.state.config.store)
    client = TestClient(api)
    answer = client.get("/v1/reports/mqa", params={"by": "tier"}, headers=bearer(keys["sales"]))
    assert answer.status_code == 200, answer.text
    assert answer.json() == expected
    wrong = client.get("/v1/reports/mqa", params={"by": "x"}, headers=bearer(keys["sales"]))
    assert wrong.status_code == 422 and "by" in wrong.text
    # a brace in the user's text is quoted, not read as a template (found by schemathesis: 500)
    brace = client.get("/v1/reports/mqa", params={"by": "}"}, headers=bearer(keys["sales"]))
    assert brace.status_code == 422 and "unknown dimension '}'" in brace.text
    api.state.config.store.close()


def test_empty_store_reports_zeros(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "empty.db")) as store:
        report = mqa_report_from_store(store, by=["tier"])
    assert report.rows == [] and report.total.counts["mqas"] == 0
    assert [h.counts["handoffs"] for h in report.handoffs] == [0, 0, 0]
    from leadgate.cli import _register
    from leadgate.cli import app as cli

    if not any(g.name == "report" for g in cli.registered_groups):
        _register()
    # The table of an empty store: a row of zeros per table, no traceback.
    run = CliRunner().invoke(cli, ["report", "mqa", "--db", str(tmp_path / "empty.db")])
    assert run.exit_code == 0, run.output
    assert "Traceback" not in run.output and "MQA funnel" in run.output
    assert "inbound (MQL)" in run.output
    # The lead funnel's twin table, grouped, on the same empty store.
    run = CliRunner().invoke(
        cli, ["report", "funnel", "--db", str(tmp_path / "empty.db"), "--by", "channel"]
    )
    assert run.exit_code == 0, run.output
    assert "Traceback" not in run.output and "Funnel" in run.output
