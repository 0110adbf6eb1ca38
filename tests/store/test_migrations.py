"""The migrations are the only way the schema is made, and they agree with the models."""

from __future__ import annotations

import multiprocessing
import re
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from sharepack.store import Database
from sharepack.store.migrations.env_options import context_options
from sharepack.store.own_tables import OWN_TABLES
from sharepack.store.tables import metadata
from tests.store.conftest import MakePack, schema_outline


def test_upgrade_creates_all_sixteen_deltashare_tables(database: Database) -> None:
    assert database.table_count() == 16
    assert database.ping()


def test_upgrading_again_changes_nothing(database: Database, make_pack: MakePack) -> None:
    pack = make_pack()
    before = schema_outline(database)

    database.upgrade()

    assert schema_outline(database) == before
    with database.unit_of_work() as uow:
        assert uow.share_packs.get_current(pack.share_pack_id) == pack


def test_the_models_and_the_migrations_agree(database: Database) -> None:
    with database.engine.connect() as connection:
        options = context_options(sqlite=database.is_sqlite)
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, options["target_metadata"])

    assert differences == []


def test_partial_indexes_have_the_predicates_the_models_declare(database: Database) -> None:
    # Alembic's comparison ignores an index's WHERE, so dropping `WHERE is_current` from
    # a model would pass `test_the_models_and_the_migrations_agree`; this compares them.
    declared = _declared_predicates(database.engine.dialect.name)

    in_database = _database_predicates(database)

    assert {name: in_database.get(name) for name in declared} == declared
    partial = {name for name, predicate in in_database.items() if predicate is not None}
    assert partial <= set(declared)
    # per key, per name, one active API key per name, rows without a workspace id
    assert sum(p is not None for p in declared.values()) == 11 + 3 + 1 + 4


def _declared_predicates(dialect: str) -> dict[str, str | None]:
    """Each declared index by name, with the WHERE it has on `dialect` (None: none)."""
    return {
        str(index.name): _normalised(index.dialect_options[dialect]["where"])
        for table in metadata.tables.values()
        for index in table.indexes
    }


def _database_predicates(database: Database) -> dict[str, str | None]:
    """Each index in the database by name, with the WHERE of its definition."""
    if database.is_sqlite:
        sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    else:
        sql = (
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname IN ('deltashare', 'sharepack')"
        )
    with database.engine.connect() as connection:
        definitions = {str(name): str(ddl) for name, ddl in connection.execute(text(sql))}
    return {
        name: _normalised(ddl.partition(" WHERE ")[2] or None) for name, ddl in definitions.items()
    }


def _normalised(predicate: object) -> str | None:
    """`(is_current)` and ` is_current ` read the same (PostgreSQL adds parentheses as it
    deparses); None stays None."""
    if predicate is None:
        return None
    return re.sub(r"\s+", " ", re.sub(r"[()]", " ", str(predicate))).strip().lower()


def test_postgresql_keeps_the_seeds_tables_in_deltashare_and_its_own_apart(
    postgres_database: Database,
) -> None:
    with postgres_database.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT table_schema, COUNT(*) FROM information_schema.tables "
                "WHERE table_schema IN ('deltashare', 'sharepack') GROUP BY table_schema"
            )
        )
        counts = {str(schema): int(count) for schema, count in rows}
        own = set(inspect(connection).get_table_names(schema="sharepack"))

    assert counts == {"deltashare": 16, "sharepack": len(OWN_TABLES) + 1}
    assert own == {*OWN_TABLES, "alembic_version"}


def test_a_database_that_does_not_answer_pings_false(tmp_path: object) -> None:
    database = Database("postgresql://nobody@127.0.0.1:1/nothing")

    assert database.ping() is False


def upgrade_in_a_process(url: str, start: Any) -> None:
    database = Database(url)
    start.wait()
    database.upgrade()
    database.dispose()


@pytest.mark.slow
def test_processes_upgrading_a_new_database_at_once_all_succeed(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    upgraders = [
        context.Process(target=upgrade_in_a_process, args=(database_url, start)) for _ in range(4)
    ]

    for upgrader in upgraders:
        upgrader.start()
    for upgrader in upgraders:
        upgrader.join(timeout=120)

    assert [u.exitcode for u in upgraders] == [0, 0, 0, 0]
    database = Database(database_url)
    try:
        assert database.table_count() == 16
    finally:
        database.dispose()


def test_downgrading_to_nothing_and_upgrading_again_rebuilds_the_schema(
    database: Database,
) -> None:
    command.downgrade(database.alembic_config(), "base")
    emptied = database.table_count()

    database.upgrade()

    assert emptied == 0
    assert database.table_count() == 16
