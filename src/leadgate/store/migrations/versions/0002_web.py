"""The web app's indexes: the MQL queue read from indexes alone, and lead search.

Queue: ``ix_leads_queue`` (stage, segment, owner, cycle, score_total, lead_id) and ``ix_mql_cycles_queue``
(lead_id, cycle, mql_at, sla_due_at, first_touch_at) cover what the queue filters, counts and
sorts by, so a page of a queue of tens of thousands of MQLs reads index entries, not every
lead's attributes, and only the page's own rows in full.

Lead search index (SQLite): a trigram full-text table over each lead's id, email, name and
company, kept in step with ``leads`` by triggers, so the web app's lead search reads the index
instead of every lead's attributes.

``lead_search`` is an FTS5 table (``tokenize='trigram'``): ``body LIKE '%text%'`` with three or
more characters is answered from the index. It only proposes candidates; ``search_leads``
checks each against the lead itself. PostgreSQL gets nothing here (the search scans ``leads``
there). The triggers live on ``leads``: a later migration that rebuilds that table on SQLite
(``batch_alter_table``) must create them again (``create_search_triggers``).

Revision ID: 0002_web
Revises: 0002_crm
"""

from __future__ import annotations

from alembic import op

revision = "0002_web"
down_revision = "0002_crm"
branch_labels = None
depends_on = None

# What a lead is found by; the order and spacing match ``service.workbench.display_name``.
BODY = (
    "{t}.lead_id || ' ' || coalesce({t}.email, '') || ' ' || "
    "coalesce(json_extract({t}.attrs, '$.first_name'), '') || ' ' || "
    "coalesce(json_extract({t}.attrs, '$.last_name'), '') || ' ' || "
    "coalesce(json_extract({t}.attrs, '$.name'), '') || ' ' || "
    "coalesce(json_extract({t}.attrs, '$.company'), '')"
)
TRIGGERS = {
    "lead_search_insert": "AFTER INSERT ON leads BEGIN "
    "INSERT INTO lead_search (lead_id, body) VALUES (new.lead_id, {new}); END",
    "lead_search_update": "AFTER UPDATE ON leads WHEN old.lead_id IS NOT new.lead_id "
    "OR old.email IS NOT new.email OR old.attrs IS NOT new.attrs BEGIN {drop} "
    "INSERT INTO lead_search (lead_id, body) VALUES (new.lead_id, {new}); END",
    "lead_search_delete": "AFTER DELETE ON leads BEGIN {drop} END",
}
# The old row, found through the index (a trigram phrase on the id, then the id itself). An id
# under three characters has no trigram: its old row stays, a stale candidate that the search's
# check against the lead drops, never a lead missed.
DROP = (
    "DELETE FROM lead_search WHERE lead_search MATCH "
    "'lead_id:\"' || replace(old.lead_id, '\"', '\"\"') || '\"' AND lead_id = old.lead_id;"
)


def create_search_triggers() -> None:
    for name, body in TRIGGERS.items():
        sql = body.format(new=BODY.format(t="new"), drop=DROP)
        op.execute(f"CREATE TRIGGER {name} {sql}")


def upgrade() -> None:
    op.create_index(
        "ix_leads_queue", "leads", ["stage", "segment", "owner", "cycle", "score_total", "lead_id"]
    )
    op.create_index(
        "ix_mql_cycles_queue", "mql_cycles",
        ["lead_id", "cycle", "mql_at", "sla_due_at", "first_touch_at"],
    )  # fmt: skip
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE VIRTUAL TABLE lead_search USING fts5(lead_id, body, tokenize='trigram')")
    op.execute(f"INSERT INTO lead_search (lead_id, body) SELECT lead_id, {BODY.format(t='leads')} "
               "FROM leads")  # fmt: skip
    create_search_triggers()


def downgrade() -> None:
    op.drop_index("ix_mql_cycles_queue", "mql_cycles")
    op.drop_index("ix_leads_queue", "leads")
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS lead_search")
