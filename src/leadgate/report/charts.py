"""Charts of the reports, drawn offline with matplotlib's Agg backend as PNG or SVG files.

Four charts: the funnel (stage counts), conversion by group with Wilson interval bars, the
threshold trade-off curve of a calibration, and the speed-to-lead curve (conversion by response
bucket). Each ``*_chart`` function writes one file and returns its path (its ``*_figure`` twin
returns the drawing, unsaved); nothing opens a window or needs a display. matplotlib is the
``report`` extra: without it a ``LeadgateError`` says how to install it.

Every title says what the numbers are grouped by and which model versions they pool
(``scope``); a group without data gets no interval but a "no data" label (a 0-100% bar would
read as a measurement); legends sit outside the plot area, so they never cover data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leadgate.errors import LeadgateError, OptionError
from leadgate.io.writers import atomic_output, check_output_folder
from leadgate.report.calibrate import Calibration
from leadgate.report.funnel import FunnelReport
from leadgate.report.speed import SpeedReport
from leadgate.report.stats import Rate

FORMATS = ("png", "svg")
MIN_POINTS = 10
STAGE_LABELS = (
    ("leads", "Leads"),
    ("mqls", "MQLs"),
    ("sals", "SALs"),
    ("sqls", "SQLs"),
    ("opps", "Opportunities"),
    ("wins", "Won"),
)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise LeadgateError("charts need matplotlib: pip install 'leadgate[report]'") from None
    matplotlib.use("Agg", force=True)  # offline: never a GUI backend
    import matplotlib.pyplot as plt

    return plt


def _target(out_dir: str | Path, name: str, fmt: str) -> Path:
    if fmt not in FORMATS:
        raise OptionError("chart_format", f"expected png or svg, got '{fmt}'")
    folder = Path(out_dir)
    # The chart folder is the output itself, so it is made; the folder it goes in is not (as
    # for every output file: io.writers.check_output_path).
    check_output_folder(folder)
    folder.mkdir(exist_ok=True)
    return folder / f"{name}.{fmt}"


def _save(fig: Any, path: Path, *, tight: bool = True) -> Path:
    plt = _pyplot()
    if tight:
        fig.tight_layout()
    # Write beside the target and rename, so a failed render never leaves half a file.
    try:
        with atomic_output(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], dpi=120)
    finally:
        plt.close(fig)
    return path


def scope(by: Sequence[str], versions: Sequence[str]) -> str:
    """Title words for how a chart's numbers are grouped and which model versions they pool:
    ``by channel · model versions 1, 2 pooled``; nothing about versions when grouped by them."""
    parts = [f"by {' and '.join(b.replace('_', ' ') for b in by)}"] if by else []
    if "model_version" not in by and len(versions) > 1:
        parts.append(f"model versions {', '.join(versions)} pooled")
    elif "model_version" not in by and versions:
        parts.append(f"model version {versions[0]}")
    return " · ".join(parts)


def funnel_chart(report: FunnelReport, out_dir: str | Path, fmt: str = "png") -> Path:
    """Horizontal bars: leads, MQLs, SALs, SQLs, opportunities, won (the report's total)."""
    path = _target(out_dir, "funnel", fmt)
    return _save(funnel_figure(report), path)


def funnel_figure(report: FunnelReport) -> Any:
    """The funnel chart's figure: every lead of the report, all its groups and versions."""
    plt = _pyplot()
    counts = report.total.counts
    labels = [label for _, label in STAGE_LABELS]
    values = [counts["leads"], counts["mqls"], counts["sals"], counts["sqls"], counts["opps"],
              counts["wins"]]  # fmt: skip
    fig, ax = plt.subplots(figsize=(8, 4.5))
    bars = ax.barh(labels[::-1], values[::-1], color="#3b6ea5")
    for bar, value in zip(bars, values[::-1], strict=True):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:,}", va="center")
    # The total pools every group (and version) of the report: the title says so.
    pooled = scope([], report.versions) or "no model version"
    ax.set_title(f"Funnel, all leads · {pooled} · revenue {report.total.revenue:,.0f}")
    ax.set_xlabel("count (lead cohort for leads, MQL cohort for later stages)")
    ax.margins(x=0.15)
    return fig


def conversion_chart(
    rows: list[tuple[str, Rate]],
    out_dir: str | Path,
    fmt: str = "png",
    *,
    title: str = "MQL -> SQL by channel",
    name: str = "conversion_by_channel",
) -> Path:
    """One bar per group with its Wilson 95% interval as an error bar and ``n`` in the label."""
    path = _target(out_dir, name, fmt)
    return _save(conversion_figure(rows, title=title), path)


def conversion_figure(rows: list[tuple[str, Rate]], *, title: str) -> Any:
    """The conversion chart's figure; a group with n=0 has no bar or interval, only "no data"."""
    plt = _pyplot()
    rows = sorted(rows, key=lambda r: (-(r[1].n > 0), -(r[1].value or 0.0)))
    labels = [f"{g}\n(n={r.n})" for g, r in rows]
    values = [100 * (r.value or 0.0) for _, r in rows]
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(rows) + 2), 4.5))
    ax.bar(labels, values, color="#4c9a6a")
    measured = [i for i, (_, r) in enumerate(rows) if r.n]
    lo = [max(0.0, values[i] - 100 * rows[i][1].interval[0]) for i in measured]
    hi = [max(0.0, 100 * rows[i][1].interval[1] - values[i]) for i in measured]
    if measured:
        ax.errorbar(measured, [values[i] for i in measured], yerr=[lo, hi], fmt="none",
                    capsize=5, color="black")  # fmt: skip
    for i, (_, r) in enumerate(rows):
        if not r.n:
            ax.text(i, 1, "no data", ha="center", va="bottom", color="#777777", style="italic")
    if len(rows) > 6:  # long group names side by side would overlap
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    ax.set_ylabel("conversion, % (95% Wilson interval)")
    ax.set_title(title)
    tops = [values[i] + h for i, h in zip(measured, hi, strict=True)]
    ax.set_ylim(0, max([*tops, 10]) * 1.1)
    return fig


def tradeoff_chart(result: Calibration, out_dir: str | Path, fmt: str = "png") -> Path:
    """MQL volume and SAL acceptance / MQL->SQL / precision / recall against the threshold."""
    path = _target(out_dir, "threshold_tradeoff", fmt)
    return _save(tradeoff_figure(result), path, tight=False)


def tradeoff_figure(result: Calibration) -> Any:
    """The trade-off chart's figure; its legend sits below the plot."""
    plt = _pyplot()
    points = [p for p in result.curve if p["floor_scale"] == result.floor_scale]
    xs = [p["threshold"] for p in points]
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.plot(xs, [p["mqls"] for p in points], color="#3b6ea5", label="MQL volume")
    ax.set_xlabel("threshold (default segment; other segments move with it)")
    ax.set_ylabel("MQLs")
    ax2 = ax.twinx()
    for key, label, color in (
        ("sal_acceptance", "SAL acceptance", "#d17a22"),
        ("mql_sql", "MQL->SQL", "#4c9a6a"),
        ("precision", "precision (won)", "#8e44ad"),
        ("recall", "recall (won)", "#7f8c8d"),
    ):
        # Rates on fewer than MIN_POINTS known outcomes are noise: leave them out of the curve.
        ys = [_val(p[key]) if _n(p, key) >= MIN_POINTS else None for p in points]
        ax2.plot(
            xs, [100 * y if y is not None else float("nan") for y in ys], color=color, label=label
        )
    if result.target.metric in ("sal_acceptance", "mql_sql", "mql_won", "precision", "recall"):
        lo = 100 * (result.target.lo if result.target.lo is not None else 0.0)
        hi = 100 * (result.target.hi if result.target.hi is not None else 1.0)
        ax2.axhspan(lo, hi, color="#d17a22", alpha=0.12, label=f"target {result.target}")
    ax2.set_ylabel("%")
    ax2.set_ylim(0, 100)
    ax.axvline(result.current["threshold"], color="black", linestyle=":", label="current")
    ax.axvline(result.recommended["threshold"], color="red", linestyle="--", label="recommended")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    fig.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="lower center", ncol=4, fontsize=8)
    fig.subplots_adjust(bottom=0.25)
    ax.set_title(f"Threshold trade-off: {result.model['name']} v{result.model['version']}")
    return fig


def _n(point: dict[str, Any], key: str) -> int:
    v = point[key]
    return v.n if isinstance(v, Rate) else int(point["mqls"])


def _val(v: Any) -> float | None:
    return v.value if isinstance(v, Rate) else v


def speed_chart(report: SpeedReport, out_dir: str | Path, fmt: str = "png") -> Path:
    """Conversion (MQL->SQL, MQL->won) by response bucket, with intervals and MQLs per bucket."""
    path = _target(out_dir, "speed_to_lead", fmt)
    return _save(speed_figure(report), path, tight=False)  # laid out around its legend


def speed_figure(report: SpeedReport) -> Any:
    """The speed chart's figure; its legend sits below the plot, clear of every bucket."""
    plt = _pyplot()
    buckets = [b for b in report.buckets if b.mqls]
    xs = list(range(len(buckets)))
    fig, ax = plt.subplots(figsize=(8, 5))
    for key, label, color, shift in (("mql_sql", "MQL->SQL", "#4c9a6a", -0.05),
                                     ("mql_won", "MQL->won", "#3b6ea5", 0.05)):  # fmt: skip
        rates = [getattr(b, key) for b in buckets]
        ys = [100 * (r.value or 0.0) for r in rates]
        err = [
            [max(0.0, y - 100 * r.interval[0]) for y, r in zip(ys, rates, strict=True)],
            [max(0.0, 100 * r.interval[1] - y) for y, r in zip(ys, rates, strict=True)],
        ]
        ax.errorbar(
            [x + shift for x in xs], ys, yerr=err, marker="o", capsize=4, color=color, label=label
        )
    ax.set_xticks(xs, [f"{b.bucket}\n(n={b.mqls})" for b in buckets])
    ax.set_xlabel("time to first touch")
    ax.set_ylabel("conversion, % (95% Wilson interval)")
    median = report.quantiles_hours.get("median")
    med = f"median {median:.1f} h" if median is not None else "no touches"
    versions = scope([], report.versions)
    ax.set_title(
        f"Speed to lead: {med}, SLA breaches {report.sla_breaches}/{report.mqls}"
        + (f"\nall MQLs · {versions}" if versions else "")
    )
    ax.set_ylim(bottom=0)
    # Below the axes (under the tick labels), never over the first buckets' points.
    fig.legend(loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig
