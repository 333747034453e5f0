"""The per-account executor on the hand-checked account set (tests/accounts_helpers.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from accounts_helpers import ACCOUNTS, AS_OF, EVENTS, LEADS, MODEL
from leadgate.engine import ir
from leadgate.engine.accounts_compile import compile_accounts
from leadgate.engine.accounts_ir import Rollup
from leadgate.engine.accounts_python import ScoredLead, rollup_value, score_account
from leadgate.engine.accounts_result import AccountScore
from leadgate.engine.python import score_lead
from leadgate.io.readers import event_from_row
from leadgate.model import parse_model

PLAN = compile_accounts(parse_model(MODEL))


def _score(account: dict[str, Any], as_of: Any = AS_OF) -> AccountScore:
    lead_events: dict[str, list[Any]] = {}
    account_events = []
    for row in EVENTS:
        row = dict(row)
        if "lead_id" in row:
            ev = event_from_row(row)
            lead_events.setdefault(ev.lead_id, []).append(ev)
        elif row.pop("account_id") == account["account_id"]:
            account_events.append(event_from_row({**row, "lead_id": account["account_id"]}))
    leads = [
        ScoredLead.of(p, score_lead(PLAN.lead, p, lead_events.get(p["lead_id"], []), as_of))
        for p in LEADS
        if p.get("account_id") == account["account_id"]
    ]
    return score_account(PLAN, account, account_events, leads, as_of, account["account_id"])


def test_a1_scores_as_worked_out_by_hand() -> None:
    # Leads: L1 VP 20 fit + 20 engagement (4 opens, capped) = 40; L2 10; L3 5; L4 15.
    # Engaged (engagement >= 10): L1, L2, L4 -> 3 x 10 = 30; best three totals 40+15+10 = 65 x 0.5.
    # Intent: /pricing 14 days old, half-life 14 -> 2.5; /home does not match.
    s = _score(ACCOUNTS[0])
    assert s.scores == {"fit": 20.0, "engagement": 62.5, "intent": 2.5}
    assert s.total == 85.0 and not s.mqa and s.abm
    assert s.missing == ["threshold 100: short by 15 points"]
    rules = {r.name: r for r in s.explanation.rules}
    assert (rules["engaged people"].value, rules["engaged people"].leads) == (
        3.0,
        ("L1", "L2", "L4"),
    )
    assert rules["best three leads"].leads == ("L1", "L4", "L2")
    assert rules["pricing research"].event_ids == ("x1",)
    record = s.to_record()
    assert record["buying_group"] == {
        "completeness": 0.8333,
        "roles": {
            "decision maker": {"filled": 1, "required": 1, "members": ["L1"]},
            "champion": {"filled": 1, "required": 1, "members": ["L2"]},
            "practitioner": {"filled": 1, "required": 2, "members": ["L4"]},  # L3 not engaged
        },
    }
    assert list(record) == [
        "account_id", "scores", "total", "mqa", "abm", "missing", "buying_group", "threshold",
        "as_of", "model",
    ]  # fmt: skip


def test_a2_lacks_floor_roles_and_threshold_in_order() -> None:
    s = _score(ACCOUNTS[1])
    assert s.missing == [
        "fit floor 20: short by 20",
        "role champion: 0 of 1 engaged",
        "role practitioner: 0 of 2 engaged",
        "threshold 100: short by 75 points",
    ]
    assert not s.abm


def test_events_after_as_of_do_not_exist() -> None:
    s = _score(ACCOUNTS[0], AS_OF - timedelta(days=25))
    assert s.scores["intent"] == 0.0  # the pricing visit is later
    assert s.explanation.rules[1].value == 0.0  # and so are every lead's opens


_VIEWS = [
    {"lead_id": "a", "score.total": 5.0, "score.fit": 1.0, "mql": False, "dept": "IT"},
    {"lead_id": "b", "score.total": 9.0, "score.fit": 3.0, "mql": True, "dept": "it"},
    {"lead_id": "c", "score.total": 9.0, "score.fit": 2.0, "mql": True},
]


@pytest.mark.parametrize(
    ("rollup", "value", "leads"),
    [
        (Rollup("count"), 3.0, ("a", "b", "c")),
        (Rollup("count", where=ir.Test("mql", ir.Op.BOOL_EQ, True)), 2.0, ("b", "c")),
        (Rollup("sum", "fit"), 6.0, ("a", "b", "c")),
        (Rollup("max", "total"), 9.0, ("b",)),  # ties by lead id
        (Rollup("top_sum", "total", 2), 18.0, ("b", "c")),
        (Rollup("count_distinct", "dept"), 1.0, ("a", "b")),  # case-folded, missing skipped
        (Rollup("max", "total", where=ir.Test("dept", ir.Op.EXISTS, False)), 9.0, ("c",)),
        (Rollup("sum", "total", where=ir.Test("dept", ir.Op.TEXT_IN, ("x",))), 0.0, ()),
    ],
)
def test_rollup_kinds(rollup: Rollup, value: float, leads: tuple[str, ...]) -> None:
    assert rollup_value(rollup, _VIEWS) == (value, leads)
