"""Alembic environment: runs against the `Database` handed over in the config's attributes.

On PostgreSQL it creates the two schemas and holds an advisory lock while migrating, so
an API and a worker starting together do not both run the same migration. It leaves the
revisions before and after in the config's attributes (`revisions`) for `Database.upgrade`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from sharepack.store.migrations.env_options import context_options
from sharepack.store.own_tables import OWN_SCHEMA
from sharepack.store.tables import SCHEMA

# Any constant shared by every sharepack process; the value is arbitrary.
_MIGRATION_LOCK = 0x5348415245504B  # "SHAREPK"

database = context.config.attributes["database"]


def run_migrations() -> None:
    # SQLite needs no lock of its own: the connection's first statement begins an
    # IMMEDIATE transaction (see `Database`), so concurrent upgrades queue behind it.
    with database.engine.connect() as connection:
        if not database.is_sqlite:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {OWN_SCHEMA}"))
            connection.commit()
        try:
            context.configure(connection=connection, **context_options(sqlite=database.is_sqlite))
            migration = context.get_context()
            # Read under the lock, so a process that migrated first is not taken for us.
            before = migration.get_current_revision()
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
            context.config.attributes["revisions"] = (before, migration.get_current_revision())
        finally:
            if not database.is_sqlite:
                connection.rollback()  # a failed migration leaves its transaction aborted
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK}
                )
                connection.commit()


run_migrations()
