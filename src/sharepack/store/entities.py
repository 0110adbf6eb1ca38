"""The other SCD2 entities (tenants, projects, users, ...) and the other append-only logs.

sharepack does not interpret these yet; it keeps their history with the same SCD2 rules
as everything else, so the seeds' tables are usable and their queries keep working.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from sharepack.errors import NotFoundError, StoreError
from sharepack.store.dialect import as_utc, database_now
from sharepack.store.scd2 import (
    VERSION_COLUMNS,
    as_of_row,
    current_row,
    history_rows,
    insert_first_version,
    insert_next_version,
    is_current,
    lock_version_key,
)


@dataclass(frozen=True)
class EntityVersion:
    """One version of an entity; `values` holds its business columns by name."""

    entity_id: uuid.UUID
    version: int
    is_current: bool
    is_deleted: bool
    effective_from: datetime
    effective_to: datetime
    created_by: str
    change_reason: str
    values: dict[str, Any]


class VersionedRepository:
    """Versions of one SCD2 table, identified by its business key column."""

    def __init__(self, session: Session, table: Table, key_column: str) -> None:
        self._session = session
        self._table = table
        self._key = key_column

    def create(
        self,
        *,
        created_by: str,
        change_reason: str,
        entity_id: uuid.UUID | None = None,
        **values: Any,
    ) -> EntityVersion:
        """Version 1 of a new entity (a fresh id unless one is given)."""
        row = insert_first_version(
            self._session,
            self._table,
            self._key,
            entity_id or uuid.uuid4(),
            values,
            created_by=created_by,
            change_reason=change_reason,
        )
        return self._version(row)

    def update(
        self, entity_id: uuid.UUID, *, created_by: str, change_reason: str, **changes: Any
    ) -> EntityVersion:
        """The next version with `changes` applied; `NotFoundError` for an unknown id."""
        current = self._locked_current(entity_id)
        row = insert_next_version(
            self._session,
            self._table,
            self._key,
            current,
            changes,
            created_by=created_by,
            change_reason=change_reason,
            deleted=bool(current["is_deleted"]),
        )
        return self._version(row)

    def soft_delete(
        self, entity_id: uuid.UUID, *, created_by: str, change_reason: str
    ) -> EntityVersion:
        """A new version marked deleted; a `StoreError` if it already is."""
        current = self._locked_current(entity_id)
        if current["is_deleted"]:
            raise StoreError(f"{self._table.name}: {entity_id} is already deleted")
        row = insert_next_version(
            self._session,
            self._table,
            self._key,
            current,
            {},
            created_by=created_by,
            change_reason=change_reason,
            deleted=True,
        )
        return self._version(row)

    def restore(
        self, entity_id: uuid.UUID, *, created_by: str, change_reason: str, **values: Any
    ) -> EntityVersion:
        """A live version after a deleted one, with `values` applied (`update` keeps a
        deleted entity deleted); a `StoreError` if it is not deleted."""
        current = self._locked_current(entity_id)
        if not current["is_deleted"]:
            raise StoreError(f"{self._table.name}: {entity_id} is not deleted")
        row = insert_next_version(
            self._session,
            self._table,
            self._key,
            current,
            values,
            created_by=created_by,
            change_reason=change_reason,
            deleted=False,
        )
        return self._version(row)

    def current_versions(self, **equal: Any) -> list[EntityVersion]:
        """The current version of every entity whose columns hold `equal`'s values, deleted
        ones included."""
        table = self._table
        query = select(table).where(
            is_current(table), *(table.c[name] == value for name, value in equal.items())
        )
        return [self._version(row) for row in self._session.execute(query).mappings()]

    def get_current(self, entity_id: uuid.UUID) -> EntityVersion:
        row = current_row(self._session, self._table, self._table.c[self._key] == entity_id)
        if row is None:
            raise NotFoundError(f"No {self._table.name} entity with id '{entity_id}'")
        return self._version(row)

    def as_of(self, entity_id: uuid.UUID, moment: datetime) -> EntityVersion | None:
        where = self._table.c[self._key] == entity_id
        row = as_of_row(self._session, self._table, moment, where)
        return self._version(row) if row is not None else None

    def history(self, entity_id: uuid.UUID) -> list[EntityVersion]:
        where = self._table.c[self._key] == entity_id
        return [self._version(row) for row in history_rows(self._session, self._table, where)]

    def list_current(self) -> list[EntityVersion]:
        """Every live entity's current version."""
        table = self._table
        query = select(table).where(is_current(table), table.c.is_deleted.is_(False))
        return [self._version(row) for row in self._session.execute(query).mappings()]

    def _locked_current(self, entity_id: uuid.UUID) -> RowMapping:
        lock_version_key(self._session, self._table, str(entity_id))
        row = current_row(self._session, self._table, self._table.c[self._key] == entity_id)
        if row is None:
            raise NotFoundError(f"No {self._table.name} entity with id '{entity_id}'")
        return row

    def _version(self, row: RowMapping | dict[str, Any]) -> EntityVersion:
        return EntityVersion(
            entity_id=row[self._key],
            version=row["version"],
            is_current=row["is_current"],
            is_deleted=row["is_deleted"],
            effective_from=as_utc(row["effective_from"]),
            effective_to=as_utc(row["effective_to"]),
            created_by=row["created_by"],
            change_reason=row["change_reason"],
            values={k: v for k, v in row.items() if k not in VERSION_COLUMNS | {self._key}},
        )


@dataclass(frozen=True)
class LogEntry:
    entry_id: uuid.UUID
    created_at: datetime
    values: dict[str, Any]


class AppendOnlyLog:
    """One append-only table: rows are inserted with the database's time, never changed."""

    def __init__(self, session: Session, table: Table, key_column: str) -> None:
        self._session = session
        self._table = table
        self._key = key_column

    def append(self, **values: Any) -> LogEntry:
        given = set(values)
        refused = (given - set(self._table.c.keys())) | (given & {self._key, "created_at"})
        if refused:
            names = ", ".join(sorted(refused))
            raise StoreError(f"{self._table.name} does not take column(s) {names}")
        entry = LogEntry(uuid.uuid4(), database_now(self._session), dict(values))
        row = {**values, self._key: entry.entry_id, "created_at": entry.created_at}
        self._session.execute(insert(self._table).values(**row))
        return entry

    def recent(self, limit: int = 100, **equal: Any) -> list[LogEntry]:
        """The newest entries first; with `equal`, only those whose columns hold those
        values (`recent(1, sync_type="directory")`)."""
        table = self._table
        query = (
            select(table)
            .where(*(table.c[name] == value for name, value in equal.items()))
            .order_by(table.c.created_at.desc())
            .limit(limit)
        )
        skip = {self._key, "created_at"}
        return [
            LogEntry(
                entry_id=row[self._key],
                created_at=as_utc(row["created_at"]),
                values={k: v for k, v in row.items() if k not in skip},
            )
            for row in self._session.execute(query).mappings()
        ]
