"""CRM hand-off: ``crm_sync`` (what each connector last pushed, what is due) and ``crm_pulls``
(sales outcomes already applied).

Revision ID: 0002_crm
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leadgate.store.schema import UTCDateTime

revision = "0002_crm"
down_revision = "0002_model_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_sync",
        sa.Column("connector", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("pushed_at", UTCDateTime(), nullable=True),
        sa.Column("pushed_total", sa.Float(), nullable=True),
        sa.Column("pushed_stage", sa.String(length=32), nullable=True),
        sa.Column("crm_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("connector", "lead_id", name=op.f("pk_crm_sync")),
    )
    with op.batch_alter_table("crm_sync", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_sync_next_attempt_at"), ["next_attempt_at"], unique=False
        )
    op.create_table(
        "crm_pulls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_pulls")),
        sa.UniqueConstraint(
            "connector",
            "lead_id",
            "cycle",
            "action",
            name=op.f("uq_crm_pulls_connector_lead_id_cycle_action"),
        ),
    )


def downgrade() -> None:
    op.drop_table("crm_pulls")
    with op.batch_alter_table("crm_sync", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_sync_next_attempt_at"))
    op.drop_table("crm_sync")
