"""``leadgate load account-outcomes``: a CRM's account opportunities recorded as account stage
moves (service/account_outcomes.py): through the disposition lifecycle, idempotent, all or
nothing, skipping accounts that are not MQAs."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_accounts_store import _load
from typer.testing import CliRunner

from accounts_helpers import AS_OF, MODEL
from leadgate.errors import IngestError
from leadgate.service import load_file, publish_model
from leadgate.service.accounts import get_account
from leadgate.store import Store, open_store
from leadgate.store.schema import account_states, account_transitions
from store_helpers import BACKENDS, temp_store_url


def _at(days: float) -> str:
    return (AS_OF + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_id", "stage", "at", "amount"])
        writer.writerows(rows)
    return path


@pytest.fixture(params=BACKENDS)
def mqa_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """A1 an MQA, A2 engaged (the small accounts_helpers data, threshold 80)."""
    with temp_store_url(request.param, tmp_path) as url, open_store(url) as store:
        _load(store)
        low = MODEL.replace("threshold: 100", "threshold: 80").replace("version: 1", "version: 2")
        publish_model(store, low, actor="t", as_of=AS_OF)
        assert get_account(store, "A1").stage == "mqa"
        assert get_account(store, "A2").stage == "engaged"
        yield url, store


def _snapshot(store: Store) -> tuple[int, list[tuple[str, str]]]:
    with store.read() as conn:
        moves = conn.execute(select(func.count()).select_from(account_transitions)).scalar_one()
        stages = conn.execute(
            select(account_states.c.account_id, account_states.c.stage).order_by("account_id")
        ).all()
    return moves, [tuple(s) for s in stages]


def test_load_records_moves_once_and_skips_accounts_not_handed_off(
    mqa_store: tuple[str, Store], tmp_path: Path
) -> None:
    from leadgate.cli import _register
    from leadgate.cli import app as cli

    if not any(c.name == "load" for c in cli.registered_commands):
        _register()
    url, store = mqa_store
    # out of time order on purpose: the moves apply in time order
    good = _write(tmp_path / "account_outcomes.csv", [
        ("A1", "won", _at(20), "50000"),
        ("A1", "opportunity", _at(1), "50000"),
        ("A2", "opportunity", _at(2), "9000"),  # A2 is not an MQA: skipped
        ("A2", "lost", _at(30), "9000"),
    ])  # fmt: skip
    first = CliRunner().invoke(cli, ["load", "account-outcomes", str(good), "--db", url])
    assert first.exit_code == 0, first.output
    assert "4 row(s): 2 new, 0 updated, 0 already loaded" in first.stdout
    assert "2 account outcome row(s) skipped" in first.stdout
    a1 = get_account(store, "A1")
    assert a1.stage == "customer"
    imported = [(t.from_stage, t.to_stage, t.action, t.at, t.note) for t in a1.transitions
                if t.cause == "import"]  # fmt: skip
    assert imported == [
        ("mqa", "opportunity", "opportunity", datetime.fromisoformat(_at(1)), "amount 50,000.00"),
        ("opportunity", "customer", "won", datetime.fromisoformat(_at(20)), "amount 50,000.00"),
    ]
    assert get_account(store, "A2").stage == "engaged"
    before = _snapshot(store)
    again = load_file(store, "account-outcomes", good, as_of=AS_OF)
    assert (again.rows, again.inserted, again.ignored, again.skipped) == (4, 0, 2, 2)
    assert _snapshot(store) == before  # a replayed file adds nothing


BAD = [
    ([("A1", "closed", _at(1), "1")], 2, "stage", "must be opportunity, won or lost, got 'closed'"),
    ([("A1", "opportunity", _at(1), "1"), ("", "won", _at(2), "1")], 3, "account_id", "required"),
    ([("A1", "opportunity", "yesterday", "1")], 2, "at", "timestamp"),
    ([("A1", "opportunity", _at(1), "lots")], 2, "amount", "must be a number"),
    ([("A1", "opportunity", _at(1), "1"), ("ZZ", "won", _at(2), "1")], 3, "account_id",
     "unknown account 'ZZ'"),
    ([("A1", "opportunity", _at(1), "1"), ("A1", "opportunity", _at(2), "1")], 3, "stage",
     "cannot opportunity an account at stage 'opportunity'"),
    ([("A1", "opportunity", _at(-40), "1")], 2, "at", "earlier than the account reached stage"),
]  # fmt: skip


def test_a_bad_row_is_refused_with_its_line_and_field_and_nothing_is_written(
    mqa_store: tuple[str, Store], tmp_path: Path
) -> None:
    _, store = mqa_store
    before = _snapshot(store)
    for k, (rows, line, field, message) in enumerate(BAD):
        path = _write(tmp_path / f"bad{k}.csv", rows)
        with pytest.raises(IngestError) as caught:
            load_file(store, "account-outcomes", path, as_of=AS_OF)
        assert (caught.value.line, caught.value.field) == (line, field), str(caught.value)
        assert str(caught.value).startswith(f"{path}:{line}: {field}: ")
        assert message in str(caught.value)
        assert _snapshot(store) == before  # the valid rows before it were rolled back
    headless = tmp_path / "no_stage.csv"
    headless.write_text(f"account_id,at\nA1,{_at(1)}\n", encoding="utf-8")
    with pytest.raises(IngestError, match="no stage column in the header"):
        load_file(store, "account-outcomes", headless, as_of=AS_OF)
    assert _snapshot(store) == before
