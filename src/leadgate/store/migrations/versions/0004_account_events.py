"""The real-time account path (issues #15/#16): ``mqa_cycles``, one row per MQA cycle of an
account (its hand-off when the account matches ``abm_when``), as ``mql_cycles`` is per lead.
Account-level events themselves live in ``account_events`` (0003_accounts).

Revision ID: 0004_account_events
Revises: 0003_pql
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leadgate.store.schema import UTCDateTime

revision = "0004_account_events"
down_revision = "0003_pql"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mqa_cycles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("mqa_at", UTCDateTime(), nullable=False),
        sa.Column("qualified_by", sa.String(length=16), nullable=False),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.Column("model_hash", sa.String(length=64), nullable=True),
        sa.Column("score_total", sa.Float(), nullable=True),
        sa.Column("completeness", sa.Float(), nullable=True),
        sa.Column("sla_hours", sa.Float(), nullable=False),
        sa.Column("sla_due_at", UTCDateTime(), nullable=False),
        sa.Column("first_touch_at", UTCDateTime(), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mqa_cycles")),
        sa.UniqueConstraint("account_id", "cycle", name=op.f("uq_mqa_cycles_account_id_cycle")),
    )


def downgrade() -> None:
    op.drop_table("mqa_cycles")
