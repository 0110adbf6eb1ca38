"""Options shared by the migration environment and the test that models match migrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import MetaData

from sharepack.store.own_tables import OWN_SCHEMA
from sharepack.store.tables import SCHEMA, metadata


def include_name(*, sqlite: bool) -> Callable[[str | None, str, Any], bool]:
    """Autogenerate compares only sharepack's schemas on PostgreSQL, never `public` or
    others; SQLite has only its default schema."""
    ours = (None,) if sqlite else (SCHEMA, OWN_SCHEMA)

    def include(name: str | None, type_: str, _parent: Any) -> bool:
        return name in ours if type_ == "schema" else True

    return include


def target_metadata(*, sqlite: bool) -> MetaData:
    """The declared schema as the database holds it: SQLite has no schemas, so there the
    tables are compared under their bare names (as `Database` translates them)."""
    if not sqlite:
        return metadata
    bare = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        # None: the new metadata's schema, i.e. none (SQLAlchemy's stubs omit the case).
        table.to_metadata(bare, schema=None)  # type: ignore[arg-type]
    return bare


def context_options(*, sqlite: bool) -> dict[str, Any]:
    """Alembic's context options for one backend, shared by env.py and the schema test."""
    return {
        "target_metadata": target_metadata(sqlite=sqlite),
        "version_table_schema": None if sqlite else OWN_SCHEMA,
        "include_schemas": not sqlite,
        "include_name": include_name(sqlite=sqlite),
        "render_as_batch": sqlite,
        "compare_type": True,
        "compare_server_default": True,
    }
