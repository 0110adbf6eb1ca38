"""SCD Type 2, in one place: versions are closed and inserted, never updated in place.

Every function writes in the caller's transaction and never commits. A table of versions
has `record_id` (one per version), a stable business key column, `effective_from`,
`effective_to` (`9999-12-31` while current), `is_current`, `is_deleted`, `version`,
`created_by` and `change_reason`. Histories are gap-free and never overlap: a version's
`effective_to` is its successor's `effective_from`, and times strictly increase per key
even when the database clock returns the same value twice.

Writers of one key must hold `lock_version_key` first (see `dialect.lock_key`), so the
current version they read is still current when they close it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Table, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sharepack.errors import StoreError
from sharepack.store.dialect import (
    as_utc,
    database_now,
    insert_unless_conflict,
    lock_key,
    statement_clock,
)

END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)
VERSION_COLUMNS = frozenset(
    {
        "record_id",
        "effective_from",
        "effective_to",
        "is_current",
        "is_deleted",
        "version",
        "created_by",
        "change_reason",
    }
)
# The smallest step both databases keep (PostgreSQL and SQLAlchemy's SQLite text both
# store microseconds).
_TICK = timedelta(microseconds=1)


def lock_version_key(session: Session, table: Table, key: str) -> None:
    """Serialise the writers of one business key of `table` until the transaction ends."""
    lock_key(session, table.name, key)


def version_time(session: Session, previous: datetime | None) -> datetime:
    """The database clock, but strictly after `previous` so versions never overlap."""
    now = database_now(session)
    if previous is not None and now <= as_utc(previous):
        return as_utc(previous) + _TICK
    return now


def is_current(table: FromClause) -> ColumnElement[bool]:
    """Selects current versions, written as the partial indexes' own predicate
    (`WHERE is_current`) so the planner uses them: PostgreSQL does not match
    `is_current IS true` to that predicate, and scans the table instead."""
    current: ColumnElement[bool] = table.c.is_current
    return current


def current_row(session: Session, table: Table, *where: ColumnElement[bool]) -> RowMapping | None:
    """The current version matching `where`, deleted or not; None if there is none."""
    query = select(table).where(*where, is_current(table))
    return session.execute(query).mappings().first()


def as_of_row(
    session: Session, table: Table, moment: datetime, *where: ColumnElement[bool]
) -> RowMapping | None:
    """The version matching `where` that was in effect at `moment` (deleted or not)."""
    return (
        session.execute(select(table).where(*where, *in_effect(table, moment))).mappings().first()
    )


def in_effect(table: FromClause, moment: datetime) -> tuple[ColumnElement[bool], ...]:
    """Conditions selecting the versions in effect at `moment` (half-open interval).

    A naive `moment` is taken as UTC. Aware ones are converted to UTC first, because
    SQLite compares the stored UTC text and ignores an offset.
    """
    moment = as_utc(moment)
    return (table.c.effective_from <= moment, table.c.effective_to > moment)


def history_rows(session: Session, table: Table, *where: ColumnElement[bool]) -> list[RowMapping]:
    """Every version matching `where`, oldest first."""
    query = select(table).where(*where).order_by(table.c.effective_from, table.c.version)
    return list(session.execute(query).mappings().all())


def insert_first_version(
    session: Session,
    table: Table,
    key_column: str,
    key: uuid.UUID,
    values: Mapping[str, Any],
    *,
    created_by: str,
    change_reason: str,
) -> dict[str, Any]:
    """Version 1 of a new entity, in effect from the database's clock as it writes the
    row; a `StoreError` if the key already has versions (or a current row has its name)."""
    _require_reason(table, change_reason)
    require_columns(table, values)
    row = {
        **dict.fromkeys(table.c.keys()),  # columns not given are NULL, and said so
        **values,
        "record_id": uuid.uuid4(),
        key_column: key,
        "effective_from": statement_clock(session).at(),
        "effective_to": END_OF_TIME,
        "is_current": True,
        "is_deleted": False,
        "version": 1,
        "created_by": created_by,
        "change_reason": change_reason,
    }
    _insert(session, table, row, key_column)
    return row


def insert_next_version(
    session: Session,
    table: Table,
    key_column: str,
    current: RowMapping,
    changes: Mapping[str, Any],
    *,
    created_by: str,
    change_reason: str,
    deleted: bool = False,
) -> dict[str, Any]:
    """Close `current` and insert its successor with `changes` (by column name) applied.

    `deleted=True` makes the successor a soft delete; `deleted=False` makes it live, which
    restores an entity whose current version was a soft delete.
    """
    _require_reason(table, change_reason)
    require_columns(table, changes)
    moment = version_time(session, current["effective_from"])
    closed = session.execute(
        update(table)
        .where(table.c.record_id == current["record_id"], is_current(table))
        .values(effective_to=moment, is_current=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        raise StoreError(
            f"{table.name}: version {current['version']} of {current[key_column]} is no longer "
            "current; another writer changed it without holding the key's lock"
        )
    row = {
        **dict(current),
        **changes,
        "record_id": uuid.uuid4(),
        "effective_from": moment,
        "effective_to": END_OF_TIME,
        "is_current": True,
        "is_deleted": deleted,
        "version": current["version"] + 1,
        "created_by": created_by,
        "change_reason": change_reason,
    }
    _insert(session, table, row, key_column)
    return row


def _insert(session: Session, table: Table, row: dict[str, Any], key_column: str) -> None:
    """Write `row` and set its `effective_from` to the time stored. A row conflicting with
    a unique index is not written and raises `StoreError`, the transaction still usable;
    one the database refuses otherwise (a NULL where none may be: a bug) raises it too,
    and then only a rollback ends the transaction on PostgreSQL."""
    statement = (
        insert_unless_conflict(session, table).values(**row).returning(table.c.effective_from)
    )
    try:
        stored = session.execute(statement).scalar_one_or_none()
    except IntegrityError as exc:
        raise StoreError(
            f"{table.name}: version {row['version']} of {row[key_column]} was refused ({exc.orig})"
        ) from exc
    if stored is None:
        raise StoreError(
            f"{table.name}: version {row['version']} of {row[key_column]} conflicts with an "
            "existing row: that key has this version already, or a current version, or "
            "another current row has its name"
        )
    row["effective_from"] = as_utc(stored)


def _require_reason(table: Table, change_reason: str) -> None:
    if not change_reason.strip():
        raise StoreError(f"{table.name}: every version needs a change_reason")


def require_columns(table: Table, values: Mapping[str, Any]) -> None:
    """Only business columns may be given; the version columns belong to this module."""
    unknown = sorted(set(values) - set(table.c.keys()))
    if unknown:
        raise StoreError(f"{table.name} has no column(s) {', '.join(unknown)}")
    reserved = sorted(set(values) & VERSION_COLUMNS)
    if reserved:
        raise StoreError(f"{table.name}: {', '.join(reserved)} are set by SCD2, not by callers")
