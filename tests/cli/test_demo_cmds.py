"""``leadgate demo`` end to end on a small synthetic set, as a new user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from leadgate.demo import run_demo


def test_demo_prints_queue_and_funnel(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "leadgate", "demo", "--leads", "400", "--out", str(tmp_path / "d")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "MQL queue:" in res.stdout and "not MQL" in res.stdout
    assert (tmp_path / "d" / "leads.csv").exists()


def test_demo_mqls_convert_better_than_the_rest(tmp_path: Path) -> None:
    result = run_demo(tmp_path, n_leads=1500, seed=3, engine="duckdb")
    mql, rest = result.funnel
    assert mql.leads == len(result.queue) == sum(r["mql"] for r in result.records)
    assert mql.leads + rest.leads == 1500
    assert mql.won / max(mql.handed_to_sales, 1) > rest.won / max(rest.handed_to_sales, 1)
    assert [r["total"] for r in result.queue] == sorted(
        (r["total"] for r in result.queue), reverse=True
    )
