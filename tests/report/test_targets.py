"""The funnel-targets back-solve: arithmetic, rounding, rate parsing, measured rates per channel."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_builders import cycle, lead, make_frame

from leadgate.errors import LeadgateError
from leadgate.report.targets import back_solve, funnel_targets, parse_rates

RATES = "lead:mql=.2,mql:sal=.7,sal:sql=.5,sql:opp=.6,opp:won=.25"


def test_back_solve_by_hand() -> None:
    # 2,000,000 a year at 25,000 a deal = 80 wins a year, 20 a quarter.
    plan = funnel_targets(2_000_000, 25_000, rates=parse_rates(RATES), period="quarter")
    assert plan.wins_per_period == 20
    # 20 / .25 = 80 opps; 80 / .6 = 133.3 -> 134 SQLs; 134 / .5 = 268 SALs;
    # 268 / .7 = 382.9 -> 383 MQLs; 383 / .2 = 1915 leads.
    assert plan.total.need == {"leads": 1915, "mqls": 383, "sals": 268, "sqls": 134, "opps": 80,
                               "wins": 20}  # fmt: skip
    monthly = funnel_targets(2_000_000, 25_000, rates=parse_rates(RATES), period="month")
    assert monthly.wins_per_period == 7  # 166,667 / 25,000 = 6.67, rounded up
    assert monthly.revenue_per_period == pytest.approx(2_000_000 / 12)


def test_parse_rates_accepts_percentages_and_aliases() -> None:
    r = parse_rates("lead:mql=20%, mql:sal=0.7,sal:sql=.5,sql:opportunity=.6,opportunity:won=.25")
    assert r == {"lead:mql": 0.2, "mql:sal": 0.7, "sal:sql": 0.5, "sql:opp": 0.6, "opp:won": 0.25}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lead:mql=.2", r"rates: missing mql:sal, sal:sql, sql:opp, opp:won"),
        ("lead:sql=.2", r"rates: expected STEP=RATE with STEP one of lead:mql, "),
        (
            "lead:mql=1.5," + RATES.split(",", 1)[1],
            r"rates: lead:mql: a conversion rate must be in \(0, 1\], got 1.5",
        ),
        ("lead:mql=abc", r"rates: lead:mql: expected a number, got 'abc'"),
    ],
)
def test_bad_rates_are_user_errors(text: str, message: str) -> None:
    with pytest.raises(LeadgateError, match=message):
        parse_rates(text)


def test_bad_amounts_and_period() -> None:
    with pytest.raises(LeadgateError, match="revenue and deal_size must be positive"):
        funnel_targets(0, 10, rates=parse_rates(RATES))
    with pytest.raises(LeadgateError, match="period: expected year, quarter, month, got 'week'"):
        funnel_targets(10, 10, rates=parse_rates(RATES), period="week")


rate = st.floats(0.01, 1.0)


@given(st.integers(1, 500), rate, rate, rate, rate, rate)
def test_every_stage_is_enough_for_the_next(
    wins: int, a: float, b: float, c: float, d: float, e: float
) -> None:
    rates = {"lead:mql": a, "mql:sal": b, "sal:sql": c, "sql:opp": d, "opp:won": e}
    need = back_solve(wins, rates)
    stages = ["leads", "mqls", "sals", "sqls", "opps", "wins"]
    for before, after, step in zip(stages, stages[1:], rates, strict=False):
        n_before, n_after = need[before], need[after]
        assert n_before is not None and n_after is not None
        # Enough (at the expected rate) and not more than one extra.
        assert n_before * rates[step] >= n_after - 1e-6
        assert n_before == math.ceil(n_after / rates[step] - 1e-9)


def test_measured_rates_split_wins_by_channel() -> None:
    # web: 4 leads, 2 MQLs, both SAL, both SQL, both opp, 1 won. list: 4 leads, 1 MQL, nothing more.
    leads = [lead(f"W{i}", "web") for i in range(4)] + [lead(f"L{i}", "list") for i in range(4)]
    cycles = [cycle("W0", "won"), cycle("W1", "lost"), cycle("L0", "rejected")]
    plan = funnel_targets(120_000, 1_000, frame=make_frame(leads, cycles), period="year")
    assert plan.source == "measured" and plan.wins_per_period == 120
    assert plan.total.rates == {"lead:mql": 3 / 8, "mql:sal": 2 / 3, "sal:sql": 1.0, "sql:opp": 1.0,
                                "opp:won": 0.5}  # fmt: skip
    rows = {r.channel: r for r in plan.channels}
    assert rows["web"].share == 1.0 and rows["list"].share == 0.0
    # web: 120 wins / .5 = 240 opps = SQLs = SALs = MQLs; 240 / .5 = 480 leads.
    assert rows["web"].need == {"leads": 480, "mqls": 240, "sals": 240, "sqls": 240, "opps": 240,
                                "wins": 120}  # fmt: skip
    assert rows["list"].need["leads"] is None  # it never converted past MQL: cannot be solved


def test_without_rates_or_history_it_says_what_to_give() -> None:
    with pytest.raises(LeadgateError, match=r"targets: give rates, or history"):
        funnel_targets(10, 10)
