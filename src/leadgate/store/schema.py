"""The operational store's tables (SQLAlchemy Core), one ``MetaData`` for SQLite and PostgreSQL.

The migrations in ``store/migrations/versions`` create exactly these tables; a test compares the
migrated database with this module so the two never drift. History tables (``transitions``,
``score_history``, ``model_versions``, ``dispositions``, ``mql_cycles`` rows once closed) are
append-only (ARCHITECTURE.md invariant 3): the library only ever inserts into them, except that an
open MQL cycle's progress columns are filled in as sales acts on it.

Times are stored in UTC (``UTCDateTime``); JSON columns hold attributes, properties and records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from leadgate.engine.event import as_utc

# Stable constraint names, so migrations can refer to them on every database.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    SQLite has no time zones: values are written as naive UTC and read back as aware UTC.
    PostgreSQL stores ``timestamptz``; values are handed over aware, so the session's time zone
    never matters.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


# Plain JSON (text) on both databases: PostgreSQL's JSONB would reorder the keys of score
# records, and the API promises the same record as ``leadgate score --format jsonl``.
Json: Any = JSON()
Id = String(255)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", Id, primary_key=True),
    Column("attrs", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

leads = Table(
    "leads",
    metadata,
    Column("lead_id", Id, primary_key=True),
    # Profile attributes as given (email normalised); account attributes are joined at scoring.
    Column("attrs", Json, nullable=False),
    Column("email", String(320), index=True),  # strip + lower, for duplicate detection
    Column("account_id", Id, index=True),
    Column("owner", String(255), index=True),
    Column("duplicate_of", Id, index=True),  # set: this lead is a second record of that person
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_event_at", UTCDateTime),  # newest event timestamp (re-qualification rule)
    # Current lifecycle state (derived from ``transitions``; kept here for the queue).
    Column("stage", String(32), nullable=False, index=True),
    Column("stage_since", UTCDateTime, nullable=False),
    Column("cycle", Integer, nullable=False),  # number of the current/last MQL cycle (0: never)
    # Latest score under the published model (``Score.to_record()``), and its key facts.
    Column("score", Json),
    Column("score_total", Float),
    Column("qualifies", Boolean),  # the latest score's MQL flag
    Column("segment", String(255), index=True),
    Column("score_model_hash", String(64)),
    Column("scored_at", UTCDateTime),
    # Set when the person was erased (service/erasure.py): the row is an anonymous tombstone.
    Column("erased_at", UTCDateTime),
    # The MQL queue counts, filters and sorts from this index alone (migration 0002_web).
    Index("ix_leads_queue", "stage", "segment", "owner", "cycle", "score_total", "lead_id"),
)

events = Table(
    "events",
    metadata,
    Column("event_id", Id, primary_key=True),  # given or derived from content: replays add nothing
    Column("lead_id", Id, nullable=False),
    Column("type", String(255), nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("properties", Json, nullable=False),
    Column("ingested_at", UTCDateTime, nullable=False),
    Index("ix_events_lead_id_timestamp", "lead_id", "timestamp"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # the latest id is active
    Column("name", String(255), nullable=False),
    Column("version", String(255), nullable=False),
    Column("hash", String(64), nullable=False, index=True),
    Column("yaml", Text, nullable=False),
    Column("published_by", String(255), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("summary", Json, nullable=False),  # what publishing changed (PublishReport counts)
    Column("note", Text),  # the publisher's change note (why this version)
)

score_history = Table(
    "score_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", Id, nullable=False),
    Column("at", UTCDateTime, nullable=False),  # the as_of of the score
    Column("cause", String(32), nullable=False),  # event, profile, account, model_change, tick, ...
    Column("model_hash", String(64), nullable=False),
    Column("total", Float, nullable=False),
    Column("qualifies", Boolean, nullable=False),
    Column("segment", String(255), nullable=False),
    Column("scores", Json, nullable=False),
    Index("ix_score_history_lead_id_at", "lead_id", "at"),
)

transitions = Table(
    "transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", Id, nullable=False, index=True),
    Column("cycle", Integer, nullable=False),
    Column("from_stage", String(32), nullable=False),
    Column("to_stage", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("cause", String(32), nullable=False),  # score, disposition, import, model_change, expiry
    Column("actor", String(255), nullable=False),
    Column("model_hash", String(64)),
    Column("reason", String(64)),
    Column("note", Text),
    Column("import_key", String(64), index=True),  # set by ``load outcomes``: replays add nothing
)

mql_cycles = Table(
    "mql_cycles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", Id, nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("mql_at", UTCDateTime, nullable=False),
    Column("cause", String(32), nullable=False),  # what made it an MQL: score, model_change, import
    Column("model_hash", String(64)),
    Column("segment", String(255)),
    Column("score_total", Float),
    Column("sla_hours", Float, nullable=False),
    Column("sla_due_at", UTCDateTime, nullable=False),
    Column("recycle_after_days", Float),
    Column("first_touch_at", UTCDateTime),  # speed-to-lead = first_touch_at - mql_at
    Column("last_action_at", UTCDateTime),  # latest sales action; expiry counts from here
    Column("stage", String(32), nullable=False),  # furthest stage this cycle reached
    Column("ended_at", UTCDateTime),  # when the cycle left the funnel (nurture, disq., won, lost)
    Column("amount", Float),
    # What qualified the hand-off: "mql", "pql" or "mql+pql" (NULL: before PQLs, an MQL).
    Column("qualified_by", String(16)),
    UniqueConstraint("lead_id", "cycle"),
    Index("ix_mql_cycles_queue", "lead_id", "cycle", "mql_at", "sla_due_at", "first_touch_at"),
)

dispositions = Table(
    "dispositions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", Id, nullable=False, index=True),
    Column("cycle", Integer, nullable=False),
    Column("action", String(32), nullable=False),
    Column("reason", String(64)),
    Column("note", Text),
    Column("amount", Float),
    Column("actor", String(255), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(64), nullable=False),  # lead.mql, lead.disposition
    Column("lead_id", Id),
    Column("payload", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Set in the transaction that created the row's deliveries (webhooks/delivery.py fan_out).
    Column("fanned_out_at", UTCDateTime, index=True),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),  # HMAC key for the signature header
    Column("topics", Json, nullable=False),  # list of topics, empty = all
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), nullable=False),
    Column("webhook_id", Integer, ForeignKey("webhooks.id"), nullable=False),
    Column("status", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, index=True),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("outbox_id", "webhook_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("prefix", String(16), nullable=False),  # shown in listings; the key itself never is
    Column("key_hash", String(128), nullable=False, unique=True),
    Column("role", String(32), nullable=False),  # admin, marketing, sales, read-only
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(255)),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    Column("expires_at", UTCDateTime),  # refused (401) from then on; NULL: never expires
    Column("replaced_by", Integer),  # the key a rotation made; this one expires after the overlap
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Json, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    # Append-only (ARCHITECTURE.md invariant 9): who (the key or the local operator) did what,
    # to what, when. The library only inserts; erasure rewrites ``target`` to the tombstone id.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(255), nullable=False, index=True),  # key:<name> or cli:<os user>
    Column("key_id", Integer),  # the API key that acted (NULL for the command line)
    Column("action", String(64), nullable=False, index=True),  # e.g. key.create, lead.erase
    Column("target", String(255)),  # what was acted on: a key id, webhook id, lead id, ...
    Column("details", Json, nullable=False),
)

# CRM hand-off (leadgate.crm): one row per (connector, lead) saying what was last pushed and
# whether a push is due; the outbox cursor of each connector lives in ``settings``.
crm_sync = Table(
    "crm_sync",
    metadata,
    Column("connector", String(32), primary_key=True),  # hubspot, salesforce
    Column("lead_id", Id, primary_key=True),
    Column("status", String(16), nullable=False),  # pending, synced, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, index=True),
    Column("last_error", Text),
    Column("reason", String(32), nullable=False),  # why queued: mql, score, stage, disposition
    Column("queued_at", UTCDateTime, nullable=False),
    Column("pushed_at", UTCDateTime),
    Column("pushed_total", Float),  # the score last written, for the score-change step
    Column("pushed_stage", String(32)),
    Column("crm_id", String(64)),  # the CRM's record id once known
)

# Per-lead incremental scoring state (engine/incremental.py), a cache of the pure engine: what
# each rule of the model ``model_hash`` needs of the lead's events, as JSON. ``version`` grows at
# every write, so a writer that read an older version knows another wrote since and drops the
# row instead (the next event rebuilds it). No row, or another model's: rebuilt from the events.
lead_states = Table(
    "lead_states",
    metadata,
    Column("lead_id", Id, primary_key=True),
    Column("model_hash", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Sales outcomes read back from a CRM and applied once: (connector, lead, cycle, action).
crm_pulls = Table(
    "crm_pulls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector", String(32), nullable=False),
    Column("lead_id", Id, nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("action", String(32), nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
    UniqueConstraint("connector", "lead_id", "cycle", "action"),
)

# Accounts (issue #15, migration 0003_accounts): account-level events (no lead), each
# account's latest score and stage with its MQA cycle, and its stage moves and dispositions.
account_events = Table(
    "account_events",
    metadata,
    Column("event_id", Id, primary_key=True),
    Column("account_id", Id, nullable=False),
    Column("type", String(255), nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("properties", Json, nullable=False),
    Column("ingested_at", UTCDateTime, nullable=False),
    Index("ix_account_events_account_id_timestamp", "account_id", "timestamp"),
)

account_states = Table(
    "account_states",
    metadata,
    Column("account_id", Id, primary_key=True),
    Column("stage", String(32), nullable=False, index=True),
    Column("stage_since", UTCDateTime, nullable=False),
    Column("cycle", Integer, nullable=False),  # number of the current/last MQA cycle (0: never)
    Column("score", Json),  # AccountScore.to_record()
    Column("explanation", Json),  # AccountExplanation.to_dict()
    Column("score_total", Float),
    Column("mqa", Boolean),
    Column("abm", Boolean),
    Column("completeness", Float),
    Column("model_hash", String(64)),
    Column("scored_at", UTCDateTime),
    Column("mqa_at", UTCDateTime),
    Column("sla_due_at", UTCDateTime),
    Column("first_touch_at", UTCDateTime),
)

account_transitions = Table(
    "account_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Id, nullable=False, index=True),
    Column("cycle", Integer, nullable=False),
    Column("from_stage", String(32), nullable=False),
    Column("to_stage", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("cause", String(32), nullable=False),  # score, disposition, import
    Column("action", String(32)),  # the disposition's action (accept keeps the stage)
    Column("actor", String(255), nullable=False),
    Column("model_hash", String(64)),
    Column("reason", String(64)),
    Column("note", Text),
)

# Account hand-offs (migration 0004_account_events): one row per MQA cycle, as ``mql_cycles``
# is per lead. ``handoff`` is the account's ``abm`` when it became an MQA: an ABM account's MQA
# is its hand-off to sales (its leads are not handed off at their own MQL/PQL), so reports count
# ``mql_cycles`` plus the ``handoff`` rows here, each hand-off once. ``qualified_by`` is "mqa".
mqa_cycles = Table(
    "mqa_cycles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Id, nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("mqa_at", UTCDateTime, nullable=False),
    Column("qualified_by", String(16), nullable=False),
    Column("handoff", Boolean, nullable=False),
    Column("model_hash", String(64)),
    Column("score_total", Float),
    Column("completeness", Float),
    Column("sla_hours", Float, nullable=False),
    Column("sla_due_at", UTCDateTime, nullable=False),
    Column("first_touch_at", UTCDateTime),
    Column("stage", String(32), nullable=False),  # furthest stage this cycle reached
    Column("ended_at", UTCDateTime),  # when the cycle left the funnel (rejected, won, lost)
    UniqueConstraint("account_id", "cycle"),
)
