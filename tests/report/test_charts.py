"""Charts are real files: PNG with the PNG signature and pixels, SVG with an <svg> root."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_builders import at, cycle, lead, make_frame

from leadgate.errors import LeadgateError
from leadgate.model import parse_model
from leadgate.report.calibrate import calibrate
from leadgate.report.charts import conversion_chart, funnel_chart, speed_chart, tradeoff_chart
from leadgate.report.funnel import funnel_report
from leadgate.report.history import History
from leadgate.report.speed import speed_report

PNG = b"\x89PNG\r\n\x1a\n"


def _frame():  # type: ignore[no-untyped-def]
    leads = [lead(f"A{i}", "web" if i % 2 else "list") for i in range(12)]
    stages = ["won", "sql", "rejected", "sal", "mql", "opp", "lost", "rejected"]
    return make_frame(leads, [cycle(f"A{i}", s) for i, s in enumerate(stages)])


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_funnel_and_conversion_charts_png(tmp_path: Path) -> None:
    report = funnel_report(_frame(), ["channel"])
    f = funnel_chart(report, tmp_path)
    c = conversion_chart([(r.group["channel"], r.rates["mql:sql"]) for r in report.rows], tmp_path)
    for path in (f, c):
        w, h = _png_size(path)
        assert w > 300 and h > 200
        assert path.stat().st_size > 5_000  # drawn content, not an empty canvas
    assert not list(tmp_path.glob(".*.tmp"))


def test_speed_chart_svg(tmp_path: Path) -> None:
    path = speed_chart(speed_report(_frame()), tmp_path / "sub", "svg")
    assert path.name == "speed_to_lead.svg"
    text = path.read_text()
    assert "<svg" in text and "</svg>" in text
    assert "Speed to lead" in text or "Speed" in text


def test_tradeoff_chart(tmp_path: Path) -> None:
    model = parse_model(
        "name: t\nversion: 1\nthreshold: 5\ndimensions:\n  fit:\n    rules:\n"
        "      - {name: r, when: {x: {gte: 1}}, points: 10}\n",
        str(tmp_path / "t.yaml"),
    )
    f = _frame()
    profiles = {i: {"lead_id": i, "x": n % 3} for n, i in enumerate(f["lead_id"])}
    result = calibrate(model, History(profiles, {}, f), as_of=at(100), min_known=1)
    w, h = _png_size(tradeoff_chart(result, tmp_path))
    assert w > 500 and h > 300


def test_unknown_format_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(LeadgateError, match="chart_format: expected png or svg, got 'gif'"):
        funnel_chart(funnel_report(_frame()), tmp_path, "gif")
