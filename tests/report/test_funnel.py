"""The funnel report on hand-built frames: exact counts, cohort logic, windows, versions."""

from __future__ import annotations

import pytest
from report_builders import at, cycle, lead, make_frame

from leadgate.errors import LeadgateError, NotFoundError
from leadgate.report.funnel import funnel_report


def _frame():  # type: ignore[no-untyped-def]
    # Channel "web": 5 leads, 4 MQLs: one rejected, one only SAL, one SQL, one won (2500).
    # Channel "list": 3 leads, 1 MQL, rejected.
    leads = [lead(f"W{i}", "web") for i in range(5)] + [lead(f"L{i}", "list") for i in range(3)]
    cycles = [
        cycle("W0", "rejected"),
        cycle("W1", "sal"),
        cycle("W2", "sql"),
        cycle("W3", "won", amount=2500.0),
        cycle("L0", "rejected"),
    ]
    return make_frame(leads, cycles, model_version="1")


def test_counts_and_rates_per_channel_are_exact() -> None:
    report = funnel_report(_frame(), ["channel"])
    rows = {r.group["channel"]: r for r in report.rows}
    web = rows["web"]
    assert web.counts == {"leads": 5, "mqls_of_leads": 4, "sqls_of_leads": 2, "wins_of_leads": 1,
                          "mqls": 4, "sals": 3, "sqls": 2, "opps": 1, "wins": 1}  # fmt: skip
    assert (web.rates["lead:won"].k, web.rates["lead:won"].n) == (1, 5)
    assert web.revenue == 2500.0
    assert (web.rates["lead:mql"].k, web.rates["lead:mql"].n) == (4, 5)
    assert (web.rates["mql:sal"].k, web.rates["mql:sal"].n) == (3, 4)
    assert (web.rates["sal:sql"].k, web.rates["sal:sql"].n) == (2, 3)
    assert (web.rates["mql:won"].k, web.rates["mql:won"].n) == (1, 4)
    lo, hi = web.rates["mql:won"].interval
    assert (round(lo, 4), round(hi, 4)) == (0.0456, 0.6994)
    assert rows["list"].counts["mqls"] == 1 and rows["list"].counts["sals"] == 0
    assert report.total.counts["leads"] == 8 and report.total.counts["mqls"] == 5
    assert report.versions == ["1"]


def test_records_carry_n_and_interval_for_every_rate() -> None:
    rec = funnel_report(_frame(), ["channel"]).records()[1]
    assert rec["channel"] == "web"
    assert rec["mql:sal"] == pytest.approx(0.75)
    assert rec["mql:sal_n"] == 4
    assert 0 < rec["mql:sal_lo"] < 0.75 < rec["mql:sal_hi"] < 1


def test_later_stages_imply_earlier_ones() -> None:
    # A won deal whose SQL and opportunity times were never recorded still reached them.
    f = make_frame([lead("A")], [{"lead_id": "A", "mql_time": at(1), "outcome": "won",
                                  "closed_time": at(40), "amount": 10.0}])  # fmt: skip
    row = funnel_report(f).rows[0]
    assert row.counts["sals"] == row.counts["sqls"] == row.counts["opps"] == row.counts["wins"] == 1


def test_cohorts_follow_mql_month_not_outcome_month() -> None:
    # Two January MQLs, one reaches SQL in March: January's cohort converts 1 of 2; nothing is
    # attributed to March, when the SQL happened.
    leads = [lead("A", created_at=at(0)), lead("B", created_at=at(0)),
             lead("C", created_at=at(40))]  # fmt: skip
    cycles = [
        cycle("A", "sql", mql=at(2), sql_time=at(60)),
        cycle("B", "mql", mql=at(3)),
        cycle("C", "mql", mql=at(41)),  # February
    ]
    rows = {r.group["cohort"]: r for r in funnel_report(make_frame(leads, cycles), ["cohort"]).rows}
    assert set(rows) == {"2026-01", "2026-02"}
    assert (rows["2026-01"].rates["mql:sql"].k, rows["2026-01"].rates["mql:sql"].n) == (1, 2)
    assert rows["2026-02"].counts["mqls"] == 1 and rows["2026-02"].counts["sqls"] == 0
    # The lead cohort is the month of creation: C was created in February.
    assert rows["2026-02"].counts["leads"] == 1 and rows["2026-01"].counts["leads"] == 2


def test_window_selects_mqls_by_mql_time_and_leads_by_creation() -> None:
    leads = [
        lead("A", created_at=at(0)),
        lead("B", created_at=at(20)),
        lead("C", created_at=at(20)),
    ]
    cycles = [cycle("A", "won", mql=at(25)), cycle("B", "mql", mql=at(5 + 20))]
    report = funnel_report(make_frame(leads, cycles), since=at(10), until=at(30))
    total = report.total.counts
    assert total["leads"] == 2  # B and C were created in the window, A was not
    assert total["mqls_of_leads"] == 1  # of B and C, B became an MQL
    assert total["mqls"] == 2  # A's and B's MQL times are in the window
    assert total["wins"] == 1


def test_versions_are_never_mixed_unless_asked() -> None:
    leads = [lead(f"A{i}") for i in range(4)]
    cycles = [cycle("A0", "won", model_version="1"), cycle("A1", "mql", model_version="1"),
              cycle("A2", "sql", model_version="2"), cycle("A3", "mql", model_version="2")]  # fmt: skip
    f = make_frame(leads, cycles)
    split = funnel_report(f, ["channel"])
    assert split.by == ["channel", "model_version"]
    assert split.versions == ["1", "2"] and not split.mixed
    assert {r.group["model_version"]: r.counts["mqls"] for r in split.rows} == {"1": 2, "2": 2}
    one = funnel_report(f, model_version="2")
    assert one.versions == ["2"] and one.total.counts["mqls"] == 2 and one.total.counts["sqls"] == 1
    pooled = funnel_report(f, mix_versions=True)
    assert pooled.mixed and pooled.by == [] and pooled.total.counts["mqls"] == 4


def test_version_filter_accepts_hash_prefix_and_names_missing_versions() -> None:
    f = make_frame([lead("A")], [cycle("A", "mql", model_version="3", model_hash="abcdef123456")])
    assert funnel_report(f, model_version="abcdef12").versions == ["3"]
    with pytest.raises(NotFoundError, match=r"model version '9' has no leads here \(versions: 3\)"):
        funnel_report(f, model_version="9")


def test_unknown_group_is_a_user_error() -> None:
    with pytest.raises(LeadgateError, match=r"by: unknown dimension 'colour' \(choose from "):
        funnel_report(_frame(), ["colour"])


def test_second_cycle_of_a_lead_is_its_own_row() -> None:
    f = make_frame([lead("A")], [cycle("A", "rejected", mql=at(1)), cycle("A", "won", mql=at(50))])
    assert sorted(f["cycle"]) == [1, 2]
    total = funnel_report(f).total.counts
    assert total["leads"] == 1 and total["mqls_of_leads"] == 1 and total["wins_of_leads"] == 1
    assert total["mqls"] == 2 and total["wins"] == 1
