"""Per-lead incremental scoring state: ``lead_states`` (engine/incremental.py, issue 17).

A cache: empty after the upgrade, each lead's row is built from its events the first time an
event arrives for it under the published model.

Revision ID: 0003_lead_state
Revises: 0002_web
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leadgate.store.schema import UTCDateTime

revision = "0003_lead_state"
down_revision = "0002_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_states",
        sa.Column("lead_id", sa.String(length=255), nullable=False),
        sa.Column("model_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_states")),
    )


def downgrade() -> None:
    op.drop_table("lead_states")
