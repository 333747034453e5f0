"""The SQL compiler: golden results per operator on every local engine, and what reaches SQL text."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from factories import AS_OF, REFERENCE_MODEL, ev, one_rule, plan_of
from leadgate.batch import score_file_records
from leadgate.engine import Plan, compile_model, score_lead
from leadgate.engine.sql import InputShape, output_columns, query_sql
from leadgate.engine.sql_shape import rule_value
from leadgate.errors import IngestError, UnsupportedTargetError
from leadgate.model import load_model

LOCAL = ("duckdb", "sqlite")
DIALECTS = ("duckdb", "sqlite", "postgres", "spark", "snowflake", "bigquery")


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _score_one(tmp_path: Path, plan: Plan, cells: dict[str, str], engine: str) -> dict[str, Any]:
    leads = _write_csv(tmp_path / "leads.csv", ["lead_id", *cells], [["L1", *cells.values()]])
    return score_file_records(plan, leads, None, AS_OF, engine=engine)[0]


# (condition, cell text, matches?) -- the Python executor's answers, docs/semantics.md "Operators"
GOLDEN = [
    ({"v": {"eq": "Acme"}}, "ACME", True),
    ({"v": {"eq": "É"}}, "é", False),  # ASCII-only folding
    ({"v": {"eq": 200}}, "200.0", True),
    ({"v": {"eq": 200}}, "2e2", True),
    ({"v": {"eq": 200}}, " 200", False),
    ({"v": {"ne": "us"}}, "", False),  # missing never matches ne
    ({"v": {"ne": "us"}}, "FR", True),
    ({"v": {"eq": True}}, "Yes", True),
    ({"v": {"eq": True}}, "maybe", False),
    ({"v": {"ne": True}}, "f", True),
    ({"v": {"in": [1, 2]}}, "2", True),
    ({"v": {"in": ["a", 2]}}, "2", True),
    ({"v": {"not_in": ["US", "CA"]}}, "de", True),
    ({"v": {"not_in": ["US", "CA"]}}, "", False),
    ({"v": {"gt": 10}}, "10.5", True),
    ({"v": {"gte": 10}}, "10", True),
    ({"v": {"lt": 10}}, "n/a", False),
    ({"v": {"lte": -1}}, "-1e0", True),
    ({"v": {"between": [200, 5000]}}, "5000", True),
    ({"v": {"between": [200, 5000]}}, "5000.01", False),
    ({"v": {"contains": "Price"}}, "/PRICING/x", False),
    ({"v": {"contains": "pric"}}, "/PRICING/x", True),
    ({"v": {"not_contains": "x"}}, "abc", True),
    ({"v": {"starts_with": "Vp"}}, "VP Sales", True),
    ({"v": {"ends_with": "ops"}}, "DevOps", True),
    ({"v": {"ends_with": "devops!"}}, "ops", False),
    ({"v": {"matches": r"\b(vp|head of)\b"}}, "Head of Growth", True),
    ({"v": {"matches": r"\bvp\b"}}, "mvp", False),
    ({"v": {"matches": "^a.c$"}}, "A\u00e9C", True),
    ({"v": {"exists": True}}, "", False),
    ({"v": {"exists": False}}, "", True),
    ({"v": {"domain_in": ["rival.io"]}}, "x@EU.Rival.IO", True),
    ({"v": {"domain_in": ["rival.io"]}}, "x@notrival.io", False),
    ({"v": {"domain_in": ["rival.io"]}}, "rival.io", False),  # no '@': no domain
    ({"v": {"domain_matches": r"\.edu$"}}, "s@Uni.EDU", True),
    ({"v": {"not_free_email": True}}, "a@acme.com", True),
    ({"v": {"not_free_email": True}}, "a@mail.GMAIL.com", False),
    ({"v": {"not_free_email": True}}, "a@", False),
    ({"v": {"free_email": True}}, "a@yahoo.co.uk", True),
    ({"not": {"v": {"eq": "us"}}}, "", True),
    ({"any": [{"v": {"gt": 5}}, {"v": {"contains": "x"}}]}, "x", True),
    ({"all": [{"v": {"gt": 5}}, {"v": {"lt": 3}}]}, "4", False),
]


@pytest.mark.parametrize("engine", LOCAL)
@pytest.mark.parametrize(("when", "cell", "expected"), GOLDEN)
def test_operator_golden(
    tmp_path: Path, engine: str, when: dict[str, Any], cell: str, expected: bool
) -> None:
    plan = one_rule(when, points=10)
    python = score_lead(plan, {"v": cell} if cell else {}, [], AS_OF, "L1").total
    assert (python == 10) is expected  # the table itself agrees with the reference executor
    assert _score_one(tmp_path, plan, {"v": cell}, engine)["total"] == python


@pytest.mark.parametrize("engine", LOCAL)
def test_a_field_the_input_lacks_is_missing(tmp_path: Path, engine: str) -> None:
    plan = plan_of({"dimensions": {"fit": {"rules": [
        {"name": "absent", "when": {"nope": {"exists": False}}, "points": 3},
        {"name": "ne", "when": {"nope": {"ne": "x"}}, "points": 100},
        {"name": "negated", "when": {"not": {"nope": {"gt": 1}}}, "points": 4},
    ]}}})  # fmt: skip
    assert _score_one(tmp_path, plan, {"other": "1"}, engine)["total"] == 7


def _typed_inputs(tmp_path: Path, suffix: str) -> tuple[Path, Path]:
    rows = [
        {"lead_id": 1, "size": 250, "ratio": 0.5, "ok": True, "nested": {"tier": "Gold"}},
        {"lead_id": 2, "size": 90, "ratio": 12.0, "ok": False, "nested": {"tier": "silver"}},
    ]
    events = [
        {
            "event_id": "e1",
            "lead_id": 1,
            "type": "view",
            "timestamp": "2026-10-30T12:00:00Z",
            "url": "/pricing",
        },
        {
            "event_id": "e2",
            "lead_id": 1,
            "type": "view",
            "timestamp": "2026-10-31T12:00:00.5+02:00",
            "url": "/blog",
        },
        {
            "event_id": "e3",
            "lead_id": 2,
            "type": "view",
            "timestamp": "2026-11-02T00:00:00Z",
            "url": "/pricing",
        },
    ]
    leads, evs = tmp_path / f"leads.{suffix}", tmp_path / f"events.{suffix}"
    if suffix == "jsonl":
        leads.write_text("".join(json.dumps(r) + "\n" for r in rows))
        evs.write_text("".join(json.dumps(r) + "\n" for r in events))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), leads)
        pq.write_table(pa.Table.from_pylist(events), evs)
    return leads, evs


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_typed_and_nested_columns_agree_on_duckdb(tmp_path: Path, suffix: str) -> None:
    from leadgate.scoring import score_files

    model = {"dimensions": {"fit": {"rules": [
        {"name": "size", "when": {"size": {"between": [200, 300]}}, "points": 10},
        {"name": "ratio", "when": {"ratio": {"lt": 1}}, "points": 1},
        {"name": "ok", "when": {"ok": {"eq": True}}, "points": 2},
        {"name": "ok text", "when": {"ok": {"eq": "false"}}, "points": 4},
        {"name": "tier", "when": {"nested.tier": "gold"}, "points": 20},
        {"name": "views", "event": "view", "where": {"url": {"contains": "pricing"}}, "points": 5, "half_life_days": 2},
    ]}}}  # fmt: skip
    plan = plan_of(model)
    leads, evs = _typed_inputs(tmp_path, suffix)
    model_path = tmp_path / "m.yaml"
    from factories import model_text

    model_path.write_text(model_text(model))
    expected = score_files(model_path, leads, evs, AS_OF)
    got = score_file_records(plan, leads, evs, AS_OF, engine="duckdb")
    assert [r["total"] for r in got] == pytest.approx([r["total"] for r in expected], abs=1e-9)
    assert expected[0]["total"] > 33  # the typed columns really matched


def test_reference_model_explanation_matches_python(tmp_path: Path) -> None:
    from leadgate.batch import iter_batch_scores

    plan = compile_model(load_model(REFERENCE_MODEL))
    leads = _write_csv(tmp_path / "l.csv", ["lead_id", "title", "email", "company_size"],
                       [["L1", "VP Sales", "a@acme.com", "300"]])  # fmt: skip
    events = [ev("email_open", d, f"o{d}") for d in (1, 2, 3, 4, 5, 6, 40)]
    events += [ev("page_view", d, f"p{d}", url="/pricing") for d in (1, 2, 3, 9)]
    rows = [
        [e.event_id, "L1", e.type, e.timestamp.isoformat(), e.properties.get("url", "")]
        for e in events
    ]
    evs = _write_csv(tmp_path / "e.csv", ["event_id", "lead_id", "type", "timestamp", "url"], rows)
    python = score_lead(
        plan, {"title": "VP Sales", "email": "a@acme.com", "company_size": 300}, events, AS_OF, "L1"
    )
    sql = next(iter_batch_scores(plan, leads, evs, AS_OF))
    for a, b in zip(python.explanation.rules, sql.explanation.rules, strict=True):
        assert (a.key, a.events_counted, a.capped) == (b.key, b.events_counted, b.capped)
        assert b.points == pytest.approx(a.points, abs=1e-9)
        assert b.decayed_points == pytest.approx(a.decayed_points, abs=1e-9)
    assert sql.missing == python.missing


HOSTILE_FIELD = "x\"; DROP TABLE leads; --`']"
HOSTILE_VALUE = "'; DROP TABLE leads; -- \\' \""


@pytest.mark.parametrize("dialect", DIALECTS)
def test_hostile_names_and_values_stay_identifiers_and_literals(dialect: str) -> None:
    plan = plan_of({
        "dimensions": {'fit"; DROP': {"rules": [
            {"name": "n", "when": {HOSTILE_FIELD: {"eq": HOSTILE_VALUE}}, "points": 1},
            {"name": "e", "event": "t'; --", "where": {HOSTILE_FIELD: {"contains": HOSTILE_VALUE}}, "points": 1},
        ]}},
        "segments": [{"name": "s'; DROP", "when": {HOSTILE_FIELD: {"exists": True}}}],
    })  # fmt: skip
    text = query_sql(plan, AS_OF, dialect)
    statements = sqlglot.parse(text, read=dialect)
    assert len(statements) == 1
    tree = statements[0]
    assert tree is not None
    identifiers = {i.name for i in tree.find_all(exp.Identifier)}
    literals = {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}
    assert HOSTILE_FIELD in identifiers
    assert {HOSTILE_VALUE.lower(), "t'; --", "s'; DROP"} <= literals
    assert not any(isinstance(n, exp.Drop) for n in tree.walk())


def test_printed_query_has_the_documented_columns() -> None:
    plan = compile_model(load_model(REFERENCE_MODEL))
    tree = sqlglot.parse_one(query_sql(plan, AS_OF, "duckdb"), read="duckdb")
    assert isinstance(tree, exp.Select)
    assert tree.named_selects == output_columns(plan)
    assert output_columns(plan)[:6] == [
        "lead_id",
        "segment",
        "segment_index",
        "score_fit",
        "score_engagement",
        "score_intent",
    ]


def test_a_rule_has_columns_for_its_kinds_fields_and_the_others_are_implied() -> None:
    plan = compile_model(load_model(REFERENCE_MODEL))
    columns = set(output_columns(plan))
    profile, event = plan.rules[0], plan.rules[5]  # senior title; opened email (capped)
    assert (profile.kind, event.kind) == ("profile", "event")
    assert {f"{f}_{profile.key}" for f in ("points", "matched", "capped")} <= columns
    assert not {f"{f}_{profile.key}" for f in ("events", "raw", "decayed", "measured")} & columns
    assert {f"{f}_{event.key}" for f in ("events", "raw", "decayed", "capped")} <= columns
    assert f"measured_{event.key}" not in columns
    row = {f"points_{profile.key}": 20.0, f"matched_{profile.key}": True}
    implied = {f: rule_value(row, profile, f) for f in ("events", "raw", "decayed", "measured")}
    assert implied == {"events": 0, "raw": 20.0, "decayed": 20.0, "measured": None}


def test_regex_translation_per_dialect() -> None:
    plan = one_rule({"title": {"matches": r"\bvp\b"}})
    boundary = "(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))"
    assert f"~* '{boundary}vp{boundary}'" in query_sql(plan, AS_OF, "postgres")
    assert f"RLIKE '(?diu){boundary}vp{boundary}'" in query_sql(plan, AS_OF, "spark")
    assert r"REGEXP_MATCHES(p0_t, '(?i)\bvp\b')" in query_sql(plan, AS_OF, "duckdb")
    assert "REGEXP '\\bvp\\b'" in query_sql(plan, AS_OF, "sqlite")


def test_a_regex_a_dialect_cannot_match_is_refused_not_hidden() -> None:
    plan = one_rule({"title": {"matches": r"\pL+"}})
    with pytest.raises(UnsupportedTargetError, match=r"PostgreSQL cannot match"):
        query_sql(plan, AS_OF, "postgres")
    with pytest.raises(UnsupportedTargetError, match=r"Spark cannot match"):
        query_sql(plan, AS_OF, "spark")
    assert query_sql(plan, AS_OF, "duckdb")


def test_ages_use_epoch_seconds_never_a_date_difference() -> None:
    plan = compile_model(load_model(REFERENCE_MODEL))
    for dialect in DIALECTS:
        text = query_sql(plan, AS_OF, dialect).upper()
        assert "DATEDIFF" not in text and "DATE_DIFF" not in text and "AGE(" not in text
        assert "86400.0" in text


def test_unknown_dialect_is_a_user_error() -> None:
    with pytest.raises(UnsupportedTargetError, match=r"unknown SQL dialect 'oracle'"):
        query_sql(one_rule({"a": 1}), AS_OF, "oracle")


@pytest.mark.parametrize("engine", LOCAL)
def test_duplicate_lead_is_reported_with_its_line(tmp_path: Path, engine: str) -> None:
    leads = _write_csv(
        tmp_path / "l.csv", ["lead_id", "a"], [["L1", "x"], ["L2", "y"], ["L1", "z"]]
    )
    with pytest.raises(IngestError, match=r"l\.csv:4: lead_id: duplicate lead_id 'L1'"):
        score_file_records(one_rule({"a": "x"}), leads, None, AS_OF, engine=engine)


def test_events_without_a_timestamp_are_refused_on_duckdb(tmp_path: Path) -> None:
    leads = _write_csv(tmp_path / "l.csv", ["lead_id"], [["L1"]])
    evs = _write_csv(
        tmp_path / "e.csv", ["lead_id", "type", "timestamp"], [["L1", "open", "yesterday"]]
    )
    with pytest.raises(
        IngestError, match=r"e\.csv:2: timestamp: expected an ISO 8601 .* got 'yesterday'"
    ):
        score_file_records(one_rule({"a": "x"}), leads, evs, AS_OF, engine="duckdb")


def test_shape_without_events_compiles_event_rules_to_zero() -> None:
    plan = compile_model(load_model(REFERENCE_MODEL))
    text = query_sql(plan, AS_OF, "duckdb", InputShape(has_events=False))
    assert "ev_agg" not in text and "events" not in text.split("FROM")[-1]


def test_fast_records_equal_full_scores(tmp_path: Path) -> None:
    from leadgate.batch import iter_batch_scores

    plan = compile_model(load_model(REFERENCE_MODEL))
    header = ["lead_id", "title", "email", "company_size", "country", "industry"]
    leads = _write_csv(tmp_path / "l.csv", header, [
        ["L1", "VP Sales", "a@acme.com", "300", "US", "software"],
        ["L2", "Engineer", "b@gmail.com", "9000", "FR", ""],
        ["L3", "Head of IT", "c@eu.rival.io", "", "DE", "fintech"],
        ["L4", "", "d@uni.edu", "n/a", "", ""],
    ])  # fmt: skip
    rows = [[f"e{i}", "L1", "demo_request", "2026-10-30T00:00:00Z"] for i in range(2)]
    evs = _write_csv(tmp_path / "e.csv", ["event_id", "lead_id", "type", "timestamp"], rows)
    full = [s.to_record() for s in iter_batch_scores(plan, leads, evs, AS_OF)]
    assert score_file_records(plan, leads, evs, AS_OF) == full
    assert {m.split(":")[0] for r in full for m in r["missing"]} >= {
        "disqualified", "gate failed", "fit floor 30", "threshold 60",
    }  # fmt: skip


@pytest.mark.parametrize("engine", LOCAL)
def test_accounts_join_as_account_columns(tmp_path: Path, engine: str) -> None:
    check_accounts_join(tmp_path, engine)


def check_accounts_join(tmp_path: Path, engine: str) -> None:
    """account.<attr> from the accounts file; a lead's own account.<attr> column wins."""
    from leadgate.scoring import score_files

    model = {"dimensions": {"fit": {"rules": [
        {"name": "industry", "when": {"account.industry": "Software"}, "points": 10},
        {"name": "own wins", "when": {"account.tier": "gold"}, "points": 5},
        {"name": "no account", "when": {"account.industry": {"exists": False}}, "points": 1},
    ]}}}  # fmt: skip
    from factories import model_text

    model_path = tmp_path / "m.yaml"
    model_path.write_text(model_text(model))
    leads = _write_csv(tmp_path / "l.csv", ["lead_id", "account_id", "account.tier"],
                       [["L1", "A1", "gold"], ["L2", "A2", ""], ["L3", "", ""]])  # fmt: skip
    accounts = _write_csv(tmp_path / "a.csv", ["account_id", "industry", "tier"],
                          [["A1", "software", "silver"], ["A2", "retail", "gold"]])  # fmt: skip
    expected = score_files(model_path, leads, None, AS_OF, accounts=accounts)
    got = score_file_records(plan_of(model), leads, None, AS_OF, engine=engine, accounts=accounts)
    assert [r["total"] for r in got] == [r["total"] for r in expected] == [15, 5, 1]
