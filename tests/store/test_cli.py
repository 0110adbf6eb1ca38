"""`sharepack db upgrade` creates the schema, and running it again changes nothing."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from sharepack.store import Database
from sharepack.store.cli import register


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A stand-in for the sharepack app."""

    register(app)
    return app


def test_db_upgrade_creates_the_sixteen_tables_and_is_idempotent(database_url: str) -> None:
    runner = CliRunner()

    first = runner.invoke(cli(), ["db", "upgrade", "--url", database_url])
    second = runner.invoke(
        cli(), ["db", "upgrade"], env={"DOMAIN_DB_CONNECTION_STRING": database_url}
    )

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "16 of 16 deltashare tables present" in second.output
    database = Database(database_url)
    try:
        assert database.table_count() == 16
    finally:
        database.dispose()


def test_db_upgrade_without_a_url_says_how_to_give_one() -> None:
    result = CliRunner().invoke(cli(), ["db", "upgrade"], env={"DOMAIN_DB_CONNECTION_STRING": ""})

    assert result.exit_code == 2
    assert "pass --url or set DOMAIN_DB_CONNECTION_STRING" in result.output


def test_db_upgrade_reports_a_database_it_cannot_reach() -> None:
    result = CliRunner().invoke(
        cli(), ["db", "upgrade", "--url", "postgresql://nobody:secret@127.0.0.1:1/none"]
    )

    assert result.exit_code == 1
    assert "Migrating postgresql+psycopg://nobody:***@127.0.0.1:1/none failed" in result.output
