"""Quality by channel: volume beside MQL->SQL and SAL acceptance, and the flags."""

from __future__ import annotations

from report_builders import cycle, lead, make_frame

from leadgate.report.quality import quality_report
from leadgate.report.stats import Rate


def _channel(name: str, n: int, accepted: int, sql: int) -> tuple[list, list]:  # type: ignore[type-arg]
    leads = [lead(f"{name}{i}", name) for i in range(n)]
    cycles = []
    for i in range(n):
        stage = "sql" if i < sql else "sal" if i < accepted else "rejected"
        cycles.append(cycle(f"{name}{i}", stage))
    return leads, cycles


def test_flags_loose_channels_and_acceptance_outside_band() -> None:
    parts = [
        _channel("good", 40, 28, 12),  # 70% accepted, 30% SQL: healthy
        _channel("loose", 30, 20, 2),  # 6.7% SQL: too loose
        _channel("picky", 25, 10, 5),  # 40% accepted: sales rejects too many
        _channel("easy", 20, 18, 10),  # 90% accepted: the bar may be too high
        _channel("tiny", 3, 0, 0),  # too few to judge
    ]
    leads = [x for p in parts for x in p[0]]
    cycles = [x for p in parts for x in p[1]]
    report = quality_report(make_frame(leads, cycles))
    rows = {r.group["channel"]: r for r in report.rows}
    assert [r.group["channel"] for r in report.rows] == ["good", "loose", "picky", "easy", "tiny"]
    assert rows["good"].flags == []
    assert rows["good"].share == 40 / 118
    assert (rows["good"].mql_sql.k, rows["good"].mql_sql.n) == (12, 40)
    assert rows["loose"].flags == ["MQL->SQL 6.7% < 10%: criteria too loose"]
    assert rows["picky"].flags == ["SAL acceptance 40.0% < 60%: sales rejects too many"]
    assert rows["easy"].flags == ["SAL acceptance 90.0% > 75%: bar may be too high"]
    assert rows["tiny"].flags == ["low n (3 MQLs)"]


def test_pending_decisions_do_not_count_as_rejections() -> None:
    leads = [lead(f"A{i}") for i in range(4)]
    cycles = [cycle("A0", "sal"), cycle("A1", "sal"), cycle("A2", "rejected"), cycle("A3", "mql")]
    row = quality_report(make_frame(leads, cycles), min_n=1).rows[0]
    assert row.sal_acceptance == Rate(2, 3)
    assert row.mqls == 4
