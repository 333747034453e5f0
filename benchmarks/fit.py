"""Benchmark ``leadgate fit``: fitting time at 50k rows x 20 columns, and held-out AUC per model.

Run by hand (minutes, on a shared 2-core machine):

    PYTHONPATH=src .venv/bin/python benchmarks/fit.py [--rows 50000] [--auc-rows 20000]
        [--synth-leads 10000] [--seeds 7] [--targets sql won] [--baseline-rev 3e04691]
        [--baseline-src SRC] [--no-ebm] [--skip-timing] [--skip-auc] [--skip-planted]

1. **Time**: a flat export of ``--rows`` rows and 20 feature columns with planted interactions
   (built here) is fitted with ``leadgate fit --data`` (a subprocess, as a user runs it); the
   fit of today's scorecard (the ``src`` of ``--baseline-rev``, unpacked with ``git archive``)
   is timed in the same run, and the ratio printed.
2. **AUC**: each data set is split by the benchmark, not by ``fit``: 75% of the rows to learn
   from, 25% held out. Models are learned from the 75% only and the held-out rows are scored
   from the written YAML, never inside ``fit``:

   - planted: ``leadgate score --format csv`` on the held-out export;
   - the project's synthetic data (``leadgate synth``, targets ``sql`` and ``won``; the rows
     with a known outcome after the outcome window, the latest 25% by ``mql_time`` held out,
     the others' outcome rows given to ``fit``): each held-out lead scored by the engine (``score_lead``, what
     ``leadgate score`` runs) at its own ``mql_time``, with the events it had by then.

   Rows: today's scorecard, the new one (shapes + interactions), an EBM
   (``interpret-core``'s ``ExplainableBoostingClassifier``, when installed) and the
   gradient-boosted ceiling (``HistGradientBoostingClassifier``), the last two on the same
   features and the same split.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from leadgate.learn.evaluate import gbm_ceiling
from leadgate.learn.features import Feature, FeatureTable

SRC = Path(__file__).resolve().parents[1] / "src"
BASELINE_REV = "3e04691"  # the last commit before shapes and interaction rules


def planted_rows(n: int, seed: int) -> tuple[list[str], list[list[Any]]]:
    """A flat export with 20 feature columns: main effects, shapes, two planted interactions."""
    rng = np.random.default_rng(seed)
    month, year = rng.integers(1, 13, n), rng.integers(2022, 2026, n)
    region = rng.choice(["north", "south", "east", "west"], n)
    employees = rng.integers(5, 5000, n)
    age = rng.integers(20, 70, n)
    seniority = rng.choice(["intern", "staff", "manager", "director", "vp"], n)
    industry = rng.choice([f"ind{k}" for k in range(8)], n)
    score_a = rng.normal(50, 15, n)
    visits = rng.integers(0, 40, n)
    noise_num = [rng.normal(0, 1, n) for _ in range(6)]
    noise_cat = [rng.choice(list("abcdef"), n) for _ in range(5)]
    ind_effect = dict(zip([f"ind{k}" for k in range(8)], rng.normal(0, 0.4, 8), strict=True))
    sen_effect = {"intern": -0.8, "staff": -0.3, "manager": 0.0, "director": 0.4, "vp": 0.6}
    logit = (
        -1.8
        + 1.6 * ((month >= 10) & (year == 2025))  # when in the year AND which year
        - 0.8 * ((month <= 3) & (year == 2023))
        + 1.2 * ((region == "north") & (employees >= 1000))
        + 0.7 * ((age < 30) | (age >= 60))  # U shape
        + 0.6 * ((visits >= 8) & (visits < 20))  # a peak
        + 0.02 * (score_a - 50)
        + np.vectorize(sen_effect.get)(seniority)
        + np.vectorize(ind_effect.get)(industry)
    )
    won = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    header = ["lead_id", "month", "year", "region", "employees", "age", "seniority", "industry",
              "score_a", "visits", *[f"n{k}" for k in range(6)], *[f"c{k}" for k in range(5)],
              "won"]  # fmt: skip
    rows = [
        [f"L{i}", month[i], year[i], region[i], employees[i], age[i], seniority[i], industry[i],
         f"{score_a[i]:.2f}", visits[i], *[f"{c[i]:.3f}" for c in noise_num],
         *[c[i] for c in noise_cat], won[i]]
        for i in range(n)
    ]  # fmt: skip
    return header, rows


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


CPU_SECONDS: list[float] = []  # CPU time (user + system) of each ``_cli`` run, in order


def _cli(src: Path, *args: str) -> float:
    """Run ``leadgate ARGS`` with ``src`` first on the path; returns the wall-clock seconds.

    The run's CPU seconds go to ``CPU_SECONDS``: on a shared machine they show the work done
    better than the wall clock, which includes waiting for a core.
    """
    env = {**os.environ, "PYTHONPATH": str(src)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "leadgate", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return time.perf_counter() - started


def _fit_flat(src: Path, data: Path, out: Path) -> float:
    return _cli(src, "fit", "--data", str(data), "--target", "won", "--id", "lead_id",
                "--out", str(out))  # fmt: skip


def baseline_src(rev: str, root: Path) -> Path:
    """The ``src`` folder of git revision ``rev`` of this repository, unpacked under ``root``."""
    where = root / "baseline"
    where.mkdir()
    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev, "src"], check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where / "src"


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, s)), 4)


def _score_csv(src: Path, model: Path, leads: Path, out: Path) -> dict[str, float]:
    _cli(src, "score", "--model", str(model), "--leads", str(leads), "--format", "csv",
         "--out", str(out), "--as-of", "2026-06-01T00:00:00Z")  # fmt: skip
    with out.open() as fh:
        return {r["lead_id"]: float(r["total"]) for r in csv.DictReader(fh)}


def ebm_auc(features: list[Feature], y: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    """Held-out AUC of interpret-core's EBM on the same features (NaN when not installed)."""
    try:
        from interpret.glassbox import ExplainableBoostingClassifier
    except ImportError:
        return float("nan")
    import pandas as pd

    frame = pd.DataFrame({
        f.name: (np.asarray(f.values, dtype=str) if f.kind == "categorical"
                 else np.asarray(f.values, dtype=float))
        for f in features
    })  # fmt: skip
    ebm = ExplainableBoostingClassifier(outer_bags=4, n_jobs=1, random_state=0)
    ebm.fit(frame.iloc[train], y[train])
    return _auc(y[test], ebm.predict_proba(frame.iloc[test])[:, 1])


def _ceilings(table: FeatureTable, train: np.ndarray, test: np.ndarray, ebm: bool) -> list[float]:
    gbm = float(gbm_ceiling(table.features, table.y, train, test)["auc"])
    return [ebm_auc(table.features, table.y, train, test) if ebm else float("nan"), gbm]


def planted_auc(root: Path, n: int, baseline: Path, ebm: bool) -> list[Any]:
    from leadgate.learn.tables import table_from_flat

    header, rows = planted_rows(n, seed=11)
    cut = round(0.75 * n)
    train_csv = _write(root / "planted-train.csv", header, rows[:cut])
    test_csv = _write(root / "planted-test.csv", header, rows[cut:])
    everything = _write(root / "planted-all.csv", header, rows)
    results = []
    for label, src in (("today", baseline), ("new", SRC)):
        model = root / f"planted-{label}.yaml"
        _fit_flat(src, train_csv, model)
        totals = _score_csv(SRC, model, test_csv, root / f"planted-{label}.scores.csv")
        y = np.asarray([r[-1] for r in rows[cut:]])
        results.append(_auc(y, np.asarray([totals[r[0]] for r in rows[cut:]])))
    table = table_from_flat(everything, "won", "lead_id")
    idx = np.arange(len(table.y))
    return [f"planted ({n:,} rows, 20 columns)", *results,
            *_ceilings(table, idx[:cut], idx[cut:], ebm)]  # fmt: skip


def synth_auc(root: Path, leads: int, seed: int, target: str, baseline: Path,
              ebm: bool) -> list[Any]:  # fmt: skip
    import pandas as pd

    from leadgate.engine import compile_model, score_lead
    from leadgate.learn.tables import table_from_files
    from leadgate.model import load_model
    from leadgate.synth import generate

    folder = root / f"synth{seed}"
    if not (folder / "outcomes.csv").exists():
        generate(leads, seed, folder)
    syn_events = next(folder.glob("events.*"))
    # the rows with a known outcome (after the outcome window), the latest 25% held out
    table = table_from_files(folder / "leads.csv", syn_events, folder / "outcomes.csv", target)
    order = np.argsort([t.timestamp() for t in table.as_of], kind="stable")
    cut = round(0.75 * len(order))
    train, test = np.sort(order[:cut]), np.sort(order[cut:])
    train_ids = {table.ids[i] for i in train}
    outcomes = pd.read_csv(folder / "outcomes.csv", dtype={"lead_id": str})
    outcomes[outcomes.lead_id.isin(train_ids)].to_csv(folder / "outcomes-train.csv", index=False)
    results = []
    for label, src in (("today", baseline), ("new", SRC)):
        model = folder / f"{target}-{label}.yaml"
        _cli(src, "fit", "--leads", str(folder / "leads.csv"), "--events", str(syn_events),
             "--outcomes", str(folder / "outcomes-train.csv"), "--target", target,
             "--out", str(model))  # fmt: skip
        plan = compile_model(load_model(model))
        totals = np.asarray([
            score_lead(plan, table.profiles[i], table.events.get(table.ids[i], ()),
                       table.as_of[i], table.ids[i]).total for i in test
        ])  # fmt: skip
        results.append(_auc(table.y[test], totals))
    return [f"synth seed {seed}, target {target} ({len(test)} held out)", *results,
            *_ceilings(table, train, test, ebm)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--auc-rows", type=int, default=20_000)
    parser.add_argument("--synth-leads", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, nargs="*", default=[7])
    parser.add_argument("--targets", nargs="*", default=["sql", "won"])
    parser.add_argument(
        "--baseline-rev",
        default=BASELINE_REV,
        help="git revision of today's scorecard (before shapes and interactions)",
    )
    parser.add_argument("--no-ebm", action="store_true")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-auc", action="store_true")
    parser.add_argument("--skip-planted", action="store_true")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="a src folder to use as today's scorecard instead of --baseline-rev",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="leadgate-fit-bench-"))
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f} (shared machine)")
    baseline = args.baseline_src or baseline_src(args.baseline_rev, root)
    if not args.skip_timing:
        header, rows = planted_rows(args.rows, seed=5)
        data = _write(root / "big.csv", header, rows)
        base = _fit_flat(baseline, data, root / "big-today.yaml")
        new = _fit_flat(SRC, data, root / "big-new.yaml")
        cpu_base, cpu_new = CPU_SECONDS[-2:]
        print(f"fit {args.rows:,} rows x 20 columns: today's scorecard {base:.1f} s "
              f"({cpu_base:.1f} s CPU), new (shapes + interactions) {new:.1f} s "
              f"({cpu_new:.1f} s CPU), ratio {new / base:.2f}; load average now "
              f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    if args.skip_auc:
        return
    print("| data | today's scorecard | new scorecard | EBM | GBM ceiling |")
    print("|---|---|---|---|---|", flush=True)
    if not args.skip_planted:
        _row(planted_auc(root, args.auc_rows, baseline, not args.no_ebm))
    for seed in args.seeds:
        for target in args.targets:
            _row(synth_auc(root, args.synth_leads, seed, target, baseline, not args.no_ebm))


def _row(line: list[Any]) -> None:
    cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in line]
    print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
