"""SVG charts for the pages, drawn on the server: no JavaScript, no chart library, no CDN.

Each function returns ``Markup`` (safe to embed): every piece of text inside is escaped here, and
each chart has ``role="img"`` with a label; the numbers are always in a table beside it too.
Colours: the palette reads on white with a contrast of 4.5:1 or more for text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

INK, MUTED, GRID = "#1f2933", "#52606d", "#d9e2ec"
POS, NEG, CLIP, ACCENT, ALT = "#2f7d4f", "#b42318", "#8a6d00", "#1d4ed8", "#b45309"


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" class="chart">'
        f"<title>{escape(label)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12,
          fill: str = INK, weight: str = "normal") -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-weight="{weight}">{escape(text)}</text>'
    )


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.1f}"


@dataclass(frozen=True)
class Step:
    """One bar of a waterfall: a rule's points (or a dimension's clip) and what it says."""

    label: str
    dimension: str
    points: float
    kind: str  # rule | clip
    note: str = ""


def waterfall(
    steps: Sequence[Step], total: float, threshold: float | None, line: str = "MQL line"
) -> Markup:
    """Horizontal waterfall: each step starts where the previous ended; the last bar is the total;
    ``line`` names the threshold's dashed line."""
    rows = len(steps) + 1
    width, label_w, row_h, top = 760, 230, 24, 8
    height = top + rows * row_h + 24
    ends = [0.0]
    for s in steps:
        ends.append(ends[-1] + s.points)
    lo = min([*ends, 0.0, total])
    hi = max([*ends, total, threshold or 0.0, 1.0])
    span = hi - lo or 1.0
    plot = width - label_w - 60

    def x(v: float) -> float:
        return label_w + (v - lo) / span * plot

    body = [
        f'<line x1="{x(0):.1f}" y1="{top}" x2="{x(0):.1f}" y2="{height - 20}" stroke="{GRID}"/>'
    ]
    for i, s in enumerate(steps):
        y = top + i * row_h
        a, b = ends[i], ends[i + 1]
        colour = CLIP if s.kind == "clip" else (POS if s.points >= 0 else NEG)
        body.append(
            f'<rect x="{min(x(a), x(b)):.1f}" y="{y + 4}" width="{max(abs(x(b) - x(a)), 1.5):.1f}" '
            f'height="{row_h - 8}" fill="{colour}"/>'
        )
        name = s.label if len(s.label) <= 32 else s.label[:31] + "…"
        body.append(_text(label_w - 8, y + row_h - 8, name, anchor="end"))
        sign = "+" if s.points >= 0 else "−"
        body.append(_text(max(x(a), x(b)) + 4, y + row_h - 8, f"{sign}{_fmt(abs(s.points))}",
                          fill=MUTED, size=11))  # fmt: skip
    y = top + len(steps) * row_h
    body.append(
        f'<rect x="{min(x(0), x(total)):.1f}" y="{y + 4}" width="{max(abs(x(total) - x(0)), 1.5):.1f}" '
        f'height="{row_h - 8}" fill="{ACCENT}"/>'
    )
    body.append(_text(label_w - 8, y + row_h - 8, "total", anchor="end", weight="bold"))
    body.append(_text(max(x(0), x(total)) + 4, y + row_h - 8, _fmt(total), weight="bold"))
    if threshold is not None:
        tx = x(threshold)
        body.append(
            f'<line x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" y2="{height - 20}" stroke="{INK}" '
            f'stroke-dasharray="4 3"/>'
        )
        body.append(_text(tx, height - 6, f"{line} {_fmt(threshold)}", anchor="middle", size=11))
    return _svg(width, height, f"Score waterfall: {len(steps)} steps to a total of {_fmt(total)}",
                body)  # fmt: skip


def score_history(
    points: Sequence[tuple[datetime, float]],
    model_marks: Sequence[tuple[datetime, str]],
    threshold: float | None,
) -> Markup:
    """The total over time (a step line), the MQL line, and a mark at each model-version change."""
    width, height, left, right, top, bottom = 760, 240, 44, 16, 16, 40
    if not points:
        return _svg(width, 40, "No score history yet", [_text(8, 24, "No score history yet.")])
    t0 = min(p[0] for p in points).timestamp()
    t1 = max(p[0] for p in points).timestamp()
    t1 = t1 if t1 > t0 else t0 + 86400
    values = [p[1] for p in points] + ([threshold] if threshold is not None else [])
    lo, hi = min([*values, 0.0]), max([*values, 1.0])
    span = hi - lo or 1.0

    def x(t: datetime) -> float:
        return left + (t.timestamp() - t0) / (t1 - t0) * (width - left - right)

    def y(v: float) -> float:
        return top + (hi - v) / span * (height - top - bottom)

    body = []
    for frac in (0.0, 0.5, 1.0):
        v = lo + frac * span
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                    f'stroke="{GRID}"/>')  # fmt: skip
        body.append(_text(left - 6, y(v) + 4, _fmt(v), anchor="end", size=11, fill=MUTED))
    (first_t, first_v), rest = points[0], points[1:]
    path = [f"M{x(first_t):.1f},{y(first_v):.1f}"]
    path += [f"H{x(t):.1f} V{y(v):.1f}" for t, v in rest]  # a score holds until the next one
    path.append(f"H{width - right}")
    body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    for t, v in points:
        body.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2.5" fill="{ACCENT}"/>')
    if threshold is not None:
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y(threshold):.1f}" '
                    f'y2="{y(threshold):.1f}" stroke="{INK}" stroke-dasharray="4 3"/>')  # fmt: skip
        body.append(_text(width - right, y(threshold) - 4, f"MQL line {_fmt(threshold)}",
                          anchor="end", size=11))  # fmt: skip
    for t, label in model_marks:
        mx = x(t)
        body.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" y2="{height - bottom}" '
                    f'stroke="{ALT}" stroke-width="1.5"/>')  # fmt: skip
        body.append(_text(mx + 3, top + 10, label, size=11, fill=ALT))
    first, last = min(p[0] for p in points), max(p[0] for p in points)
    body.append(_text(left, height - 12, f"{first:%Y-%m-%d}", size=11, fill=MUTED))
    body.append(_text(width - right, height - 12, f"{last:%Y-%m-%d}", anchor="end", size=11,
                      fill=MUTED))  # fmt: skip
    return _svg(width, height, f"Score over time: {len(points)} points, "
                f"{len(model_marks)} model changes", body)  # fmt: skip


def histogram(series: Sequence[tuple[str, Sequence[int]]], edges: Sequence[float]) -> Markup:
    """Side-by-side bars of several count series over the same bins (``edges``: n+1 values)."""
    width, height, left, bottom, top = 760, 240, 44, 40, 24
    bins = len(edges) - 1
    peak = max([max(c, default=0) for _, c in series] + [1])
    slot = (width - left - 8) / max(bins, 1)
    bar = slot * 0.8 / max(len(series), 1)
    colours = (MUTED, ACCENT, ALT)
    body = []
    for k, (name, counts) in enumerate(series):
        body.append(f'<rect x="{left + k * 150}" y="4" width="12" height="12" '
                    f'fill="{colours[k % 3]}"/>')  # fmt: skip
        body.append(_text(left + k * 150 + 16, 14, name, size=12))
        for i, n in enumerate(counts):
            h = n / peak * (height - top - bottom)
            bx = left + i * slot + slot * 0.1 + k * bar
            body.append(f'<rect x="{bx:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
                        f'height="{h:.1f}" fill="{colours[k % 3]}"><title>{escape(name)} '
                        f'{_fmt(edges[i])}–{_fmt(edges[i + 1])}: {n}</title></rect>')  # fmt: skip
    step = max(1, bins // 8)
    for i in range(0, bins + 1, step):
        body.append(_text(left + i * slot, height - bottom + 14, _fmt(edges[i]), anchor="middle",
                          size=11, fill=MUTED))  # fmt: skip
    body.append(_text(left - 6, top + 8, str(peak), anchor="end", size=11, fill=MUTED))
    body.append(f'<line x1="{left}" x2="{width - 8}" y1="{height - bottom}" '
                f'y2="{height - bottom}" stroke="{GRID}"/>')  # fmt: skip
    return _svg(width, height, "Score distribution: " + ", ".join(n for n, _ in series), body)


def rate_bars(rows: Sequence[tuple[str, float | None, float, float]], title: str) -> Markup:
    """One bar per row (``label, rate, lo, hi``) with its Wilson interval as a whisker."""
    row_h, label_w, width = 26, 200, 760
    height = 20 + len(rows) * row_h + 10
    plot = width - label_w - 70
    body = [_text(label_w, 14, "0%", size=11, fill=MUTED),
            _text(label_w + plot, 14, "100%", anchor="end", size=11, fill=MUTED)]  # fmt: skip
    for i, (label, rate, lo, hi) in enumerate(rows):
        y = 20 + i * row_h
        name = label if len(label) <= 28 else label[:27] + "…"
        body.append(_text(label_w - 8, y + 16, name, anchor="end"))
        if rate is None:
            body.append(_text(label_w + 4, y + 16, "no data", size=11, fill=MUTED))
            continue
        body.append(f'<rect x="{label_w}" y="{y + 5}" width="{rate * plot:.1f}" height="14" '
                    f'fill="{ACCENT}"/>')  # fmt: skip
        body.append(f'<line x1="{label_w + lo * plot:.1f}" x2="{label_w + hi * plot:.1f}" '
                    f'y1="{y + 12}" y2="{y + 12}" stroke="{INK}" stroke-width="2"/>')  # fmt: skip
        for edge in (lo, hi):
            body.append(f'<line x1="{label_w + edge * plot:.1f}" x2="{label_w + edge * plot:.1f}" '
                        f'y1="{y + 7}" y2="{y + 17}" stroke="{INK}" stroke-width="2"/>')  # fmt: skip
        body.append(_text(label_w + hi * plot + 6, y + 16, f"{100 * rate:.1f}%", size=11))
    return _svg(width, height, title, body)


def curve(points: Sequence[tuple[float, float]], mark: float | None, x_label: str,
          y_label: str, title: str) -> Markup:  # fmt: skip
    """A line through ``points`` (x, y in 0..1 for y) with a vertical mark at ``mark``."""
    width, height, left, bottom, top, right = 760, 240, 48, 36, 12, 16
    if not points:
        return _svg(width, 40, title, [_text(8, 24, "No data.")])
    xs = [p[0] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def x(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (width - left - right)

    def y(v: float) -> float:
        return top + (1 - v) * (height - top - bottom)

    body = [f'<line x1="{left}" x2="{width - right}" y1="{y(f):.1f}" y2="{y(f):.1f}" '
            f'stroke="{GRID}"/>' for f in (0, 0.5, 1)]  # fmt: skip
    body += [_text(left - 6, y(f) + 4, f"{100 * f:.0f}%", anchor="end", size=11, fill=MUTED)
             for f in (0, 0.5, 1)]  # fmt: skip
    d = " ".join(
        f"{'M' if i == 0 else 'L'}{x(a):.1f},{y(b):.1f}" for i, (a, b) in enumerate(points)
    )
    body.append(f'<path d="{d}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    if mark is not None:
        body.append(f'<line x1="{x(mark):.1f}" x2="{x(mark):.1f}" y1="{top}" '
                    f'y2="{height - bottom}" stroke="{ALT}" stroke-dasharray="4 3"/>')  # fmt: skip
        body.append(_text(x(mark) + 4, top + 12, f"recommended {_fmt(mark)}", size=11, fill=ALT))
    body.append(_text(left, height - 10, f"{x_label} {_fmt(x0)}", size=11, fill=MUTED))
    body.append(_text(width - right, height - 10, _fmt(x1), anchor="end", size=11, fill=MUTED))
    body.append(_text(width / 2, height - 10, y_label, anchor="middle", size=11, fill=MUTED))
    return _svg(width, height, title, body)
