"""Account records written by DuckDB (``account_scoring.write_account_files``) are byte for byte
what ``io.writers`` writes for ``AccountScore.to_record()``, in the accounts file's order: on a
model whose names need escaping and quoting, and on random models and inputs."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

from accounts_agreement import AS_OF, account_inputs, account_models
from accounts_helpers import LEAD_MODEL
from leadgate.account_scoring import AccountInputs, score_account_files, write_account_files
from leadgate.io.writers import write_records

# Names a writer must escape or quote: quotes, commas, a backslash, non-ASCII; role names that
# sort otherwise than in the model (the flat buying group sorts its keys).
ACCOUNTS_BLOCK = """\
accounts:
  threshold: 45.5
  floors: {'fit, "f"': 20}
  abm_when: {tier: {in: [1, 2]}}
  require: [{name: 'known "industry", ok', when: {industry: {exists: true}}}]
  disqualify: [{name: 'bots; é', events: {type: page_view, min_count: 3}}]
  dimensions:
    'fit, "f"':
      rules:
        - {name: target industry, when: {industry: {in: [software, fintech]}}, points: 20}
    engagement\\x:
      rules:
        - {name: people, rollup: {count: leads, where: {score.engagement: {gte: 10}}}, points: 10}
        - {name: best, rollup: {top_sum: total, n: 3}, points: 0.5}
  buying_group:
    roles:
      - {name: 'zé "decider"', when: {title: {matches: '\\b(vp|director)\\b'}}, required: 1}
      - {name: champion, when: {title: {matches: '\\bmanager\\b'}}, required: 16}
      - {name: 'a, practitioner', when: {title: {matches: 'engineer|analyst'}}, required: 2}
    engaged_when: {score.engagement: {gte: 10}}
    min_completeness: 0.6
"""
MODEL = LEAD_MODEL + ACCOUNTS_BLOCK
ACCOUNTS = [
    {"account_id": 'z, "last"', "industry": "software", "tier": 1},
    {"account_id": "A\\2\té", "industry": "retail", "tier": 3},
    {"account_id": "A3", "tier": 2},
    {"account_id": "A4-no-leads", "industry": "fintech", "tier": 2},
]
LEADS = [
    {"lead_id": 'L"1,', "account_id": 'z, "last"', "title": "VP Engineering"},
    {"lead_id": "L0\\x", "account_id": 'z, "last"', "title": "Data Analyst"},
    {"lead_id": "L2", "account_id": 'z, "last"', "title": "Engineer"},
    {"lead_id": "L3", "account_id": "A\\2\té", "title": "Manager"},
    {"lead_id": "L4", "account_id": "A3", "title": "director"},
    {"lead_id": "L5", "title": "Analyst"},
]
EVENTS = [
    *({"lead_id": lead, "type": "email_open", "timestamp": f"2026-10-{10 + i:02d}T00:00:00Z"}
      for lead, n in (('L"1,', 4), ("L0\\x", 2), ("L2", 3), ("L3", 2), ("L4", 1))
      for i in range(n)),
    *({"account_id": "A3", "type": "page_view", "timestamp": f"2026-10-2{i}T00:00:00Z",
       "url": "/pricing"} for i in range(3)),
]  # fmt: skip
FORMATS = ("jsonl", "csv", "parquet")


def _write(folder: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _files(folder: Path, model: str, accounts: Any, leads: Any, events: Any) -> list[Path]:
    (folder / "model.yaml").write_text(model, encoding="utf-8")
    return [
        folder / "model.yaml", _write(folder, "leads", leads), _write(folder, "events", events),
        _write(folder, "accounts", accounts),
    ]  # fmt: skip


def _same(
    files: list[Path], folder: Path, fmt: str, *, stream: bool = True,
    records: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """DuckDB's file (and ``stream``) equal the Python writer's for the same scores; the
    records (``records``: already made)."""
    model, leads, events, accounts = files
    if records is None:
        scores = score_account_files(model, leads, events, accounts, AS_OF, engine="duckdb")
        records = [s.to_record() for s in scores]
    expected, got = folder / f"python.{fmt}", folder / f"duckdb.{fmt}"
    write_records(records, expected, fmt)
    n = write_account_files(model, leads, events, accounts, AS_OF, fmt, got)
    assert n == (len(records), sum(r["mqa"] for r in records))
    if fmt == "parquet":
        # DuckDB marks the columns it knows are never NULL; names, types and values are the same.
        a, b = pq.read_table(expected), pq.read_table(got)
        assert a.column_names == b.column_names
        assert [f.type for f in a.schema] == [f.type for f in b.schema]
        assert a.to_pylist() == b.to_pylist()
        return records
    assert got.read_bytes() == expected.read_bytes()
    if stream:
        out = io.StringIO(newline="")
        write_account_files(model, leads, events, accounts, AS_OF, fmt, None, stream=out)
        # On stdout, no records as a CSV is the header the command printed before: account_id.
        printed = "account_id\r\n" if fmt == "csv" and not records else None
        assert out.getvalue() == (printed or expected.read_bytes().decode("utf-8"))
    return records


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _files(tmp_path_factory.mktemp("acc_records"), MODEL, ACCOUNTS, LEADS, EVENTS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_records_are_what_the_python_writer_writes(
    files: list[Path], tmp_path: Path, fmt: str
) -> None:
    records = _same(files, tmp_path, fmt)
    assert [r["account_id"] for r in records] == [a["account_id"] for a in ACCOUNTS]
    # Every kind of lack.
    missing = [m for r in records for m in r["missing"]]
    for text in ("disqualified: bots; é", 'gate failed: known "industry", ok',
                 'fit, "f" floor 20: short by 20', "role champion: 0 of 16 engaged",
                 "threshold 45.5: short by"):  # fmt: skip
        assert any(m.startswith(text) for m in missing), (text, missing)
    assert records[0]["buying_group"]["roles"]['zé "decider"']["members"] == ['L"1,']
    assert records[0]["abm"] and not records[1]["abm"]


def test_completeness_is_rounded_as_python_rounds() -> None:
    import duckdb

    from leadgate.batch.account_text import _completeness

    # Ties of the exact binary value (1/32, 5/32) and values just off a tie.
    values = [0.03125, 0.15625, 0.00015, 0.7777777777777778, 1.0, 0.0, 0.6666666666666666, 0.5]
    sql = f"SELECT {_completeness().sql('duckdb')} FROM (SELECT unnest($1) AS acc_completeness)"
    got = [row[0] for row in duckdb.connect().execute(sql, [values]).fetchall()]
    assert got == [json.dumps(round(v, 4)) for v in values]


def test_a_member_id_beyond_ascii_takes_the_python_writer_in_flat_formats(tmp_path: Path) -> None:
    leads = [*LEADS, {"lead_id": "L😀", "account_id": "A3", "title": "VP"}]
    events = [
        *EVENTS,
        *({"lead_id": "L😀", "type": "email_open", "timestamp": f"2026-10-3{i}T00:00:00Z"}
          for i in range(2)),
    ]  # fmt: skip
    folder_files = _files(tmp_path, MODEL, ACCOUNTS, leads, events)
    for fmt in FORMATS:
        records = _same(folder_files, tmp_path, fmt)
    assert "L😀" in records[2]["buying_group"]["roles"]['zé "decider"']["members"]


def test_no_accounts_writes_what_the_python_writer_writes(tmp_path: Path) -> None:
    folder_files = _files(tmp_path, MODEL, [], LEADS[:1], [])
    for fmt in FORMATS:
        assert _same(folder_files, tmp_path, fmt) == []


def _raw(inputs: AccountInputs) -> tuple[list[Any], list[Any], list[Any]]:
    """The inputs as the files they were read from, with a lead of an account not in the file
    and its event (no file is empty, each has every column, each column a value)."""
    leads = [
        {"account_id": None, **{k: v for k, v in p.items() if not k.startswith("account.")}}
        for p in [*inputs.leads, {"lead_id": "no-account", "account_id": "not-listed"}]
    ]
    events: list[dict[str, Any]] = [
        {"lead_id": "no-account", "account_id": None, "type": "open",
         "timestamp": AS_OF.isoformat(), "event_id": "n"},
    ]  # fmt: skip
    for owner, field in ((inputs.events.leads, "lead_id"), (inputs.events.accounts, "account_id")):
        for key, evs in owner.items():
            events += [
                {"lead_id": None, "account_id": None, field: key, "type": e.type, "timestamp": e.timestamp.isoformat(),
                 "event_id": e.event_id, **e.properties}
                for e in evs
            ]  # fmt: skip
    return inputs.accounts, leads, events


@settings(max_examples=6, deadline=None)  # three DuckDB runs each; the formats' own tests above
@given(model=account_models(), inputs=account_inputs())
def test_random_models_write_the_python_writers_bytes(model: str, inputs: AccountInputs) -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = _files(Path(folder), model, *_raw(inputs))
        records = _same(files, Path(folder), "jsonl", stream=False)
        _same(files, Path(folder), "csv", stream=False, records=records)


@pytest.mark.parametrize(
    "row",
    [
        {"lead_id": None, "account_id": "", "type": "x", "timestamp": "2026-10-01T00:00:00Z"},
        {"lead_id": None, "account_id": "A3", "type": " ", "timestamp": "2026-10-01T00:00:00Z"},
        {"lead_id": "L2", "account_id": None, "type": "x", "timestamp": "yesterday"},
    ],
)
def test_a_bad_event_row_is_named_as_the_python_reader_names_it_and_nothing_is_written(
    files: list[Path], tmp_path: Path, row: dict[str, Any]
) -> None:
    from leadgate.errors import IngestError

    model, leads, _, accounts = files
    events = _write(tmp_path, "bad", [*EVENTS[:2], row, *EVENTS[2:]])
    with pytest.raises(IngestError) as python:
        score_account_files(model, leads, events, accounts, AS_OF, engine="python")
    out = tmp_path / "out.jsonl"
    with pytest.raises(IngestError) as duckdb:
        write_account_files(model, leads, events, accounts, AS_OF, "jsonl", out)
    assert str(duckdb.value) == str(python.value) and "bad.jsonl:3" in str(python.value)
    assert not out.exists() and not list(tmp_path.glob(".leadgate-*"))
