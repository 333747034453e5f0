"""``leadgate score --engine spark`` prints what a user needs, not the JVM's start-up warnings
(incubator modules, log4j profile, hostname, native Hadoop)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from factories import REFERENCE_MODEL
from leadgate.batch.spark_runner import spark_available

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(not spark_available(), reason="needs PySpark and Java"),
]


def test_spark_prints_no_jvm_warnings(tmp_path: Path) -> None:
    from leadgate.synth import generate

    data = generate(50, 5, tmp_path / "d")
    # One run (each starts its own JVM, the costliest test there is): the quiet default.
    # --verbose only leaves out the redirection (spark_runner.spark_session).
    env = {k: v for k, v in os.environ.items() if k != "LEADGATE_VERBOSE"}
    out = tmp_path / "scores.csv"
    res = subprocess.run(
        [sys.executable, "-m", "leadgate", "score", "--engine", "spark", "--model",
         str(REFERENCE_MODEL), "--leads", str(data.leads), "--events", str(data.events),
         "--as-of", "2026-11-01", "--out", str(out)],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert len(out.read_text().splitlines()) == 51
    assert res.stderr.startswith("wrote 50 records (") and res.stderr.count("\n") == 1, res.stderr
