"""Speed to lead: time to first touch, SLA breaches, conversion by response bucket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from report_builders import at, cycle, lead, make_frame

from leadgate.report.speed import bucket_of, speed_report


@pytest.mark.parametrize(
    ("hours", "bucket"),
    [(0.0, "<1h"), (0.99, "<1h"), (1.0, "1-24h"), (23.9, "1-24h"), (24.0, "24-48h"),
     (47.99, "24-48h"), (48.0, ">48h"), (500.0, ">48h"), (None, "never touched")],
)  # fmt: skip
def test_buckets(hours: float | None, bucket: str) -> None:
    assert bucket_of(hours) == bucket


def test_distribution_breaches_and_conversion_by_bucket() -> None:
    def c(i: int, hours: float | None, stage: str, sla: float = 24.0) -> dict:  # type: ignore[type-arg]
        touch = None if hours is None else at(1) + timedelta(hours=hours)
        return cycle(f"L{i}", stage, mql=at(1), first_touch_time=touch, sla_hours=sla)

    cycles = [
        c(0, 0.5, "won"), c(1, 0.5, "sql"), c(2, 2.0, "sql"), c(3, 10.0, "mql"),
        c(4, 30.0, "rejected"), c(5, 72.0, "mql"), c(6, None, "mql"),
        c(7, 5.0, "mql", sla=4.0),  # enterprise SLA of 4 h: 5 h is late
    ]  # fmt: skip
    f = make_frame([lead(f"L{i}") for i in range(8)], cycles)
    report = speed_report(f, as_of=at(30))
    assert report.mqls == 8 and report.touched == 7
    assert report.quantiles_hours["median"] == pytest.approx(5.0)
    assert report.breached_late == 3  # 30 h, 72 h, and 5 h against a 4 h SLA
    assert report.breached_untouched == 1
    assert report.sla_breaches == 4
    b = {x.bucket: x for x in report.buckets}
    assert (b["<1h"].mqls, b["<1h"].mql_sql.k, b["<1h"].mql_won.k) == (2, 2, 1)
    assert (b["1-24h"].mqls, b["1-24h"].mql_sql.k) == (3, 1)
    assert b["24-48h"].mqls == 1 and b[">48h"].mqls == 1 and b["never touched"].mqls == 1


def test_untouched_mql_within_its_sla_is_not_a_breach_yet() -> None:
    f = make_frame([lead("A")], [cycle("A", "mql", mql=at(1), first_touch_time=None)])
    assert speed_report(f, as_of=at(1, hours=3)).sla_breaches == 0
    assert speed_report(f, as_of=at(3)).sla_breaches == 1
