"""History for replay: lead profiles, their events and the funnel frame, and scoring it again.

Calibration, model comparison and the rejections' "rule that contributed most" score leads again
under a model *at each lead's own time*: the time it was handed to sales (its first MQL cycle's
``mql_time``), or ``as_of`` for a lead never handed over (default: the latest time in the data).
That is what the model would have said when the decision was made, not with hindsight.

Replay uses the per-lead executor (``leadgate.engine.score_lead``): every lead has its own as-of
time, which the batch executors (one as-of per run) do not express.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from leadgate.engine import Event, Plan, Score, score_lead
from leadgate.engine.event import as_utc
from leadgate.engine.python import account_key, events_by_account, reads_accounts
from leadgate.io import read_leads
from leadgate.io.account_events import iter_lead_file_events
from leadgate.lifecycle.sla import DEFAULT_SLA_HOURS
from leadgate.report.frame import (
    UNKNOWN,
    build_frame,
    lead_attributes,
    read_outcomes,
)

Progress = Callable[[int, int], None]


@dataclass
class History:
    """Profiles (as the engine reads them), events per lead, and the funnel frame.

    Read-only for its users: the server's cached history (``report/store_frame.py``) hands the
    same profiles and events to every request (as read-only mappings and tuples).
    """

    profiles: Mapping[str, Mapping[str, Any]]
    events: Mapping[str, Sequence[Event]]
    frame: pd.DataFrame
    # Account-level events (an account, no lead) by account id: read by scope: account measures.
    account_events: Mapping[str, Sequence[Event]] = field(default_factory=dict)

    def scorer(self, plan: Plan) -> Callable[[str, datetime], Score]:
        """Scores one lead of this history under ``plan`` at a time, as ``leadgate score``
        would: with ``scope: account`` measures, over its account's events too (its other
        leads' and the account-level ones)."""
        by_account = (
            events_by_account(self.profiles.values(), self.events, self.account_events)
            if reads_accounts(plan)
            else None
        )

        def score(lead_id: str, as_of: datetime) -> Score:
            profile = self.profiles[lead_id]
            account = None
            if by_account is not None:
                account = by_account.get(account_key(profile, lead_id), ())
            return score_lead(plan, profile, self.events.get(lead_id, ()), as_of, lead_id, account)

        return score

    def end(self) -> datetime:
        """The latest time in the data: the default as-of of leads never handed to sales."""
        stamps: list[datetime] = [e.timestamp for evs in self.events.values() for e in evs]
        for col in ("created_at", "mql_time", "sal_time", "first_touch_time", "closed_time"):
            s = self.frame[col].dropna()
            if len(s):
                stamps.append(s.max().to_pydatetime())
        if not stamps:
            raise ValueError("history has no timestamps; pass as_of")
        return max(stamps)

    def handoff_times(self) -> dict[str, datetime]:
        """Each handed-over lead's first MQL time."""
        mqls = self.frame[self.frame["is_mql"]].sort_values("mql_time")
        first = mqls.drop_duplicates("lead_id")
        return {
            str(lead): t.to_pydatetime()
            for lead, t in zip(first["lead_id"], first["mql_time"], strict=True)
        }


def history_from_files(
    leads: str | Path,
    events: str | Path | None,
    outcomes: str | Path,
    *,
    accounts: str | Path | None = None,
    model_version: str = UNKNOWN,
    sla_hours: float = DEFAULT_SLA_HOURS,
) -> History:
    """Read leads (joined with accounts), events and outcomes into a ``History``."""
    profiles = read_leads(leads, accounts)
    by_lead: dict[str, list[Event]] = defaultdict(list)
    by_account: dict[str, list[Event]] = defaultdict(list)
    if events is not None:
        for item in iter_lead_file_events(events):
            (by_account if item.account else by_lead)[item.event.lead_id].append(item.event)
    frame = build_frame(
        [lead_attributes(p) for p in profiles],
        read_outcomes(outcomes),
        model_version=model_version,
        sla_hours=sla_hours,
    )
    return History({str(p["lead_id"]): p for p in profiles}, dict(by_lead), frame, dict(by_account))


def replay_times(
    history: History, as_of: datetime | None = None, *, at_handoff: bool = True
) -> dict[str, datetime]:
    """The as-of time of each lead: its handoff time (when ``at_handoff``) or ``as_of``."""
    default = as_utc(as_of) if as_of is not None else history.end()
    times = dict.fromkeys(history.profiles, default)
    if at_handoff:
        times.update({k: v for k, v in history.handoff_times().items() if k in times})
    return times


def replay(
    plan: Plan,
    history: History,
    *,
    as_of: datetime | None = None,
    at_handoff: bool = True,
    lead_ids: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Score]:
    """Score leads under ``plan`` at each one's own time (see the module docstring)."""
    times = replay_times(history, as_of, at_handoff=at_handoff)
    ids = list(times) if lead_ids is None else [i for i in lead_ids if i in times]
    out: dict[str, Score] = {}
    total = len(ids)
    score = history.scorer(plan)
    for i, lead_id in enumerate(ids, start=1):
        out[lead_id] = score(lead_id, times[lead_id])
        if progress is not None and (i % 500 == 0 or i == total):
            progress(i, total)
    return out


def top_rule(score: Score) -> str:
    """The rule that contributed the most points to a score, as ``dimension: rule``."""
    best = None
    for r in score.explanation.rules:
        if r.points > 0 and (best is None or r.points > best.points):
            best = r
    return f"{best.dimension}: {best.name}" if best is not None else "(no positive rule)"
