"""Accounts (issue #15): ``account_events`` (account-level events, no lead), ``account_states``
(each account's latest score, stage and MQA cycle) and ``account_transitions`` (its stage moves
and sales dispositions).

Revision ID: 0003_accounts
Revises: 0002_web
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leadgate.store.schema import UTCDateTime

revision = "0003_accounts"
down_revision = "0003_lead_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("ingested_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_account_events")),
    )
    op.create_index(
        "ix_account_events_account_id_timestamp", "account_events", ["account_id", "timestamp"]
    )
    op.create_table(
        "account_states",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("stage_since", UTCDateTime(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("score", sa.JSON(), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=True),
        sa.Column("score_total", sa.Float(), nullable=True),
        sa.Column("mqa", sa.Boolean(), nullable=True),
        sa.Column("abm", sa.Boolean(), nullable=True),
        sa.Column("completeness", sa.Float(), nullable=True),
        sa.Column("model_hash", sa.String(length=64), nullable=True),
        sa.Column("scored_at", UTCDateTime(), nullable=True),
        sa.Column("mqa_at", UTCDateTime(), nullable=True),
        sa.Column("sla_due_at", UTCDateTime(), nullable=True),
        sa.Column("first_touch_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_states")),
    )
    op.create_index(op.f("ix_account_states_stage"), "account_states", ["stage"])
    op.create_table(
        "account_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(length=32), nullable=False),
        sa.Column("to_stage", sa.String(length=32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("model_hash", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_transitions")),
    )
    op.create_index(
        op.f("ix_account_transitions_account_id"), "account_transitions", ["account_id"]
    )


def downgrade() -> None:
    op.drop_table("account_transitions")
    op.drop_table("account_states")
    op.drop_table("account_events")
