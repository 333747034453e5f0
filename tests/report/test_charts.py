"""Charts are real files: PNG with the PNG signature and pixels, SVG with an <svg> root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _overlaps(a: Any, b: Any) -> bool:
    return bool(a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1)


def test_a_group_without_data_has_no_interval_but_a_label() -> None:
    from leadgate.report.charts import conversion_figure
    from leadgate.report.stats import Rate

    rows = [("web", Rate(3, 10)), ("events", Rate(0, 0)), ("list", Rate(1, 4))]
    fig = conversion_figure(rows, title="t")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    empty = labels.index("events\n(n=0)")
    assert [t.get_text() for t in ax.texts] == ["no data"]
    assert ax.texts[0].get_position()[0] == empty
    # the interval lines: one per measured group, none at the empty group's position
    (bars,) = [c for c in ax.collections if len(c.get_segments()) == 2]
    xs = {round(seg[0][0], 6) for seg in bars.get_segments()}
    assert empty not in xs and len(xs) == 2
    assert ax.patches[empty].get_height() == 0


def test_legends_sit_outside_the_plot_area() -> None:
    from leadgate.report.charts import speed_figure

    fig = speed_figure(speed_report(_frame()))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    for ax in fig.axes:
        assert not _overlaps(box, ax.get_window_extent(renderer))
        for label in ax.get_xticklabels():  # nor over the bucket names under the plot
            assert not _overlaps(box, label.get_window_extent(renderer))


def test_titles_say_what_is_grouped_and_pooled() -> None:
    from leadgate.report.charts import funnel_figure, scope

    assert scope(["channel"], ["1", "2"]) == "by channel · model versions 1, 2 pooled"
    assert scope(["channel", "model_version"], ["1", "2"]) == "by channel and model version"
    assert scope([], ["3"]) == "model version 3"
    fig = funnel_figure(funnel_report(_frame(), ["channel"]))
    assert fig.axes[0].get_title().startswith("Funnel, all leads · model version ")
