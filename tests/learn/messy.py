"""A messy CRM-style flat export with a known outcome model, for the learning and CLI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

LEVELS = ["C-Level", "VP", "Director", "Manager", "Individual Contributor"]
LEVEL_EFFECT = [1.2, 1.0, 0.6, 0.0, -0.9]
INDUSTRIES = ["Software", "Fintech", "Retail", "Manufacturing", "Education", "Healthcare"]
INDUSTRY_EFFECT = [0.8, 0.6, -0.2, 0.0, -0.9, 0.2]
SOURCES = ["Web", "Referral", "Trade Show", "Purchased List"]
SOURCE_EFFECT = [0.2, 0.9, 0.0, -1.0]
PLACEHOLDERS = ["", "Select", "-- Select --", "N/A", "--"]
HEADER = [
    "lead_id", "Job Level", "Industry", "Employees", "Discount", "Web Visits", "Lead Source",
    "Country", "Created Date", "Opportunity Stage", "Converted",
]  # fmt: skip


def messy_rows(n: int, seed: int, start: int = 0) -> tuple[list[list[str]], dict[str, np.ndarray]]:
    """Rows of a messy export and the clean values behind them (for a fair baseline).

    Outcome: logit = -1.6 + level + industry + source + 0.5 log10(employees) centred
    + 0.35 log1p(web visits) centred; discount and country are noise.
    """
    rng = np.random.default_rng(seed)
    level = rng.choice(len(LEVELS), n, p=[0.08, 0.12, 0.2, 0.3, 0.3])
    industry = rng.choice(len(INDUSTRIES), n)
    source = rng.choice(len(SOURCES), n, p=[0.5, 0.15, 0.15, 0.2])
    employees = np.round(np.exp(rng.normal(5.5, 1.6, n))).astype(int) + 1
    visits = rng.negative_binomial(1, 0.15, n)  # skewed counts
    discount = rng.integers(0, 40, n)
    logit = (
        -1.6 + np.take(LEVEL_EFFECT, level) + np.take(INDUSTRY_EFFECT, industry)
        + np.take(SOURCE_EFFECT, source) + 0.5 * (np.log10(employees) - 2.4)
        + 0.35 * (np.log1p(visits) - 1.6)
    )  # fmt: skip
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    rows = []
    for i in range(n):
        miss = rng.random(4) < [0.08, 0.06, 0.1, 0.05]
        emp = employees[i]
        rows.append([
            f"R{start + i:06d}",
            rng.choice(PLACEHOLDERS) if miss[0] else LEVELS[level[i]],
            rng.choice(PLACEHOLDERS) if miss[1] else (
                # rare typos and one-offs, as real picklists-turned-free-text have
                f"Other-{rng.integers(1000)}" if rng.random() < 0.03 else INDUSTRIES[industry[i]]
            ),
            rng.choice(["N/A", ""]) if miss[2] else (f"{emp:,}" if rng.random() < 0.7 else str(emp)),
            f"{discount[i]}%",
            "" if miss[3] else (f"{visits[i]:,}" if visits[i] >= 1000 else str(visits[i])),
            SOURCES[source[i]],
            rng.choice(["US", "GB", "DE", "FR"]) if rng.random() < 0.97 else f"X{rng.integers(50)}",
            f"2025-{1 + i * 12 // n:02d}-{1 + rng.integers(28):02d}",
            # written by sales *after* the outcome: a leak
            ("Closed Won" if y[i] else rng.choice(["Closed Lost", "Nurture"]))
            if rng.random() < 0.99 else "Qualification",
            "Yes" if y[i] else "No",
        ])  # fmt: skip
    clean = {"level": level, "industry": industry, "source": source, "employees": employees,
             "visits": visits, "discount": discount, "y": y}  # fmt: skip
    return rows, clean


def write_semicolon_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def build_messy_export(root: Path) -> dict[str, Any]:
    """A training export (3000 rows) and unseen rows (2000) of the same process, under ``root``."""
    train_rows, train_clean = messy_rows(3000, seed=11)
    unseen_rows, unseen_clean = messy_rows(2000, seed=12, start=500000)
    return {
        "train": write_semicolon_csv(root / "export.csv", train_rows),
        "train_clean": train_clean,
        "unseen": write_semicolon_csv(
            root / "unseen.csv", [r[:-1] for r in unseen_rows], HEADER[:-1]
        ),
        "unseen_clean": unseen_clean,
        "root": root,
    }
