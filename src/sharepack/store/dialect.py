"""Where PostgreSQL and SQLite differ, one function each; everything else is shared SQL.

PostgreSQL-only features degrade to their SQLite equivalents here and nowhere else:
JSONB (plain JSON text), partial unique indexes (SQLite's own `WHERE` syntax), per-key
advisory locks (SQLite's immediate write transactions already serialise every writer),
`FOR UPDATE SKIP LOCKED` (likewise), expanding a JSON array (`json_each`), lower case
beyond ASCII (a Python function `Database` registers on SQLite), the clock a statement
reads (`statement_clock`) and an INSERT that skips a conflicting row (`insert_unless_conflict`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Index,
    Select,
    String,
    Table,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.functions import Function, GenericFunction
from sqlalchemy.types import TypeEngine

#: JSON everywhere, stored as JSONB on PostgreSQL so it can be indexed and queried.
Json: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


#: The SQLite function `Database` registers on each connection: Python's `str.lower`.
SQLITE_LOWER = "sharepack_lower"


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def current_only_index(name: str, *columns: str) -> Index:
    """A partial unique index: at most one row with `is_current` per value of `columns`."""
    return unique_where(name, *columns, postgresql="is_current", sqlite="is_current = 1")


def unique_where(name: str, *columns: str, postgresql: str, sqlite: str | None = None) -> Index:
    """A partial unique index: `columns` unique among the rows matching the predicate,
    written per dialect where they differ (SQLite has no boolean literals of its own)."""
    return Index(
        name,
        *columns,
        unique=True,
        postgresql_where=text(postgresql),
        sqlite_where=text(sqlite if sqlite is not None else postgresql),
    )


def lock_key(session: Session, namespace: str, key: str) -> None:
    """Serialise writers of one business key until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock on a 64-bit hash of `namespace:key`.
    SQLite: nothing to do, since `Database` begins every transaction `IMMEDIATE`, which
    already holds the database's single write lock.
    """
    if dialect_name(session) == "postgresql":
        digest = func.hashtextextended(f"{namespace}:{key}", 0)
        session.execute(select(func.pg_advisory_xact_lock(digest)))


def skip_locked(query: Select[Any], session: Session) -> Select[Any]:
    """Rows another transaction holds are passed over instead of waited for (PostgreSQL).

    On SQLite only one writer runs at a time, so there is nothing to skip.
    """
    if dialect_name(session) == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def json_array_elements(session: Session, column: ColumnElement[Any]) -> Function[Any]:
    """A table-valued function yielding each element of a JSON array of strings as `value`."""
    if dialect_name(session) == "postgresql":
        return func.jsonb_array_elements_text(column)
    return func.json_each(column)


def lowered(session: Session, column: ColumnElement[Any]) -> Function[Any]:
    """`column` in lower case, beyond ASCII on both databases (SQLite's lower() folds
    ASCII only), to compare with a Python `str.lower()` value."""
    if dialect_name(session) == "postgresql":
        return func.lower(column)
    return getattr(func, SQLITE_LOWER)(column)  # type: ignore[no-any-return]


class trimmed(GenericFunction[str]):  # noqa: N801 - an SQL function, named as SQL names them
    """`column` without surrounding spaces: `btrim(column)` on PostgreSQL, `trim(column)`
    on SQLite (which has no btrim). PostgreSQL reads `trim(x)` as the standard's
    `TRIM(BOTH FROM x)` and shows an index on it so; an index on `btrim(x)` reads back as
    declared, so Alembic can compare it with the model."""

    type = String()
    inherit_cache = True


@compiles(trimmed)
def _btrim(element: trimmed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"btrim({compiler.process(element.clauses, **kw)})"


@compiles(trimmed, "sqlite")
def _trim(element: trimmed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"trim({compiler.process(element.clauses, **kw)})"


def database_now(session: Session) -> datetime:
    """The database server's clock, in UTC (not the transaction's start time)."""
    if dialect_name(session) == "postgresql":
        return as_utc(session.execute(select(func.clock_timestamp())).scalar_one())
    value = session.execute(select(func.strftime("%Y-%m-%d %H:%M:%f", "now"))).scalar_one()
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


_TIMESTAMP = DateTime(timezone=True)


@dataclass(frozen=True)
class StatementClock:
    """The database's clock as one statement reads it: `at(later)` is that moment plus
    `later`, the same moment wherever it is written into the statement."""

    #: The clock as read before the statement; None: the server reads it as it runs it.
    reading: datetime | None

    def at(self, later: timedelta = timedelta()) -> ColumnElement[datetime]:
        if self.reading is not None:
            return literal(self.reading + later, _TIMESTAMP)
        now = func.statement_timestamp(type_=_TIMESTAMP)
        return now + later if later else now


def statement_clock(session: Session) -> StatementClock:
    """The database server's clock for the next statement: on PostgreSQL its
    `statement_timestamp()`, read by the server as it runs that statement, so the time
    costs no round trip of its own (RETURNING hands it back); on SQLite, whose clock is
    in-process, the value `database_now` reads."""
    if dialect_name(session) == "postgresql":
        return StatementClock(None)
    return StatementClock(database_now(session))


def insert_unless_conflict(session: Session, table: Table) -> Insert:
    """An INSERT into `table` that writes nothing where a row would break a unique index
    (ON CONFLICT DO NOTHING), instead of failing: the transaction stays usable without a
    savepoint's two round trips. Add RETURNING to tell whether the row was written."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def as_utc(moment: datetime) -> datetime:
    """Timestamps leave the store in UTC; SQLite hands them back naive, written in UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
