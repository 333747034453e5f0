"""Threshold calibration: replay history under a model, sweep, recommend, write a new version.

1. Every lead is scored under the model at its own time (``report/history.py``).
2. The threshold (and, when asked, a common scale of the floors) is swept (``report/sweep.py``):
   over all leads with every segment's threshold moving together, then per segment.
3. The recommendation is the setting that meets the ``Target`` (default: SAL acceptance 60-75%)
   with the most MQL volume, measured on at least ``min_known`` MQLs with known outcomes that are
   at least ``min_coverage`` of its MQLs (rates measured on a small, self-selected part of the
   MQLs would be extrapolation: the old process chose who reached sales). When no
   setting meets it, the closest one is recommended and the result says the target was not met.
   Per segment, a segment with enough known outcomes gets its own threshold; the others move
   with the overall recommendation.
4. ``write_calibrated_model`` writes the result as a NEW model file with the version bumped; the
   original file is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from leadgate.engine import compile_model
from leadgate.errors import ConflictError, LeadgateError, OptionError
from leadgate.io.writers import check_output_path, write_text_output
from leadgate.model import Model, parse_model
from leadgate.model.edit import PathKey, edit_model_text
from leadgate.report.history import History, Progress, replay
from leadgate.report.stats import Rate
from leadgate.report.sweep import ScoredLeads, curve, metrics, qualifies, scored_leads

METRICS = ("sal_acceptance", "mql_sql", "mql_won", "precision", "recall", "lift", "mqls")
DEFAULT_TARGET = "sal_acceptance=0.60-0.75"
MIN_KNOWN = 30
MIN_COVERAGE = 0.5
FLOOR_SCALES = (0.5, 0.75, 1.0, 1.25, 1.5)

_TARGET = re.compile(
    r"^\s*(?P<metric>[a-z_]+)\s*(?:(?P<op>>=|<=|=)\s*(?P<a>[0-9.]+%?)(?:\s*(?:-|\.\.|:)\s*(?P<b>[0-9.]+%?))?)\s*$"
)


@dataclass(frozen=True)
class Target:
    """What the recommended setting must achieve: ``metric`` within ``[lo, hi]``."""

    metric: str
    lo: float | None
    hi: float | None

    @classmethod
    def parse(cls, text: str) -> Target:
        """``sal_acceptance=0.60-0.75``, ``mql_sql>=0.2``, ``precision>=30%``, ``mqls<=400``."""
        m = _TARGET.match(text.lower())
        if not m or m["metric"] not in METRICS:
            raise OptionError(
                "target",
                f"expected METRIC>=X, METRIC<=X or METRIC=LO-HI with METRIC one of "
                f"{', '.join(METRICS)}, got '{text}'",
            )

        def num(s: str) -> float:
            return float(s[:-1]) / 100 if s.endswith("%") else float(s)

        a = num(m["a"])
        if m["op"] == ">=":
            return cls(m["metric"], a, None)
        if m["op"] == "<=":
            return cls(m["metric"], None, a)
        b = num(m["b"]) if m["b"] else a
        if b < a:
            raise OptionError("target", f"the range {a}-{b} is empty (low above high)")
        return cls(m["metric"], a, b)

    def value(self, point: dict[str, Any]) -> float | None:
        v = point[self.metric]
        return v.value if isinstance(v, Rate) else v

    def distance(self, point: dict[str, Any]) -> float:
        """0 inside the band, else how far outside; infinite when the metric is undefined."""
        v = self.value(point)
        if v is None:
            return float("inf")
        if self.lo is not None and v < self.lo:
            return self.lo - v
        if self.hi is not None and v > self.hi:
            return v - self.hi
        return 0.0

    def __str__(self) -> str:
        if self.lo is not None and self.hi is not None:
            return f"{self.metric} in [{self.lo:g}, {self.hi:g}]"
        return (
            f"{self.metric} >= {self.lo:g}"
            if self.lo is not None
            else f"{self.metric} <= {self.hi:g}"
        )


def pick(
    points: Sequence[dict[str, Any]],
    target: Target,
    min_known: int = MIN_KNOWN,
    min_coverage: float = MIN_COVERAGE,
) -> tuple[dict[str, Any] | None, bool]:
    """The point meeting the target with the most MQLs (ties: nearest the current setting).

    Returns (point, met). For a rate target (SAL acceptance, MQL->SQL, MQL->won) a point counts
    only when at least ``min_known`` of its MQLs, and ``min_coverage`` of them, have known
    outcomes; when none meets the target, the closest such point is returned with ``met`` False.
    """

    def enough(p: dict[str, Any]) -> bool:
        if target.metric in ("mqls", "precision", "recall", "lift"):
            return True
        return p["known"] >= min_known and (p["coverage"] or 0.0) >= min_coverage

    eligible = [p for p in points if enough(p)]
    meeting = [p for p in eligible if target.distance(p) == 0.0]
    if meeting:
        return max(
            meeting, key=lambda p: (p["mqls"], -abs(p["delta"]), -abs(p["floor_scale"] - 1))
        ), True
    finite = [p for p in eligible if target.distance(p) != float("inf")]
    if not finite:
        return None, False
    return min(finite, key=lambda p: (target.distance(p), -p["mqls"])), False


@dataclass
class SegmentChoice:
    segment: str
    current: float
    recommended: float
    met: bool
    own: bool  # chosen on the segment's own curve (else moved with the overall delta)
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class Calibration:
    """The result of a calibration run: curves, the recommendation, and before/after metrics."""

    model: dict[str, str]
    target: Target
    leads: int
    met: bool
    floor_scale: float
    thresholds: dict[str, float]  # segment -> recommended threshold
    current: dict[str, Any]
    recommended: dict[str, Any]
    curve: list[dict[str, Any]]
    segment_curves: dict[str, list[dict[str, Any]]]
    segments: list[SegmentChoice] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from leadgate.report.sweep import point_record

        return {
            "report": "calibration",
            "model": self.model,
            "target": str(self.target),
            "met": self.met,
            "leads": self.leads,
            "floor_scale": self.floor_scale,
            "thresholds": self.thresholds,
            "current": point_record(self.current),
            "recommended": point_record(self.recommended),
            "segments": [
                {"segment": s.segment, "current": s.current, "recommended": s.recommended,
                 "met": s.met, "own_curve": s.own, "before": point_record(s.before),
                 "after": point_record(s.after)}
                for s in self.segments
            ],
            "curve": [point_record(p) for p in self.curve],
        }  # fmt: skip


def calibrate(
    model: Model,
    history: History,
    *,
    target: Target | str = DEFAULT_TARGET,
    as_of: datetime | None = None,
    step: float = 1.0,
    sweep_floors: bool = False,
    per_segment: bool = True,
    min_known: int = MIN_KNOWN,
    min_coverage: float = MIN_COVERAGE,
    progress: Progress | None = None,
) -> Calibration:
    """Replay ``history`` under ``model``, sweep, and recommend thresholds meeting ``target``."""
    goal = Target.parse(target) if isinstance(target, str) else target
    if step <= 0:
        raise OptionError("step", f"must be positive, got {step}")
    plan = compile_model(model)
    scores = replay(plan, history, as_of=as_of, progress=progress)
    data = scored_leads(plan, scores, history.frame)
    scales = FLOOR_SCALES if sweep_floors else (1.0,)
    overall = curve(data, step=step, floor_scales=scales)
    best, met = pick(overall, goal, min_known, min_coverage)
    base = data.base_threshold
    if best is None:
        delta, scale = 0.0, 1.0
    else:
        delta, scale = best["delta"], best["floor_scale"]
    chosen = base + delta
    choices: list[SegmentChoice] = []
    seg_curves: dict[str, list[dict[str, Any]]] = {}
    for i, name in enumerate(data.segment_names):
        scope = data.seg == i
        if not scope.any():
            continue
        seg_curve = curve(data, step=step, floor_scales=(scale,), segment=name)
        seg_curves[name] = seg_curve
        own = False
        seg_met = met
        if per_segment and len(data.segment_names) > 1:
            seg_best, seg_ok = pick(seg_curve, goal, min_known, min_coverage)
            if seg_best is not None and seg_ok:
                chosen[i], own, seg_met = seg_best["threshold"], True, True
        choices.append(SegmentChoice(name, float(base[i]), float(chosen[i]), seg_met, own,
                                     metrics(data, qualifies(data, base), scope),
                                     metrics(data, qualifies(data, chosen, scale), scope)))  # fmt: skip
    final = metrics(data, qualifies(data, chosen, scale))
    final.update(threshold=float(chosen[-1]), delta=float(chosen[-1] - base[-1]), floor_scale=scale)
    current = metrics(data, qualifies(data, base))
    current.update(threshold=float(base[-1]), delta=0.0, floor_scale=1.0)
    return Calibration(
        model=model.identity(),
        target=goal,
        leads=len(data),
        met=goal.distance(final) == 0.0 if best is not None else False,
        floor_scale=scale,
        thresholds={n: float(chosen[i]) for i, n in enumerate(data.segment_names)},
        current=current,
        recommended=final,
        curve=overall,
        segment_curves=seg_curves,
        segments=choices,
    )


def bump_version(version: str) -> str:
    """The next version label: ``1`` -> ``2``, ``1.4`` -> ``1.5``, ``2026-q3`` -> ``2026-q4``,
    ``beta`` -> ``beta.2``."""
    m = re.search(r"(\d+)(\D*)$", version)
    if not m:
        return f"{version}.2"
    return f"{version[: m.start(1)]}{int(m.group(1)) + 1}{m.group(2)}"


def _round(x: float) -> float | int:
    r = round(float(x), 2)
    return int(r) if r == int(r) else r


def fresh_version(version: str, taken: Iterable[str] = ()) -> str:
    """The next version label after ``version`` that is not in ``taken`` (nor ``version``)."""
    used = {*taken, version}
    label = bump_version(version)
    while label in used:
        label = bump_version(label)
    return label


def calibrated_changes(model: Model, result: Calibration, version: str) -> dict[PathKey, Any]:
    """What calibration changes in the model, by YAML path: the version label, thresholds
    and (with a floor scale) floors; unchanged values are left as written by ``edit_model_text``."""
    spec = model.spec
    default = result.thresholds.get("default", spec.threshold)
    scale = result.floor_scale
    changes: dict[PathKey, Any] = {("version",): version, ("threshold",): _round(default)}
    changes.update({("floors", k): _round(v * scale) for k, v in spec.floors.items()})
    for i, seg in enumerate(spec.segments):
        t = result.thresholds.get(seg.name)
        if t is not None and (seg.threshold is not None or _round(t) != _round(default)):
            changes[("segments", i, "threshold")] = _round(t)
        for k, v in (seg.floors or {}).items():
            changes[("segments", i, "floors", k)] = _round(v * scale)
    return changes


def calibrated_model_text(
    model: Model, result: Calibration, version: str | None = None, source_text: str | None = None
) -> str:
    """The YAML of the recommended model: ``source_text`` (the model's own file, else the
    model's text as read from ``model.source``) edited in place, so a diff against it shows only
    the thresholds, floors and version label that changed (``model.edit``)."""
    label = version or bump_version(model.spec.version)
    if source_text is None:
        source = Path(model.source) if model.source else None
        if source is None or not source.is_file():
            raise LeadgateError("--model: the calibrated model needs the source model's YAML text")
        source_text = source.read_text(encoding="utf-8")
    return edit_model_text(source_text, calibrated_changes(model, result, label))


def calibration_target(
    model: Model, out: str | Path | None = None, taken: Iterable[str] = ()
) -> tuple[Path, str]:
    """Where the calibrated model goes and its version label, checked before any work.

    The label is the next one after the model's that is not ``taken`` (the labels published
    in the store) and, without ``out``, whose default file ``<stem>-v<label>.yaml`` beside the
    original does not exist yet.

    Raises:
        ConflictError: ``out`` is the original model file, or already exists.
        LeadgateError: ``out`` cannot be written (missing folder, a folder, no permission), or
            there is no ``out`` for a model that is not a file.
    """
    used = set(taken)
    source = Path(model.source) if getattr(model, "source", None) else None
    if out is None:
        if source is None or not source.is_file():
            raise OptionError("out", "name the file for the new model version")
        while True:
            version = fresh_version(model.spec.version, used)
            slug = re.sub(r"[^A-Za-z0-9._-]+", "-", version)
            path = source.with_name(f"{source.stem}-v{slug}.yaml")
            if not path.exists():
                break
            used.add(version)
    else:
        path, version = Path(out), fresh_version(model.spec.version, used)
    check_output_path(path)
    if source is not None and path.exists() and path.resolve() == source.resolve():
        raise ConflictError(
            f"{path}: refusing to overwrite the original model; choose another --out"
        )
    if path.exists():
        raise ConflictError(f"{path}: already exists; choose another --out or remove it")
    return path, version


def write_calibrated_model(
    model: Model, result: Calibration, out: str | Path | None = None, *,
    version: str | None = None, source_text: str | None = None, taken: Iterable[str] = (),
) -> tuple[Path, Model]:  # fmt: skip
    """Write the recommended model as a new file; return its path and the parsed model.

    The default path is ``<original stem>-v<new version>.yaml`` beside the original; the
    version label is a fresh one (``calibration_target``), unless ``version`` is given.

    Raises:
        ConflictError: ``out`` is the original model file, or already exists.
    """
    path, label = calibration_target(model, out, taken)
    text = calibrated_model_text(model, result, version or label, source_text)
    parse_model(text, str(path))  # a bug if this fails: it is our output
    write_text_output(path, text)
    return path, parse_model(text, str(path))


def chosen_array(result: Calibration, data: ScoredLeads) -> np.ndarray:
    """The recommended thresholds as an array in the plan's segment order (for charts/tests)."""
    return np.array([result.thresholds[n] for n in data.segment_names], dtype=float)
