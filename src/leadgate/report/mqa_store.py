"""The MQA report's frames read from the store (issue #15): accounts with their MQA cycles, and
which leads belong to ABM accounts.

An account's MQA cycles and their progress are its ``account_transitions``: the move to ``mqa``
opens cycle N (its MQA time), and within that cycle ``accept`` (the first touch), ``reject``, the
move to ``opportunity`` and to ``customer`` (won) say how far it got. An account is ABM when the
published model's ``accounts.abm_when`` matches its stored attributes (the same predicate the
executors use), so the classification holds whether or not lead hand-offs already follow
``abm_when``; without an ``abm_when`` no account is ABM.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import select

from leadgate.report.frame import UNKNOWN, size_segment

ACCOUNT_COLUMNS = ("account_id", "cycle", "created_at", "tier", "segment", "abm", "is_mqa",
                   "mqa_time", "accepted", "rejected", "opp", "won", "lost")  # fmt: skip


def _abm_predicate(conn: Any) -> Callable[[Mapping[str, Any]], bool] | None:
    """The published model's ``abm_when`` as a predicate on account attributes, if any."""
    from leadgate.engine.accounts_compile import compile_accounts
    from leadgate.engine.python import predicate
    from leadgate.model import parse_model
    from leadgate.store.schema import model_versions as mv

    row = conn.execute(select(mv.c.yaml).order_by(mv.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    model = parse_model(row.yaml)
    if model.spec.accounts is None:
        return None
    when = compile_accounts(model).abm_when
    if when is None:
        return None
    test = predicate(when)
    return lambda attrs: bool(test(attrs))


def _label(value: Any) -> str:
    """A tier or segment as text: ``1`` for 1 or 1.0, ``unknown`` when missing."""
    if value is None or value == "":
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _progress(conn: Any) -> tuple[dict[tuple[str, int], dict[str, Any]], set[str]]:
    """Per (account, cycle): its MQA time and how far it got; and the accounts ever scored."""
    from leadgate.store.schema import account_transitions as at

    steps: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
    seen: set[str] = set()
    q = select(at.c.account_id, at.c.cycle, at.c.to_stage, at.c.action, at.c.at).order_by(at.c.id)
    for r in conn.execute(q):
        seen.add(r.account_id)
        s = steps[(r.account_id, r.cycle)]
        if r.action is None and r.to_stage == "mqa":
            s.setdefault("mqa_time", r.at)
        if r.action:
            s.setdefault(r.action, r.at)
        if r.to_stage in ("opportunity", "customer"):
            s.setdefault(r.to_stage, r.at)
    return steps, seen


def account_frame_from_store(store: Any) -> tuple[pd.DataFrame, dict[str, bool]]:
    """The account frame (``report/mqa.py``) and, per lead id, whether its account is ABM."""
    from leadgate.store.schema import accounts, leads

    with store.read() as conn:
        is_abm = _abm_predicate(conn)
        attrs = {
            r.account_id: (dict(r.attrs or {}), r.created_at)
            for r in conn.execute(select(accounts.c.account_id, accounts.c.attrs,
                                         accounts.c.created_at))
        }  # fmt: skip
        steps, _ = _progress(conn)
        lead_accounts = conn.execute(select(leads.c.lead_id, leads.c.account_id)).all()
    abm = {aid: bool(is_abm and is_abm(a)) for aid, (a, _) in attrs.items()}
    cycles: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for (aid, cycle), s in steps.items():
        if "mqa_time" in s:
            cycles[aid].append((cycle, s))
    rows: list[dict[str, Any]] = []
    for aid, (a, created) in attrs.items():
        base = {
            "account_id": aid, "created_at": created, "tier": _label(a.get("tier")),
            "segment": _label(a.get("segment")) if a.get("segment") else size_segment(
                a.get("company_size")),
            "abm": abm[aid],
        }  # fmt: skip
        mine = sorted(cycles.get(aid, []), key=lambda c: c[0])
        if not mine:
            rows.append({**base, "cycle": 0, "is_mqa": False, "mqa_time": None,
                         "accepted": False, "rejected": False, "opp": False, "won": False,
                         "lost": False})  # fmt: skip
        for cycle, s in mine:
            won = "customer" in s or "won" in s
            opp = won or "opportunity" in s or "lost" in s
            rows.append({
                **base, "cycle": cycle, "is_mqa": True, "mqa_time": s["mqa_time"],
                "accepted": opp or "accept" in s, "rejected": "reject" in s, "opp": opp,
                "won": won, "lost": "lost" in s,
            })  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(ACCOUNT_COLUMNS))
    for col in ("created_at", "mqa_time"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("abm", "is_mqa", "accepted", "rejected", "opp", "won", "lost"):
        frame[col] = frame[col].astype(bool)
    lead_abm = {r.lead_id: abm.get(r.account_id, False) for r in lead_accounts}
    return frame, lead_abm


def accounts_fingerprint(store: Any) -> tuple[Any, ...]:
    """What the account frame is read from, in a few numbers: accounts and their stage moves
    (count and newest id; transitions are append-only), their profiles (count, newest
    change) and the newest published model."""
    from sqlalchemy import func

    from leadgate.store.schema import account_transitions as at
    from leadgate.store.schema import accounts
    from leadgate.store.schema import model_versions as mv

    with store.read() as conn:
        moves = conn.execute(select(func.count(), func.max(at.c.id))).one()
        profiles = conn.execute(select(func.count(), func.max(accounts.c.updated_at))).one()
        model = conn.execute(select(func.max(mv.c.id))).scalar_one()
    return (*moves, *profiles, model)


def with_abm(frame: pd.DataFrame, lead_abm: Mapping[str, bool]) -> pd.DataFrame:
    """The funnel frame with ``abm``: whether each lead's account is ABM."""
    return frame.assign(abm=frame["lead_id"].map(lead_abm).fillna(False).astype(bool))


def mqa_report_from_store(store: Any, frame: pd.DataFrame | None = None, **options: Any) -> Any:
    """``mqa_report`` over the store; ``frame``: the store's funnel frame when already read."""
    from leadgate.report.mqa import mqa_report
    from leadgate.report.store_frame import frame_from_store

    accounts, lead_abm = account_frame_from_store(store)
    leads = frame_from_store(store) if frame is None else frame
    return mqa_report(accounts, with_abm(leads, lead_abm), **options)
