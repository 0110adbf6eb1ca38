"""`sharepack db upgrade` creates the schema, and running it again changes nothing."""

from __future__ import annotations

from typing import Any

import typer
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from typer.testing import CliRunner

from sharepack.cli.db_commands import register
from sharepack.cli.main import app
from sharepack.store import Database
from sharepack.store.own_tables import OWN_TABLES
from sharepack.store.tables import DELTASHARE_TABLES
from tests.store.conftest import schema_outline


def test_db_upgrade_creates_the_schema_and_running_it_again_changes_nothing(
    database_url: str,
) -> None:
    runner = CliRunner()

    first = runner.invoke(app, ["db", "upgrade", "--url", database_url])
    after_first = _migrated_state(database_url)
    second = runner.invoke(
        app, ["db", "upgrade"], env={"DOMAIN_DB_CONNECTION_STRING": database_url}
    )
    after_second = _migrated_state(database_url)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "16 of 16 deltashare tables present" in second.output
    assert after_second == after_first
    outline, versions = after_first
    assert _deltashare_tables(outline) == sorted(DELTASHARE_TABLES)
    assert versions == [_head_revision(database_url)]


def _deltashare_tables(outline: dict[str, Any]) -> list[str]:
    """Schema `deltashare`'s tables on PostgreSQL; on SQLite, the file's tables that are
    not sharepack's own."""
    in_deltashare = [
        table
        for schema, _, table in (name.partition(".") for name in outline)
        if schema in ("", "deltashare")
    ]
    return sorted(set(in_deltashare) - {*OWN_TABLES, "alembic_version"})


def _migrated_state(url: str) -> tuple[dict[str, Any], list[str]]:
    """The schema outline (tables, columns, keys, indexes) and alembic_version's rows."""
    database = Database(url)
    try:
        version_table = "alembic_version" if database.is_sqlite else "sharepack.alembic_version"
        with database.engine.connect() as connection:
            rows = connection.execute(text(f"SELECT version_num FROM {version_table}"))
            versions = [str(version) for version in rows.scalars()]
        return schema_outline(database), versions
    finally:
        database.dispose()


def _head_revision(url: str) -> str:
    database = Database(url)
    try:
        head = ScriptDirectory.from_config(database.alembic_config()).get_current_head()
    finally:
        database.dispose()
    assert head is not None
    return head


def test_db_upgrade_reports_a_database_it_cannot_reach() -> None:
    result = CliRunner().invoke(
        app, ["db", "upgrade", "--url", "postgresql://nobody:secret@127.0.0.1:1/none"]
    )

    assert result.exit_code == 1
    assert result.output.startswith(
        "Cannot reach the database postgresql+psycopg://nobody:***@127.0.0.1:1/none: "
    )
    assert len(result.output.splitlines()) == 1
    assert "secret" not in result.output


def test_db_upgrade_without_a_url_or_a_default_says_how_to_give_one() -> None:
    # The real app always has a default (the embedded database), so this case needs an app
    # that registers the commands without one.
    bare = typer.Typer()

    @bare.callback()
    def main() -> None:
        """An app with the db commands and no default database."""

    register(bare)
    result = CliRunner().invoke(bare, ["db", "upgrade"], env={"DOMAIN_DB_CONNECTION_STRING": ""})

    assert result.exit_code == 2
    assert "pass --url or set DOMAIN_DB_CONNECTION_STRING" in result.output


def _revisions(url: str) -> tuple[str, str]:
    """The newest revision and the one before it."""
    head = _head_revision(url)
    database = Database(url)
    try:
        older = ScriptDirectory.from_config(database.alembic_config()).get_revision(head)
    finally:
        database.dispose()
    assert isinstance(older.down_revision, str)
    return older.down_revision, head


def test_db_upgrade_says_it_created_a_new_database_then_that_it_is_current(
    database_url: str,
) -> None:
    runner = CliRunner()
    head = _head_revision(database_url)

    first = runner.invoke(app, ["db", "upgrade", "--url", database_url])
    second = runner.invoke(app, ["db", "upgrade", "--url", database_url])

    assert first.exit_code == 0, first.output
    assert f"created the sharepack schema at revision {head}" in first.output
    assert "up to date" not in first.output
    assert second.exit_code == 0, second.output
    assert f"already at the current revision {head}; nothing to do" in second.output


def test_db_upgrade_says_from_which_revision_it_migrated(database_url: str) -> None:
    older, head = _revisions(database_url)
    database = Database(database_url)
    try:
        command.upgrade(database.alembic_config(), older)
    finally:
        database.dispose()

    result = CliRunner().invoke(app, ["db", "upgrade", "--url", database_url])

    assert result.exit_code == 0, result.output
    assert f"migrated the schema from revision {older} to {head}" in result.output
    assert _migrated_state(database_url)[1] == [head]
