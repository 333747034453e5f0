"""The hand-checked account case (tests/accounts_helpers.py) from files, on every engine.

The expectations are worked out by hand in test_accounts_python.py's comments; here every engine
must give them, reading the same files a user would (one events file holding lead events and
account-level events).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accounts_helpers import ACCOUNTS, AS_OF, EVENTS, LEADS, MODEL
from leadgate.account_scoring import explain_account, score_account_files
from leadgate.batch.spark_runner import spark_available
from leadgate.errors import IngestError, NotFoundError, OptionError
from store_helpers import POSTGRES_ENGINE, engine_options

ENGINES = [
    "python",
    "duckdb",
    "sqlite",
    POSTGRES_ENGINE,
    pytest.param(
        "spark",
        marks=[
            pytest.mark.spark,
            pytest.mark.skipif(not spark_available(), reason="needs PySpark and Java"),
        ],
    ),
]


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("accounts")
    (d / "model.yaml").write_text(MODEL, encoding="utf-8")
    return {
        "model": d / "model.yaml",
        "leads": _jsonl(d / "leads.jsonl", LEADS),
        "events": _jsonl(d / "events.jsonl", EVENTS),
        "accounts": _jsonl(d / "accounts.jsonl", ACCOUNTS),
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_hand_checked_accounts(engine: str, files: dict[str, Path]) -> None:
    a1, a2 = score_account_files(
        files["model"], files["leads"], files["events"], files["accounts"], AS_OF,
        engine=engine_options(engine),
    )  # fmt: skip
    assert (a1.account_id, a2.account_id) == ("A1", "A2")
    assert a1.scores == pytest.approx({"fit": 20.0, "engagement": 62.5, "intent": 2.5}, abs=1e-9)
    assert a1.missing == ["threshold 100: short by 15 points"] and a1.abm and not a1.mqa
    assert a1.to_record()["buying_group"]["roles"]["practitioner"] == {
        "filled": 1, "required": 2, "members": ["L4"],
    }  # fmt: skip
    rules = {r.name: r for r in a1.explanation.rules}
    assert rules["best three leads"].leads == ("L1", "L4", "L2")
    assert rules["engaged people"].value == 3.0
    assert a2.missing == [
        "fit floor 20: short by 20",
        "role champion: 0 of 1 engaged",
        "role practitioner: 0 of 2 engaged",
        "threshold 100: short by 75 points",
    ]
    explained = explain_account(
        files["model"], files["leads"], files["events"], files["accounts"], "A1", AS_OF,
        engine=engine_options(engine),
    )  # fmt: skip
    assert {r.name: r for r in explained.explanation.rules}["pricing research"].event_ids == ("x1",)
    assert explained.explanation.leads == ("L1", "L2", "L3", "L4")


def test_unknown_account_and_engine_and_bad_rows_are_refused(
    files: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="no account with account_id 'A9'"):
        explain_account(
            files["model"], files["leads"], files["events"], files["accounts"], "A9", AS_OF
        )
    with pytest.raises(OptionError, match="engine"):
        score_account_files(
            files["model"], files["leads"], None, files["accounts"], AS_OF, engine="oracle"
        )
    rows = [
        *EVENTS[:2],
        {"lead_id": None, "account_id": None, "type": "x", "timestamp": "2026-10-01"},
    ]
    bad = _jsonl(tmp_path / "bad.jsonl", rows)
    for engine in ("python", "duckdb"):
        with pytest.raises(IngestError) as info:
            score_account_files(
                files["model"], files["leads"], bad, files["accounts"], AS_OF, engine=engine
            )
        assert "bad.jsonl:3" in str(info.value) and "account_id" in str(info.value), engine
    dup = _jsonl(tmp_path / "dup.jsonl", [*ACCOUNTS, ACCOUNTS[0]])
    for engine in ("python", "duckdb"):
        with pytest.raises(IngestError, match=r"dup\.jsonl:3: .*duplicate account_id 'A1'"):
            score_account_files(
                files["model"], files["leads"], files["events"], dup, AS_OF, engine=engine
            )
