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


def test_queue_fits_80_columns_with_its_widest_rows() -> None:
    from rich.console import Console

    from leadgate.cli.demo_cmds import queue_table

    row = {"lead_id": "L0009699", "segment": "enterprise", "total": 415.4,
           "scores": {"fit": 35.0, "engagement": 295.2, "intent": 90.0}}  # fmt: skip
    profile = {"title": "Director of Product Management", "source": "inbound_content"}
    console = Console(width=80)
    with console.capture() as cap:
        console.print(queue_table([row], 1, 20, {"L0009699": profile}))
    lines = cap.get().splitlines()
    header = next(line for line in lines if line.lstrip().startswith("lead "))
    assert header.split()[-4:] == ["fit", "eng.", "intent", "total"]
    assert any(line.split()[-4:] == ["35.0", "295.2", "90.0", "415.4"] for line in lines)
    assert "L0009699*" in cap.get()  # the segment mark
