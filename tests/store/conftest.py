"""Store fixtures: packs to hang resources on, and a PostgreSQL-only database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import inspect

from sharepack.store import Database, SharePackRecord, UnitOfWork
from sharepack.store.own_tables import OWN_SCHEMA
from sharepack.store.tables import SCHEMA

WORKSPACE = "https://adb-1111.11.azuredatabricks.net"

MakePack = Callable[..., SharePackRecord]


def create_pack(uow: UnitOfWork, **overrides: Any) -> SharePackRecord:
    """Version 1 of a pack with plausible values; `overrides` by keyword of `create`."""
    values: dict[str, Any] = {
        "share_pack_id": uuid.uuid4(),
        "share_pack_name": "SharePack_ana@example.com_20240130_143022",
        "requested_by": "ana@example.com",
        "strategy": "NEW",
        "config": {"metadata": {"requestor": "ana@example.com"}},
        "file_name": "pack.yaml",
        "file_format": "yaml",
        "workspace_url": WORKSPACE,
        "status": "IN_PROGRESS",
        "provisioning_status": "Queued",
        "created_by": "api",
        "change_reason": "Uploaded",
    }
    values.update(overrides)
    return uow.share_packs.create(**values)


@pytest.fixture
def make_pack(database: Database) -> MakePack:
    """Create and commit a pack; returns its first version."""

    def make(**overrides: Any) -> SharePackRecord:
        with database.unit_of_work() as uow:
            record = create_pack(uow, **overrides)
            uow.commit()
        return record

    return make


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[Database]:
    """A migrated database on PostgreSQL only, for SQL that is PostgreSQL's own."""
    database = Database(postgres_url)
    database.upgrade()
    yield database
    database.dispose()


def our_schemas(database: Database) -> tuple[str | None, ...]:
    """Where sharepack's tables live: two schemas on PostgreSQL, the one file on SQLite."""
    return (None,) if database.is_sqlite else (SCHEMA, OWN_SCHEMA)


def schema_outline(database: Database) -> dict[str, Any]:
    """Every table of sharepack's schemas with its columns (type, nullability, default),
    primary key and indexes (columns, uniqueness, dialect options such as a WHERE)."""
    outline: dict[str, Any] = {}
    with database.engine.connect() as connection:
        inspector = inspect(connection)
        for schema in our_schemas(database):
            for name in inspector.get_table_names(schema=schema):
                columns = [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in inspector.get_columns(name, schema=schema)
                ]
                indexes = sorted(
                    (
                        str(i["name"]),
                        tuple(i["column_names"]),
                        bool(i["unique"]),
                        sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items()),
                    )
                    for i in inspector.get_indexes(name, schema=schema)
                )
                primary_key = inspector.get_pk_constraint(name, schema=schema)
                outline[f"{schema or ''}.{name}"] = {
                    "columns": columns,
                    "primary_key": primary_key["constrained_columns"],
                    "indexes": indexes,
                }
    return outline
