"""Calibration on a constructed history: the threshold meeting the target, and the new file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_builders import at, cycle, lead, make_frame

from leadgate.errors import ConflictError, LeadgateError
from leadgate.model import load_model
from leadgate.model.edit import edit_model_text
from leadgate.report.calibrate import (
    Target,
    bump_version,
    calibrate,
    calibration_target,
    write_calibrated_model,
)
from leadgate.report.history import History

MODEL = """\
# tiered fit: a = 30, b = 20, c = 10 points
name: tiers
version: 3
threshold: 25
dimensions:
  fit:
    rules:
      - {name: tier a, when: {tier: {eq: a}}, points: 30}
      - {name: tier b, when: {tier: {eq: b}}, points: 20}
      - {name: tier c, when: {tier: {eq: c}}, points: 10}
"""


def _history() -> History:
    """30 leads handed to sales: tier a all accepted, tier b half, tier c one in ten.

    Acceptance by threshold: <= 10 (all): 16/30 = 53%; 11..20 (a+b): 15/20 = 75%; 21..30 (a):
    100%. Only 11..20 meets 60-75%; they make the same 20 MQLs, so the one nearest the current
    25 wins: 20.
    """
    profiles, leads, cycles = {}, [], []
    for tier, accepted in (("a", 10), ("b", 5), ("c", 1)):
        for i in range(10):
            lead_id = f"{tier}{i}"
            profiles[lead_id] = {"lead_id": lead_id, "tier": tier}
            leads.append(lead(lead_id))
            cycles.append(cycle(lead_id, "sql" if i < accepted else "rejected", mql=at(1)))
    return History(profiles, {}, make_frame(leads, cycles, model_version="3"))


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiers.yaml"
    path.write_text(MODEL)
    return path


def test_picks_the_threshold_meeting_the_target_with_most_volume(model_file: Path) -> None:
    result = calibrate(load_model(model_file), _history(), min_known=5)
    assert result.met
    assert result.thresholds == {"default": 20.0}
    assert result.recommended["mqls"] == 20
    assert (
        result.recommended["sal_acceptance"].k == 15
        and result.recommended["sal_acceptance"].n == 20
    )
    assert result.current["mqls"] == 10 and result.current["threshold"] == 25.0
    by_t = {p["threshold"]: p for p in result.curve}
    assert by_t[10.0]["mqls"] == 30 and by_t[10.0]["sal_acceptance"].value == pytest.approx(16 / 30)
    assert by_t[30.0]["mqls"] == 10 and by_t[31.0]["mqls"] == 0
    # precision against won deals: nobody won here
    assert by_t[10.0]["precision"] == 0.0 and by_t[10.0]["recall"] is None


def test_other_targets(model_file: Path) -> None:
    m, h = load_model(model_file), _history()
    strict = calibrate(m, h, target="sal_acceptance>=0.9", min_known=5)
    # 21..30 all make the same 10 MQLs (100%); the current 25 is among them and stays.
    assert strict.met and strict.thresholds == {"default": 25.0}
    volume = calibrate(m, h, target="mqls>=25", min_known=5)
    assert volume.met and volume.thresholds == {"default": 10.0}


def test_unreachable_target_returns_the_closest_and_says_so(model_file: Path) -> None:
    result = calibrate(
        load_model(model_file), _history(), target="sal_acceptance=0.2-0.3", min_known=5
    )
    assert not result.met
    assert result.recommended["mqls"] == 30  # 53% is the closest to 20-30%


def test_too_few_known_outcomes_cannot_meet_a_rate_target(model_file: Path) -> None:
    result = calibrate(load_model(model_file), _history(), min_known=100)
    assert not result.met


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("sal_acceptance=0.60-0.75", Target("sal_acceptance", 0.6, 0.75)),
        ("mql_sql>=0.2", Target("mql_sql", 0.2, None)),
        ("precision>=30%", Target("precision", 0.3, None)),
        ("mqls<=400", Target("mqls", None, 400)),
    ],
)
def test_target_syntax(text: str, target: Target) -> None:
    assert Target.parse(text) == target


def test_bad_target_is_a_user_error() -> None:
    with pytest.raises(LeadgateError, match=r"target: expected METRIC>=X, .* got 'speed>=3'"):
        Target.parse("speed>=3")
    with pytest.raises(LeadgateError, match=r"target: the range 0.8-0.2 is empty"):
        Target.parse("mql_sql=0.8-0.2")


@pytest.mark.parametrize(
    ("old", "new"),
    [("1", "2"), ("3", "4"), ("1.4", "1.5"), ("2026-q3", "2026-q4"), ("beta", "beta.2")],
)
def test_bump_version(old: str, new: str) -> None:
    assert bump_version(old) == new


def test_writes_a_new_valid_version_and_leaves_the_original(model_file: Path) -> None:
    before = model_file.read_bytes()
    model = load_model(model_file)
    result = calibrate(model, _history(), min_known=5)
    path, new = write_calibrated_model(model, result)
    assert path == model_file.with_name("tiers-v4.yaml")
    assert model_file.read_bytes() == before
    reloaded = load_model(path)
    assert reloaded.version == "4" and new.version == "4"
    assert reloaded.spec.threshold == 20
    assert reloaded.hash != model.hash
    assert reloaded.spec.dimensions == model.spec.dimensions
    # A round-trip edit: the sign-off diff is the two values that changed, comments kept.
    changed = [
        (old, new)
        for old, new in zip(MODEL.splitlines(), path.read_text().splitlines(), strict=True)
        if old != new
    ]
    assert changed == [("version: 3", "version: 4"), ("threshold: 25", "threshold: 20")]
    # Never overwrite: neither the original nor an existing file.
    with pytest.raises(ConflictError, match="refusing to overwrite the original model"):
        write_calibrated_model(model, result, model_file)
    with pytest.raises(ConflictError, match=r"tiers-v4\.yaml: already exists"):
        write_calibrated_model(model, result, path)
    # Calibrating again: a fresh label and file, never v4 a second time.
    again, newer = write_calibrated_model(model, result)
    assert again == model_file.with_name("tiers-v5.yaml") and newer.version == "5"
    assert model_file.read_bytes() == before


def test_the_new_version_label_is_one_not_taken(model_file: Path) -> None:
    # v4 is published already (and a tiers-v5.yaml lies beside the model): the new one is v6.
    (model_file.parent / "tiers-v5.yaml").write_text("taken")
    model = load_model(model_file)
    assert calibration_target(model, taken={"4"}) == (model_file.with_name("tiers-v6.yaml"), "6")
    assert calibration_target(model, model_file.parent / "x.yaml", taken={"4", "5"})[1] == "6"
    with pytest.raises(LeadgateError, match=r"nowhere/x\.yaml: folder .*nowhere does not exist"):
        calibration_target(model, model_file.parent / "nowhere" / "x.yaml")
    with pytest.raises(LeadgateError, match=r"is a folder"):
        calibration_target(model, model_file.parent)


@given(
    threshold=st.sampled_from(["60", "60.0", "60.5", "7"]),
    version=st.sampled_from(["1", "'1.4'", '"2026-q3"', "beta"]),
    comment=st.sampled_from(["", "   # signed off by sales", "  # 60 points"]),
    style=st.sampled_from(["  - ", "- ", "    - "]),
    new=st.floats(0, 200).map(lambda x: round(x, 2)),
)
def test_the_round_trip_edit_changes_only_the_values(
    threshold: str, version: str, comment: str, style: str, new: float
) -> None:
    pad = " " * (len(style) - 2)
    text = (
        "# header comment\n"
        f"name: m\nversion: {version}\nthreshold: {threshold}{comment}\n"
        "dimensions:\n  fit:\n    rules:\n"
        f"    {style}name: a  # first\n    {pad}  when: {{t: {{eq: a}}}}\n    {pad}  points: 5\n"
    )
    out = edit_model_text(text, {("version",): "v9", ("threshold",): new})
    before, after = text.splitlines(), out.splitlines()
    assert len(before) == len(after)
    diff = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    same = float(threshold) == round(new, 2)
    assert diff == ([2] if same else [2, 3])
    value, _, note = after[3].partition("#")
    # A comment keeps its column where the new value leaves room (aligned comments stay so).
    assert value.strip() == f"threshold: {threshold if same else f'{new:g}'}"
    assert note.strip() == comment.strip().lstrip("#").strip()


def test_segments_and_floors_are_calibrated_too(tmp_path: Path) -> None:
    text = (
        MODEL
        + """\
floors: {fit: 10}
segments:
  - {name: big, when: {size: {gte: 1000}}, threshold: 28, floors: {fit: 12}}
"""
    )
    path = tmp_path / "seg.yaml"
    path.write_text(text)
    model = load_model(path)
    h = _history()
    for lead_id in ("a0", "a1", "b0", "b1", "c0"):
        h.profiles[lead_id]["size"] = 5000
    result = calibrate(model, h, min_known=5, sweep_floors=True)
    assert set(result.thresholds) == {"big", "default"}
    out, _new = write_calibrated_model(model, result, tmp_path / "out.yaml")
    spec = load_model(out).spec
    assert spec.segments[0].name == "big"
    assert spec.segments[0].threshold == pytest.approx(result.thresholds["big"])
    assert spec.threshold == pytest.approx(result.thresholds["default"])
    assert spec.floors["fit"] == pytest.approx(10 * result.floor_scale)
