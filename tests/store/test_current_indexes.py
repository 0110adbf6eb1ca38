"""The partial unique indexes themselves refuse a second current version, on every SCD2
table: the database holds the rule even against a writer that bypasses `scd2`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from sharepack.store import Database, tables
from sharepack.store.scd2 import END_OF_TIME

#: Every SCD2 table of the seeds, with its business key.
SCD2_KEYS = {
    "tenants": "tenant_id",
    "tenant_regions": "tenant_region_id",
    "projects": "project_id",
    "requests": "request_id",
    "share_packs": "share_pack_id",
    "recipients": "recipient_id",
    "shares": "share_id",
    "pipelines": "pipeline_id",
    "users": "user_id",
    "ad_groups": "group_id",
    "databricks_objects": "object_id",
}
#: The resources that are also unique by name among current versions in a workspace.
NAMED = {"recipients": "recipient_name", "shares": "share_name", "pipelines": "pipeline_name"}
WORKSPACE = "https://adb-1111.11.azuredatabricks.net"


def test_the_scd2_tables_are_the_eleven_with_versions() -> None:
    versioned = {t.name for t in tables.metadata.tables.values() if "is_current" in t.c}

    assert versioned == set(SCD2_KEYS)


@pytest.mark.parametrize("name", sorted(SCD2_KEYS))
def test_a_second_current_version_of_a_key_is_refused(database: Database, name: str) -> None:
    table, key = _table(name), uuid.uuid4()
    _insert(database, table, version_row(table, key, version=1, is_current=True))

    with pytest.raises(IntegrityError) as refused:
        _insert(database, table, version_row(table, key, version=2, is_current=True))

    assert _names_the_index(database, refused.value, name, f"uq_{name}_current", [SCD2_KEYS[name]])
    assert _count(database, table, key) == 1


@pytest.mark.parametrize("name", sorted(SCD2_KEYS))
def test_a_key_may_have_many_versions_that_are_not_current(database: Database, name: str) -> None:
    table, key = _table(name), uuid.uuid4()
    closed = [version_row(table, key, version=v, is_current=False) for v in (1, 2, 3)]

    _insert(database, table, *closed, version_row(table, key, version=4, is_current=True))
    _insert(database, table, version_row(table, None, version=1, is_current=True))

    assert _count(database, table, key) == 4


@pytest.mark.parametrize("name", sorted(NAMED))
def test_a_second_current_resource_of_the_same_name_in_a_workspace_is_refused(
    database: Database, name: str
) -> None:
    table, column = _table(name), NAMED[name]
    same_name = {"workspace_url": WORKSPACE, column: "sales"}
    _insert(database, table, version_row(table, None, version=1, is_current=True, **same_name))

    with pytest.raises(IntegrityError) as refused:
        _insert(database, table, version_row(table, None, version=1, is_current=True, **same_name))

    index = f"uq_{name}_current_name"
    assert _names_the_index(database, refused.value, name, index, ["workspace_url", column])


@pytest.mark.parametrize("name", sorted(NAMED))
def test_a_name_may_recur_in_past_versions_and_in_other_workspaces(
    database: Database, name: str
) -> None:
    table, column = _table(name), NAMED[name]
    here = {"workspace_url": WORKSPACE, column: "sales"}
    there = {"workspace_url": "https://adb-2222.22.azuredatabricks.net", column: "sales"}

    _insert(
        database,
        table,
        version_row(table, None, version=1, is_current=False, **here),
        version_row(table, None, version=1, is_current=False, **here),
        version_row(table, None, version=1, is_current=True, **here),
        version_row(table, None, version=1, is_current=True, **there),
    )

    with database.engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(table)).scalar_one()
    assert rows == 4


def version_row(
    table: Table, key: uuid.UUID | None, *, version: int, is_current: bool, **values: Any
) -> dict[str, Any]:
    """A complete row of `table` for `key` (a fresh one if None): every required column
    gets a distinct plausible value, so only the constraint under test can refuse it."""
    row: dict[str, Any] = {column.name: _plausible(column.type) for column in table.c}
    row.update(
        {
            "record_id": uuid.uuid4(),
            SCD2_KEYS[table.name]: key or uuid.uuid4(),
            "effective_from": datetime(2025, 1, version, tzinfo=UTC),
            "effective_to": END_OF_TIME
            if is_current
            else datetime(2025, 1, version + 1, tzinfo=UTC),
            "is_current": is_current,
            "is_deleted": False,
            "version": version,
            "created_by": "test",
            "change_reason": "Arranged by the test",
            **values,
        }
    )
    return row


def _plausible(type_: Any) -> Any:
    if isinstance(type_, Uuid):
        return uuid.uuid4()
    if isinstance(type_, String | Text):
        length = getattr(type_, "length", None) or 32
        return uuid.uuid4().hex[:length]
    if isinstance(type_, Boolean):
        return False
    if isinstance(type_, Integer | Numeric):
        return 1
    if isinstance(type_, JSON):
        return {}
    return None  # timestamps: the version columns are set by `version_row`


def _table(name: str) -> Table:
    return tables.metadata.tables[f"{tables.SCHEMA}.{name}"]


def _insert(database: Database, table: Table, *rows: dict[str, Any]) -> None:
    """Insert `rows` in one transaction, straight through the engine (not through scd2)."""
    with database.engine.begin() as connection:
        for row in rows:
            connection.execute(insert(table).values(**row))


def _count(database: Database, table: Table, key: uuid.UUID) -> int:
    column = table.c[SCD2_KEYS[table.name]]
    with database.engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(table).where(column == key)
            ).scalar_one()
        )


def _names_the_index(
    database: Database, error: IntegrityError, table: str, index: str, columns: list[str]
) -> bool:
    """PostgreSQL names the violated index; SQLite names its columns instead."""
    if database.is_sqlite:
        return f"UNIQUE constraint failed: {', '.join(f'{table}.{c}' for c in columns)}" in str(
            error.orig
        )
    return f'"{index}"' in str(error.orig)
