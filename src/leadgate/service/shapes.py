"""What the service layer returns: pydantic shapes shared by the CLI and the HTTP API.

Every answer about one lead carries ``{"lead_id", "stage", "score"}`` where ``score`` is exactly
``Score.to_record()`` (the line of ``leadgate score --format jsonl``), or ``None`` while no model
is published or the lead is a duplicate (duplicates are not scored).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class LeadState(BaseModel):
    """A lead's stage and latest score: the body of every API answer about one lead."""

    lead_id: str
    stage: str
    score: dict[str, Any] | None = None
    cycle: int = 0  # number of the current (or last) MQL cycle; 0 = never an MQL
    qualifies: bool | None = None  # the latest score's MQL flag
    no_longer_qualifies: bool = False  # an MQL whose score dropped before sales acted
    duplicate_of: str | None = None


class TransitionView(BaseModel):
    """One stage transition, as recorded (append-only)."""

    at: datetime
    cycle: int
    from_stage: str
    to_stage: str
    cause: str
    actor: str
    model_hash: str | None = None
    reason: str | None = None
    note: str | None = None


class ScorePoint(BaseModel):
    """One entry of a lead's score history."""

    at: datetime
    cause: str
    model_hash: str
    total: float
    qualifies: bool
    segment: str
    scores: dict[str, float]


class CycleView(BaseModel):
    """One MQL cycle of a lead: when it qualified, the SLA, sales' first touch, how far it got."""

    cycle: int
    mql_at: datetime
    cause: str
    model_hash: str | None
    segment: str | None
    score_total: float | None
    sla_hours: float
    sla_due_at: datetime
    first_touch_at: datetime | None
    last_action_at: datetime | None
    recycle_after_days: float | None
    stage: str
    ended_at: datetime | None
    amount: float | None


class DispositionView(BaseModel):
    """One recorded sales disposition."""

    at: datetime
    cycle: int
    action: str
    reason: str | None
    note: str | None
    amount: float | None
    actor: str


class LeadView(LeadState):
    """Everything about one lead: profile, live score and explanation, and its history."""

    attrs: dict[str, Any] = Field(default_factory=dict)
    account_id: str | None = None
    owner: str | None = None
    explanation: dict[str, Any] | None = None  # Explanation.to_dict() of the live score
    transitions: list[TransitionView] = Field(default_factory=list)
    score_history: list[ScorePoint] = Field(default_factory=list)
    cycles: list[CycleView] = Field(default_factory=list)
    dispositions: list[DispositionView] = Field(default_factory=list)


class AccountState(BaseModel):
    """An account's stage and latest score (``AccountScore.to_record()``)."""

    account_id: str
    stage: str
    cycle: int = 0
    score: dict[str, Any] | None = None


class EventLeadState(LeadState):
    """A lead's state in the answer to its events: with its account's state as the same write
    left it (``account``), when the published model scores accounts and the lead has one. A
    client that sent an event reads the account's new score and MQA flag from this answer, no
    second request needed."""

    account: AccountState | None = None


class IngestResult(BaseModel):
    """What ``ingest_events`` did: events stored or ignored as replays, and each lead's state
    (``accounts``: the state of each account whose account-level events were given)."""

    received: int
    inserted: int
    ignored: int  # already seen (same event id): replays add nothing
    leads: list[LeadState]
    # Not part of any answer: which event ids were new, and the lead each duplicate lead's
    # events counted for, so that the API's group commit splits the answer without reading
    # the store again.
    inserted_ids: set[str] = Field(default_factory=set, exclude=True)
    canonical: dict[str, str] = Field(default_factory=dict, exclude=True)
    inserted_account_ids: set[str] = Field(default_factory=set, exclude=True)
    accounts: list[AccountState] = []


class QueueItem(BaseModel):
    """One MQL waiting for (or being worked by) sales, with its SLA state."""

    lead_id: str
    email: str | None
    owner: str | None
    segment: str | None
    total: float | None
    cycle: int
    mql_at: datetime
    age_hours: float
    sla_due_at: datetime
    sla_state: str  # pending | breached | met
    first_touch_at: datetime | None
    no_longer_qualifies: bool
    score: dict[str, Any] | None


class SlaBreach(BaseModel):
    """An MQL cycle whose first sales touch came late, or has not come and is overdue."""

    lead_id: str
    cycle: int
    segment: str | None
    owner: str | None
    mql_at: datetime
    sla_hours: float
    sla_due_at: datetime
    first_touch_at: datetime | None
    overdue_hours: float  # how late the touch was, or how overdue it is at as_of


class LeadChange(BaseModel):
    """How one lead's status changes under a new model (publish report example)."""

    lead_id: str
    stage: str
    old_total: float | None
    new_total: float
    old_qualifies: bool | None
    new_qualifies: bool
    old_segment: str | None
    new_segment: str
    change: str  # new_mql | requalifies | no_longer_qualifies | starts_qualifying | ...


class RescoreSummary(BaseModel):
    """Counts from re-scoring a set of leads (publish, tick, bulk load)."""

    scored: int = 0
    score_changed: int = 0
    new_mqls: int = 0  # lead/nurture -> mql transitions
    no_longer_qualifying: int = 0  # MQLs (not yet worked) whose score drops below the line
    starts_qualifying: int = 0  # leads whose MQL flag turns on (incl. those already past MQL)
    stops_qualifying: int = 0  # leads whose MQL flag turns off
    segment_changed: int = 0
    expired: int = 0  # MQLs recycled to nurture with reason "expired"


class ModelVersionView(BaseModel):
    """One published model version (every one is kept)."""

    id: int
    name: str
    version: str
    hash: str
    published_by: str
    published_at: datetime
    active: bool
    summary: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None  # the publisher's change note


class PublishReport(BaseModel):
    """What publishing a model does (or, with ``dry_run``, would do)."""

    model: dict[str, str]  # name, version, hash
    previous: dict[str, str] | None
    dry_run: bool
    summary: RescoreSummary
    examples: list[LeadChange] = Field(default_factory=list)  # first changes, for the diff view


class ModelDiff(BaseModel):
    """Two model versions compared: the YAML text diff and a list of spec-level changes."""

    a: ModelVersionView
    b: ModelVersionView
    changes: list[str]
    yaml_diff: str


class TickReport(BaseModel):
    """What ``tick`` did at ``as_of``: expiries applied, leads re-scored."""

    as_of: datetime
    summary: RescoreSummary


class LoadReport(BaseModel):
    """What a bulk load did."""

    kind: str
    file: str
    rows: int
    inserted: int
    updated: int
    ignored: int  # replays (events seen before, outcomes already imported)
    duplicates: int  # leads flagged as duplicates of an existing email
    adjusted: int = 0  # outcome rows with times before the lead's live MQL cycle
    skipped: int = 0  # account outcome rows for accounts not handed off (not MQAs)
    summary: RescoreSummary | None = None  # re-scoring of the affected leads (model published)
