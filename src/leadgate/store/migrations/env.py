"""Alembic environment for the store: runs on the connection ``open_store`` hands over.

There is no alembic.ini at the user's side; ``leadgate.store.db.migrate`` builds the config in
code and passes its open connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from leadgate.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when a developer runs alembic by hand
    raise RuntimeError("run migrations through leadgate.store.db.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
