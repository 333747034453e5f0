"""Non-finite and out-of-range model values, and characters YAML cannot hold: refused by
``parse_model`` (so by ``POST /v1/models``) and by ``leadgate validate``, with line and column.

A model with ``recycle_after_days: 1e308`` used to publish and then break every tick; one with
``.nan`` thresholds or points scored every lead as NaN."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from leadgate.errors import ModelError
from leadgate.model import parse_model

BASE = """\
name: bounds
version: 1
threshold: 30
dimensions:
  fit:
    rules:
      - name: vp
        when: {title: {contains: vp}}
        points: 20
"""


@pytest.mark.parametrize(
    ("old", "new", "path", "line", "message"),
    [
        ("threshold: 30", "threshold: .nan", "threshold", 3, "finite number"),
        ("threshold: 30", "threshold: -.inf", "threshold", 3, "finite number"),
        ("points: 20", "points: .inf", "dimensions.fit.rules[0].points", 9, "finite number"),
        ("points: 20", "points: 1.0e+300", "dimensions.fit.rules[0].points", 9, "1000000000"),
        ("threshold: 30", "threshold: 30\nrecycle_after_days: 1e308", "recycle_after_days", 4,
         "36500"),
        ("threshold: 30", "threshold: 30\nsla_hours: .nan", "sla_hours", 4, "finite number"),
        ("{contains: vp}", "{gt: .nan}", "dimensions.fit.rules[0].when.title.gt", 8,
         "takes a number"),
        ("{contains: vp}", "{between: [0, .inf]}", "dimensions.fit.rules[0].when.title.between",
         8, "two numbers"),
    ],
)  # fmt: skip
def test_out_of_range_values_are_located(
    old: str, new: str, path: str, line: int, message: str
) -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(BASE.replace(old, new, 1), "m.yaml")
    problem = next(p for p in caught.value.problems if p.path == path)
    assert message in problem.message, problem
    assert problem.line == line and problem.column


def test_a_non_printable_character_is_located() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(BASE.replace("name: vp", "name: v\x07p"), "m.yaml")
    (problem,) = caught.value.problems
    assert "non-printable character (U+0007)" in problem.message
    assert (problem.line, problem.column) == (7, 16)


def test_deep_nesting_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="nested too deeply"):
        parse_model("a: " + "[" * 5000 + "]" * 5000 + "\n")


def test_leadgate_validate_names_line_and_column(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text(BASE.replace("threshold: 30", "threshold: .nan"))
    done = subprocess.run(
        [sys.executable, "-m", "leadgate", "validate", str(model)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"{model}:3:1: threshold: input should be a finite number" in output
    assert "Traceback" not in output
