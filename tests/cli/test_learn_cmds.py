"""``leadgate fit`` as a user runs it: a messy export in, a model out, scored by ``leadgate score``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cli_helpers import in_process, leadgate
from learn.messy import build_messy_export

# ``fit`` and its refusals run as a user runs them (a process of its own); checking the model it
# wrote (validate, score 2,000 rows) runs through the same CLI in this process.
run = leadgate


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_messy_export(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def fitted(export: dict[str, Any]) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = export["root"] / "model" / "learned.yaml"
    out.parent.mkdir()  # every command refuses a missing output folder
    proc = run("fit", "--data", str(export["train"]), "--target", "Converted", "--id", "lead_id",
               "--positive", "yes", "--out", str(out))  # fmt: skip
    return proc, out


def _tuned_logistic_regression(train: Path, unseen: Path) -> np.ndarray:
    """What a data scientist would do by hand: clean the export, one-hot, log counts, tune C."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def clean(path: Path) -> pd.DataFrame:
        df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
        out = pd.DataFrame()
        for col in ("Job Level", "Industry", "Lead Source", "Country"):
            v = df[col].str.strip().str.lower()
            out[col] = v.where(~v.isin(["", "select", "-- select --", "n/a", "--"]), "missing")
        for col in ("Employees", "Web Visits", "Discount"):
            num = pd.to_numeric(df[col].str.replace(",", "").str.rstrip("%"), errors="coerce")
            out[col] = np.log1p(num)
        return out

    x_train, x_unseen = clean(train), clean(unseen)
    y = (pd.read_csv(train, sep=";", dtype=str)["Converted"] == "Yes").astype(int).to_numpy()
    cats, nums = (
        ["Job Level", "Industry", "Lead Source", "Country"],
        ["Employees", "Web Visits", "Discount"],
    )
    pre = ColumnTransformer([
        ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20), cats),
        ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), nums),
    ])  # fmt: skip
    model = make_pipeline(
        pre,
        LogisticRegressionCV(Cs=10, cv=5, scoring="roc_auc", max_iter=2000, l1_ratios=(0.0,),
                             use_legacy_attributes=False),
    )  # fmt: skip
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small problem: threads only spin
        model.fit(x_train, y)
        return model.predict_proba(x_unseen)[:, 1]


def test_fit_learns_from_a_messy_export_and_reports_the_leak(fitted: Any) -> None:
    proc, out = fitted
    assert proc.returncode == 0, proc.stderr
    assert "leak: Opportunity Stage" in proc.stdout and "dropped" in proc.stdout
    report = json.loads(out.with_name("learned.report.json").read_text())
    assert [lk["column"] for lk in report["leaks"]] == ["Opportunity Stage"]
    assert report["leaks"][0]["dropped"] is True
    model_text = out.read_text()
    assert "Opportunity Stage" not in model_text
    # the real drivers are in, the noise columns out
    selected = {f["feature"] for f in report["features"] if f["selected"]}
    assert {"Job Level", "Industry", "Lead Source", "Employees", "Web Visits"} <= selected
    assert "Country" not in selected and "Discount" not in selected
    # placeholders and text numbers are handled, not treated as categories
    assert "select" in model_text and "matches" in model_text
    # the readable model gives up little against the boosted ceiling
    assert report["scorecard"]["auc"] >= report["ceiling"]["auc"] - 0.02
    assert in_process("validate", str(out)).returncode == 0
    # the summary counts the rules (interactions included) and lists every interaction
    said = " ".join(proc.stdout.split())  # the console may wrap long lines
    assert f"in {report['rules']} rules" in said and report["rules"] <= 60
    for it in report["interactions"]:
        assert f"interaction: {it['rule']}" in said


def test_learned_model_scores_unseen_rows_through_leadgate_score(
    fitted: Any, export: dict[str, Any]
) -> None:
    from sklearn.metrics import roc_auc_score

    _, out = fitted
    empty = export["root"] / "no-events.csv"
    empty.write_text("event_id,lead_id,type,timestamp\n")
    proc = in_process("score", "--model", str(out), "--leads", str(export["unseen"]), "--events",
               str(empty), "--as-of", "2026-01-01", "--format", "jsonl")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(records) == 2000
    y = export["unseen_clean"]["y"]
    totals = np.asarray([r["total"] for r in records])
    scorecard_auc = roc_auc_score(y, totals)
    baseline_auc = roc_auc_score(y, _tuned_logistic_regression(export["train"], export["unseen"]))
    assert scorecard_auc >= baseline_auc - 0.03, (scorecard_auc, baseline_auc)
    assert 0.05 < np.mean([r["mql"] for r in records]) < 0.8


def _invoke(*args: str) -> BaseException | None:
    """Run ``leadgate fit`` in-process (a private app with only these commands): the error raised."""
    import typer
    from typer.testing import CliRunner

    from leadgate.cli import learn_cmds

    app = typer.Typer()
    learn_cmds.register(app)
    app.command("noop")(lambda: None)  # two commands keep "fit" a subcommand
    return CliRunner().invoke(app, list(args)).exception


def test_usage_errors_are_one_line(tmp_path: Path, export: dict[str, Any]) -> None:
    proc = run("fit", "--data", str(export["train"]), "--out", str(tmp_path / "m.yaml"))
    assert proc.returncode == 1
    assert "--data needs --target COLUMN and --id COLUMN" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "{train}", "--leads", "x.csv", "--target", "Converted", "--id", "lead_id"],
         "use either --data or --leads/--events/--outcomes, not both"),
        (["--data", "{train}", "--target", "Nope", "--id", "lead_id"],
         r"export.csv:2: Nope: no column 'Nope'"),
        (["--leads", "leads.csv"], "give --leads and --outcomes"),
        (["--leads", "l.csv", "--outcomes", "o.csv", "--layout", "wide"],
         "--layout: expected split or predictive, got 'wide'"),
        (["--leads", "l.csv", "--outcomes", "o.csv", "--positive", "yes"],
         "--positive applies to --data"),
        (["--leads", "l.csv", "--outcomes", "o.csv", "--max-rules", "0"],
         "--max-rules: expected a positive number, got 0"),
    ],
)  # fmt: skip
def test_bad_options_are_user_errors(
    args: list[str], message: str, tmp_path: Path, export: dict[str, Any]
) -> None:
    from leadgate.errors import LeadgateError

    out = tmp_path / "m.yaml"
    exc = _invoke("fit", *[a.format(train=export["train"]) for a in args], "--out", str(out))
    assert isinstance(exc, LeadgateError)
    assert message in str(exc)
    assert not out.exists()


def test_fit_without_the_learn_extra_prints_the_brackets(tmp_path: Path) -> None:
    # issue 19: rich console markup swallowed "[learn]"; a shadow module stands in for a
    # missing scikit-learn, as the user without the extra sees it.
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "sklearn.py").write_text("raise ImportError('no scikit-learn here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow), *sys.path])}
    data = tmp_path / "d.csv"
    data.write_text("lead_id,converted\n1,1\n")
    done = subprocess.run(
        [sys.executable, "-m", "leadgate", "fit", "--data", str(data), "--target", "converted",
         "--id", "lead_id", "--out", str(tmp_path / "m.yaml")],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 1
    assert "pip install 'leadgate[learn]'" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
