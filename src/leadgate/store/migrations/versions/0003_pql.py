"""What qualified a hand-off cycle: ``mql_cycles.qualified_by`` ("mql", "pql" or "mql+pql").

A lead is handed to sales when it is an MQL, a PQL or both (docs/semantics.md "The PQL"); the
cycle records which, so reports split every funnel by qualification. Cycles opened before this
revision were opened by MQLs only: they read as "mql" (NULL is read as "mql").

Revision ID: 0003_pql
Revises: 0002_web
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_pql"
down_revision = "0003_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mql_cycles", sa.Column("qualified_by", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("mql_cycles") as batch:
        batch.drop_column("qualified_by")
