"""``leadgate demo`` end to end on a small synthetic set, as a new user runs it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from leadgate.demo import run_demo


def test_demo_prints_queue_funnel_and_commands_that_run_as_printed(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "80"}
    res = subprocess.run(
        [sys.executable, "-m", "leadgate", "demo", "--leads", "400", "--out", "d"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # no progress remnants (not a terminal), no blank line
    assert "MQL queue:" in res.stdout and "not MQL" in res.stdout
    assert (tmp_path / "d" / "leads.csv").exists()
    # The closing lines are whole commands with a real lead id: run them exactly as printed.
    tail = res.stdout.split("next (copy and run):\n", 1)[1].splitlines()
    commands = [shlex.split(line) for line in tail if line.strip()]
    verbs = [c[c.index("-m") + 2 if "-m" in c else 1] for c in commands]
    assert verbs == ["explain", "score", "explain", "accounts"]
    lead = commands[0][commands[0].index("explain") + 1]
    assert lead in res.stdout.split("next (copy and run):")[0]  # the top of the queue shown
    # The product-led motion's PQLs: a line naming them, and the third command explains one.
    pql = commands[2][commands[2].index("explain") + 1]
    pql_line = next(line for line in res.stdout.splitlines() if line.startswith("PQLs by"))
    assert "posthog-pql.yaml" in pql_line and "posthog-pql.yaml" in " ".join(commands[2])
    assert pql in res.stdout.split("next (copy and run):")[0].split("PQLs by")[1]
    # The ABM model's MQAs: a queue, and the fourth command explains its first account.
    assert "MQA queue:" in res.stdout and "b2b-abm.yaml" in " ".join(commands[3])
    account = commands[3][commands[3].index("explain") + 1]
    assert account in res.stdout.split("MQA queue:")[1].split("next (copy and run):")[0]
    for command in commands:
        ran = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert ran.returncode == 0, (command, ran.stderr)
        if command is commands[2]:
            assert "· PQL ·" in ran.stdout.split("\n\n")[0], ran.stdout  # explained: a PQL
        if command is commands[3]:
            assert f"account {account} " in ran.stdout and "· MQA ·" in ran.stdout, ran.stdout
    assert (tmp_path / "d" / "scores.csv").exists()


def test_demo_mqls_convert_better_than_the_rest(tmp_path: Path) -> None:
    result = run_demo(tmp_path, n_leads=1500, seed=3, engine="duckdb")
    mql, rest = result.funnel
    assert mql.leads == len(result.queue) == sum(r["mql"] for r in result.records)
    assert mql.leads + rest.leads == 1500
    assert mql.won / max(mql.handed_to_sales, 1) > rest.won / max(rest.handed_to_sales, 1)
    pql, not_pql = result.pql_funnel  # the product-led motion's PQLs, in their own lines
    assert (pql.group, not_pql.group) == ("PQL", "not PQL")
    assert pql.leads == len(result.pqls) > 0 and pql.leads + not_pql.leads == 1500
    assert all(r["pql"] for r in result.pqls)
    assert [r["total"] for r in result.queue] == sorted(
        (r["total"] for r in result.queue), reverse=True
    )
    acc = result.accounts  # the ABM model's accounts: MQAs, and they open more opportunities
    assert acc is not None and acc.queue and all(a.mqa for a in acc.queue)
    mqa, other = acc.funnel
    assert mqa.accounts == len(acc.queue) and mqa.accounts + other.accounts == len(acc.scores)
    assert mqa.opportunities / mqa.accounts > other.opportunities / other.accounts


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
