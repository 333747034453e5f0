"""Outbox fan-out marks: ``outbox.fanned_out_at`` replaces the id cursor in ``settings``.

The cursor (``webhooks.outbox_cursor``) looked back only 200 ids, so on PostgreSQL an outbox row
committed later than that behind a higher id was never fanned out. Every existing row starts
unmarked: the first fan-out after this upgrade re-checks the whole outbox (idempotently: a pair
that has a delivery keeps it) and so delivers the rows the cursor skipped.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leadgate.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("fanned_out_at", UTCDateTime(), nullable=True))
    op.create_index(op.f("ix_outbox_fanned_out_at"), "outbox", ["fanned_out_at"], unique=False)
    op.execute("DELETE FROM settings WHERE key = 'webhooks.outbox_cursor'")


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_fanned_out_at"), table_name="outbox")
    op.drop_column("outbox", "fanned_out_at")
