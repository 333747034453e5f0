"""Report answers (``to_dict()``, the CLI's ``--format json``) laid out as tables and facts.

A rate comes as ``x``, ``x_n``, ``x_lo``, ``x_hi``; it is shown as one cell: the percentage, its
Wilson interval and n. Nothing is computed here, only formatted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

RATE_WORDS = ("rate", "acceptance", "mql_sql", "mql_won", "share", "coverage", "precision",
              "recall", ":")  # fmt: skip


@dataclass(frozen=True)
class Table:
    """Columns and formatted rows of one list of records."""

    title: str
    columns: list[str]
    rows: list[list[str]]


def _is_rate(name: str) -> bool:
    if name.endswith("_n") or "revenue" in name:
        return False
    return any(w in name for w in RATE_WORDS)


def cell(name: str, value: Any, record: Mapping[str, Any] | None = None) -> str:
    """One value as text: rates as percentages (with the interval when the record has it)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and {"rate", "lo", "hi"} <= set(value):
        return cell(name, value["rate"], {f"{name}_lo": value["lo"], f"{name}_hi": value["hi"],
                                          f"{name}_n": value.get("n")})  # fmt: skip
    if isinstance(value, int | float):
        if _is_rate(name) and -1e-9 <= float(value) <= 1 + 1e-9:
            text = f"{100 * value:.1f}%"
            if record and f"{name}_lo" in record and record[f"{name}_lo"] is not None:
                text += f" ({100 * record[f'{name}_lo']:.0f}–{100 * record[f'{name}_hi']:.0f}"
                n = record.get(f"{name}_n")
                text += f", n={n})" if n is not None else ")"
            return text
        if isinstance(value, float) and value != int(value):
            return f"{value:,.2f}"
        return f"{int(value):,}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):  # a nested record: its rates folded as in a table
        return ", ".join(
            f"{k} {cell(k, v, value)}" for k, v in value.items() if not _folded(k, value)
        )
    return str(value)


def _folded(key: str, record: Mapping[str, Any]) -> bool:
    """Whether ``key`` is a rate's ``_lo``, ``_hi`` or ``_n`` (shown in the rate's own cell)."""
    for suffix in ("_lo", "_hi", "_n"):
        if key.endswith(suffix) and f"{key[: -len(suffix)]}_lo" in record:
            return True
    return False


def table(title: str, records: Sequence[Mapping[str, Any]]) -> Table:
    """Records as a table; a rate's ``_n``, ``_lo`` and ``_hi`` fold into its own cell."""
    columns: list[str] = []
    for rec in records:
        for key in rec:
            if key not in columns:
                columns.append(key)
    hidden = {f"{c}{s}" for c in columns for s in ("_lo", "_hi", "_n") if f"{c}_lo" in columns}
    shown = [c for c in columns if c not in hidden]
    rows = [[cell(c, rec.get(c), rec) for c in shown] for rec in records]
    return Table(title, shown, rows)


def layout(report: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[Table]]:
    """A report's scalar facts (name, text) and its tables, in the report's own order."""
    facts: list[tuple[str, str]] = []
    tables: list[Table] = []
    for key, value in report.items():
        if key == "report":
            continue
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            tables.append(table(key.replace("_", " "), value))
        elif (
            isinstance(value, Mapping)
            and value
            and all(isinstance(v, list) for v in value.values())
        ):
            for sub, items in value.items():
                if items and all(isinstance(v, Mapping) for v in items):
                    tables.append(table(f"{key} {sub}".replace("_", " "), items))
        elif (
            isinstance(value, Mapping)
            and value
            and all(isinstance(v, Mapping) for v in value.values())
        ):
            tables.append(table(key.replace("_", " "), [{"": k, **v} for k, v in value.items()]))
        elif (
            isinstance(value, Mapping)
            and len(value) > 4
            and not ({"rate", "lo", "hi"} <= set(value))
        ):
            tables.append(table(key.replace("_", " "), [value]))  # one record (a total)
        elif key.endswith(("_lo", "_hi", "_n")) and key[:-3] in report:
            continue
        else:
            facts.append((key.replace("_", " "), cell(key, value, report)))
    return facts, tables
