"""The conformance suite: hand-checked cases of the scoring semantics, run on every executor.

Each file in ``cases/`` holds a model, leads (and accounts), events, an ``as_of`` and what the
record of each lead must say: total, MQL flag, segment, threshold, dimension scores, what it
lacks, and rule by rule the points and events counted of its explanation. Every case runs on the
Python executor and on every SQL engine: DuckDB and SQLite always, PostgreSQL and Spark where CI
starts them (markers ``postgres`` and ``spark``). Where the agreement tests prove the executors
agree with each other, these prove they agree with docs/semantics.md; an expected value here is
worked out by hand in the case's comments, never copied from an engine's output.

Case format: ``events`` are ``[lead_id, type, timestamp, {properties}]`` (``{account_id: A1}``
in place of the lead id: an account-level event); ``expect`` maps a lead
to the fields to check (``rules``, ``events_counted``, ``matched``, ``capped`` and ``event_ids``
by rule name; event ids are ``e<i>``, ``i`` the event's place in the case); fields not given are
not checked. Beyond the hand-checked fields, every engine's whole explanation (every field of
every rule, dimension, check and lack, event ids included) must equal the Python executor's.
"""

from __future__ import annotations

import csv
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from factories import explanation_differences, model_text
from leadgate.batch import explain_batch_lead, iter_batch_scores
from leadgate.batch.spark_runner import spark_available
from leadgate.engine import Score, compile_model
from leadgate.model import load_model
from leadgate.scoring import iter_scores, read_inputs

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))
ENGINES = [
    pytest.param("python", id="python"),
    pytest.param("duckdb", id="duckdb"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not os.environ.get("LEADGATE_TEST_PG_URL"), reason="LEADGATE_TEST_PG_URL not set"
            ),
        ],
    ),
    pytest.param(
        "spark",
        id="spark",
        marks=[
            pytest.mark.spark,
            pytest.mark.skipif(not spark_available(), reason="needs PySpark and Java"),
        ],
    ),
]
TOLERANCE = 1e-9


def _write_csv(path: Path, rows: list[dict[str, Any]], first: str) -> Path:
    columns = [first, *sorted({k for r in rows for k in r if k != first})]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return path


def _text_time(value: Any) -> str:
    """A case's time as ISO 8601 text (YAML reads unquoted timestamps as datetimes)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def _inputs(case: dict[str, Any], folder: Path) -> tuple[Path, Path, Path, Path | None]:
    model = folder / "model.yaml"
    model.write_text(model_text(case["model"]), encoding="utf-8")
    leads = _write_csv(folder / "leads.csv", case["leads"], "lead_id")
    events = [
        {
            "event_id": f"e{i}",
            # {account_id: A1} for an account-level event (no lead)
            **(e[0] if isinstance(e[0], dict) else {"lead_id": e[0]}),
            "type": e[1],
            "timestamp": _text_time(e[2]),
            **(e[3] if len(e) > 3 else {}),
        }
        for i, e in enumerate(case["events"])
    ]
    if not events:  # a header only: the engines must read an empty events file
        (folder / "events.csv").write_text("event_id,lead_id,type,timestamp\n")
        events_path = folder / "events.csv"
    else:
        events_path = _write_csv(folder / "events.csv", events, "event_id")
    accounts = None
    if case.get("accounts"):
        accounts = _write_csv(folder / "accounts.csv", case["accounts"], "account_id")
    return model, leads, events_path, accounts


def _explained_on_spark(case: dict[str, Any]) -> set[str]:
    """The leads Spark explains alone: those whose event ids the case checks by hand, and the
    lead with the most events. Each Spark explanation is a job per query over the re-read files
    (seconds, the costliest part of the suite); the explain query differs from lead to lead only
    by the lead id, so one lead per case runs every case's explain SQL on Spark, and the other
    engines explain every lead. Spark's other leads are checked from its batch rows: every
    hand-checked field but event ids, and the whole explanation equal to Python's but ids."""
    counts = {lead["lead_id"]: 0 for lead in case["leads"]}
    for event in case["events"]:
        if not isinstance(event[0], dict):  # an account-level event is no lead's
            counts[event[0]] += 1
    busiest = max(counts, key=lambda lead_id: counts[lead_id])
    checked = {lead_id for lead_id, want in case["expect"].items() if "event_ids" in want}
    return checked | {busiest}


def _scores(engine: str, case: dict[str, Any], folder: Path) -> dict[str, Score]:
    """Every lead's score, each explained alone (``leadgate explain``: event ids included; on
    Spark, the leads of ``_explained_on_spark``, the others as the batch scored them)."""
    model, leads, events, accounts = _inputs(case, folder)
    plan = compile_model(load_model(model))
    as_of = datetime.fromisoformat(_text_time(case["as_of"]).replace("Z", "+00:00"))
    if engine == "python":
        return {
            s.lead_id: s for s in iter_scores(plan, read_inputs(leads, events, accounts), as_of)
        }
    out: dict[str, Score] = {}
    batch = {
        s.lead_id: s
        for s in iter_batch_scores(plan, leads, events, as_of, engine=engine, accounts=accounts)
    }
    explained = _explained_on_spark(case) if engine == "spark" else set(batch)
    for lead_id, score in batch.items():
        if lead_id not in explained:
            out[lead_id] = score
            continue
        one = explain_batch_lead(
            plan, leads, events, lead_id, as_of, engine=engine, accounts=accounts
        )
        assert one is not None, lead_id
        # the batch and the explained lead say the same (the batch lists no event ids)
        assert not explanation_differences(
            score.explanation.to_dict(), one.explanation.to_dict(), ids=False
        ), lead_id
        out[lead_id] = one
    return out


def _close(got: float, want: float) -> bool:
    return abs(got - want) <= TOLERANCE


def _check(lead_id: str, score: Score, want: dict[str, Any]) -> list[str]:
    """Every difference between the lead's score and the expectation, as readable lines."""
    record = score.to_record()
    problems: list[str] = []

    def differs(what: str, got: Any, expected: Any) -> None:
        problems.append(f"{lead_id} {what}: got {got!r}, expected {expected!r}")

    for key in ("total", "threshold"):
        if key in want and not _close(record[key], float(want[key])):
            differs(key, record[key], want[key])
    for key in ("mql", "segment", "missing", "pql", "pql_signals"):
        if key in want and record[key] != want[key]:
            differs(key, record[key], want[key])
    for dim, value in want.get("scores", {}).items():
        if not _close(record["scores"][dim], float(value)):
            differs(f"scores.{dim}", record["scores"][dim], value)
    rules = {r.name: r for r in score.explanation.rules}
    for name, value in want.get("measured", {}).items():
        got = rules[name].measured
        if got is None or not _close(got, float(value)):
            differs(f"rule '{name}' measured", got, value)
    pql = score.explanation.pql
    for name, value in want.get("signals", {}).items():
        sig = next(s for s in pql.signals if s.name == name) if pql else None
        if sig is None or not _close(sig.measured, float(value)):
            differs(f"signal '{name}' measured", sig and sig.measured, value)
    for name, points in want.get("rules", {}).items():
        if not _close(rules[name].points, float(points)):
            differs(f"rule '{name}' points", rules[name].points, points)
    for name, count in want.get("events_counted", {}).items():
        if rules[name].events_counted != count:
            differs(f"rule '{name}' events counted", rules[name].events_counted, count)
    for name, flag in want.get("matched", {}).items():
        if rules[name].matched is not flag:
            differs(f"rule '{name}' matched", rules[name].matched, flag)
    for name, flag in want.get("capped", {}).items():
        if rules[name].capped is not flag:
            differs(f"rule '{name}' capped", rules[name].capped, flag)
    for name, ids in want.get("event_ids", {}).items():
        if list(rules[name].event_ids) != ids:
            differs(f"rule '{name}' event ids", list(rules[name].event_ids), ids)
    return problems


def test_every_case_is_well_formed() -> None:
    assert len(CASES) >= 8
    for path in CASES:
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert {"description", "as_of", "model", "leads", "events", "expect"} <= set(case), path
        lead_ids = {lead["lead_id"] for lead in case["leads"]}
        assert set(case["expect"]) <= lead_ids, path
        owners = {e[0] for e in case["events"] if not isinstance(e[0], dict)}
        assert owners <= lead_ids, path
        for e in case["events"]:  # an account-level event: {account_id: ...} alone
            assert not isinstance(e[0], dict) or set(e[0]) == {"account_id"}, (path, e)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(engine: str, path: Path, tmp_path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    scores = _scores(engine, case, tmp_path)
    assert sorted(scores) == sorted(lead["lead_id"] for lead in case["leads"])
    problems = [
        line
        for lead_id, want in case["expect"].items()
        for line in _check(lead_id, scores[lead_id], want)
    ]
    assert not problems, f"{path.name} on {engine}:\n" + "\n".join(problems)
    if engine != "python":  # the whole explanation, field by field, as the Python executor's
        python = _scores("python", case, tmp_path)
        explained = _explained_on_spark(case) if engine == "spark" else set(scores)
        for lead_id, score in scores.items():
            want, got = python[lead_id], score
            ids = lead_id in explained  # the batch lists no event ids
            record_diffs = explanation_differences(want.to_record(), got.to_record())
            diffs = explanation_differences(
                want.explanation.to_dict(), got.explanation.to_dict(), ids=ids
            )
            assert not record_diffs + diffs, f"{path.name} on {engine}, {lead_id}: {diffs}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_records_written_by_duckdb(path: Path, tmp_path: Path) -> None:
    """``leadgate score``'s DuckDB path (records written by DuckDB, event checks counted in the
    scoring pass, the filter moved into the flags) says what each case expects."""
    import json

    from leadgate.batch import write_score_records

    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    model, leads, events, accounts = _inputs(case, tmp_path)
    plan = compile_model(load_model(model))
    as_of = datetime.fromisoformat(_text_time(case["as_of"]).replace("Z", "+00:00"))
    out = tmp_path / "scores.jsonl"
    write_score_records(plan, leads, events, as_of, "jsonl", out, accounts=accounts)
    records = {r["lead_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert sorted(records) == sorted(lead["lead_id"] for lead in case["leads"])
    problems = []
    for lead_id, want in case["expect"].items():
        got = records[lead_id]
        for key in ("total", "threshold"):
            if key in want and not _close(got[key], float(want[key])):
                problems.append(f"{lead_id} {key}: got {got[key]!r}, expected {want[key]!r}")
        for key in ("mql", "segment", "missing", "pql", "pql_signals"):
            if key in want and got[key] != want[key]:
                problems.append(f"{lead_id} {key}: got {got[key]!r}, expected {want[key]!r}")
        for dim, value in want.get("scores", {}).items():
            if not _close(got["scores"][dim], float(value)):
                problems.append(f"{lead_id} scores.{dim}: got {got['scores'][dim]!r}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
