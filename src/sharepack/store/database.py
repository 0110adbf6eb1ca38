"""`Database`: one engine for SQLite or PostgreSQL, migrated by Alembic, and its Unit of Work.

PostgreSQL keeps the seeds' 16 tables in schema `deltashare` and sharepack's own tables
(queue, journal, snapshots, Alembic's version table) in schema `sharepack`. SQLite has no
schemas: the engine's `schema_translate_map` sends both to the one file, under the same
table names, so every query is written once.
"""

from __future__ import annotations

import copy
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import ExceptionContext, make_url

from sharepack.errors import DatabaseUnavailableError, SchemaNotReadyError, StoreError
from sharepack.store.claims import Claim
from sharepack.store.dialect import SQLITE_LOWER
from sharepack.store.own_tables import OWN_SCHEMA
from sharepack.store.tables import DELTASHARE_TABLES, SCHEMA
from sharepack.store.uow import UnitOfWork

#: The command that creates or migrates the schema, named where one is missing.
UPGRADE_COMMAND = "sharepack db upgrade"

#: How long a SQLite writer waits for the write lock before failing, in seconds.
SQLITE_BUSY_TIMEOUT_SECONDS = 60


def normalise_url(url: str) -> str:
    """`postgresql://` as deployments write it, driven by psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode (it stays so). Switching needs the file to itself and
    SQLite answers "database is locked" at once, without its busy handler, when another
    process is switching too: retry until the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    delay = 0.01
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _make_sqlite_writers_queue(engine: Engine) -> None:
    """Every transaction begins IMMEDIATE: writers queue at BEGIN (for up to the busy
    timeout) instead of failing at their first write, which serialises writers of a key.
    WAL lets readers of committed data run beside the one writer."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        # Take transaction control from the sqlite3 module so `begin` below decides.
        dbapi_connection.isolation_level = None
        # SQLite's own lower() folds ASCII only; `dialect.lowered` calls this one.
        dbapi_connection.create_function(SQLITE_LOWER, 1, _lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True)
class SchemaUpgrade:
    """What `Database.upgrade` did: the schema's revision before (None: there was no
    schema) and after it."""

    before: str | None
    after: str

    @property
    def created(self) -> bool:
        return self.before is None

    @property
    def migrated(self) -> bool:
        return self.before is not None and self.before != self.after


class Database:
    """The sharepack database at `url` (`sqlite:///file.db` or `postgresql://...`)."""

    def __init__(self, url: str) -> None:
        self.claim: Claim | None = None
        self.url = normalise_url(url)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = create_engine(
                self.url,
                execution_options={"schema_translate_map": {SCHEMA: None, OWN_SCHEMA: None}},
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            _make_sqlite_writers_queue(self.engine)
        else:
            # Sessions read and write timestamps in UTC whatever the server's default zone.
            self.engine = create_engine(
                self.url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"}
            )
        event.listen(self.engine, "handle_error", self._refuse_to_connect)
        # Reads on PostgreSQL run in autocommit: no BEGIN or ROLLBACK to wait for. SQLite
        # reads keep their transaction (its `begin` hook queues them like writers).
        self._reading_engine = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    def _refuse_to_connect(self, context: ExceptionContext) -> None:
        """A connection that cannot be opened leaves as `DatabaseUnavailableError`, wherever
        it was asked for; errors on an open connection keep their own handling."""
        if context.connection is None and not context.is_pre_ping:
            raise self.unavailable(context.original_exception)

    def unavailable(self, cause: BaseException) -> DatabaseUnavailableError:
        """The error saying this database cannot be reached, in one line without password."""
        reason = next((line.strip() for line in str(cause).splitlines() if line.strip()), "")
        return DatabaseUnavailableError(
            f"Cannot reach the database {self.describe()}: {reason or type(cause).__name__}"
        )

    def alembic_config(self) -> Config:
        """Alembic's configuration, built in code: the migrations ship inside the package."""
        config = Config()
        config.set_main_option("script_location", "sharepack.store:migrations")
        config.attributes["database"] = self
        return config

    def upgrade(self) -> SchemaUpgrade:
        """Bring the schema to the newest migration, and say from which revision; running
        it again changes nothing."""
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        config = self.alembic_config()
        try:
            with self._migration_lock():
                command.upgrade(config, "head")
        except DatabaseUnavailableError:
            raise
        except Exception as exc:
            raise StoreError(f"Migrating {self.describe()} failed: {exc}") from exc
        before, after = config.attributes["revisions"]
        return SchemaUpgrade(before=before, after=after)

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """On a SQLite file, one process migrates at a time (a lock on `<file>.migrating`):
        the others wait, then find the schema current. The IMMEDIATE transaction alone did
        not keep four processes upgrading a new file at once from running one step twice
        (`duplicate column name`). On PostgreSQL the migration environment holds an
        advisory lock instead."""
        database = make_url(self.url).database if self.is_sqlite else None
        if not database or database == ":memory:":
            yield
            return
        import fcntl

        with open(f"{database}.migrating", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def check_schema(self) -> None:
        """Raise `SchemaNotReadyError` unless the schema is the newest migration, and
        `DatabaseUnavailableError` if the database cannot be reached. Only reads: it
        migrates nothing and creates no SQLite file."""
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:" and not Path(database).is_file():
                raise SchemaNotReadyError(
                    f"No database at {self.describe()}: create it with `{UPGRADE_COMMAND}`"
                )
        script = ScriptDirectory.from_config(self.alembic_config())
        head = script.get_current_head()
        with self.engine.connect() as connection:
            options = {"version_table_schema": None if self.is_sqlite else OWN_SCHEMA}
            current = MigrationContext.configure(connection, opts=options).get_current_revision()
        if current == head:
            return
        if current is None:
            raise SchemaNotReadyError(
                f"{self.describe()} has no sharepack schema: create it with `{UPGRADE_COMMAND}`"
            )
        try:
            script.get_revision(current)
        except CommandError:
            raise SchemaNotReadyError(
                f"{self.describe()} has schema version {current}, newer than this sharepack "
                f"knows ({head}): use the sharepack that migrated it"
            ) from None
        raise SchemaNotReadyError(
            f"{self.describe()} has schema version {current}, older than this sharepack's "
            f"{head}: migrate it with `{UPGRADE_COMMAND}`"
        )

    def ping(self) -> bool:
        """Whether the database answers a query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def table_count(self) -> int:
        """How many of the 16 `deltashare` tables exist."""
        schema = None if self.is_sqlite else SCHEMA
        with self.engine.connect() as connection:
            names = set(inspect(connection).get_table_names(schema=schema))
        return len(names.intersection(DELTASHARE_TABLES))

    def unit_of_work(self) -> UnitOfWork:
        """A new Unit of Work; use it as a context manager."""
        return UnitOfWork(self.engine, self.claim)

    def reading(self) -> UnitOfWork:
        """A Unit of Work that only reads, and cannot commit. On PostgreSQL each statement
        runs on its own (autocommit): no transaction is begun or rolled back, two round
        trips fewer, so reads that must see one snapshot together belong in one statement
        or in `unit_of_work()`."""
        return UnitOfWork(self._reading_engine, read_only=True)

    def fenced(self, claim: Claim) -> Database:
        """The same database, whose Units of Work commit only while `claim` is its run's
        newest: a holder that lost the run writes nothing more (`LeaseLostError`)."""
        view = copy.copy(self)
        view.claim = claim
        return view

    def describe(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
