"""`sharepack db ...`: schema commands, registered on the main Typer app by `register`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from sharepack.cli.boundary import BoundaryGroup
from sharepack.cli.exit_codes import UsageError

if TYPE_CHECKING:
    from sharepack.store.database import SchemaUpgrade


def register(app: typer.Typer, *, default_url: Callable[[], str] | None = None) -> None:
    """Add the `db` command group to `app`; `default_url` supplies the URL when no
    `--url` or DOMAIN_DB_CONNECTION_STRING is given (the embedded database, say)."""
    db = typer.Typer(help="The sharepack database.", no_args_is_help=True, cls=BoundaryGroup)

    @db.command()
    def upgrade(
        url: str | None = typer.Option(
            None,
            "--url",
            envvar="DOMAIN_DB_CONNECTION_STRING",
            help="sqlite:///path/file.db or postgresql://user@host:5432/db",
        ),
    ) -> None:
        """Create or migrate the schema to the newest version; safe to run again."""
        from sharepack.store.database import Database
        from sharepack.store.tables import DELTASHARE_TABLES

        chosen = url or (default_url() if default_url is not None else None)
        if not chosen:
            raise UsageError("No database URL: pass --url or set DOMAIN_DB_CONNECTION_STRING.")
        database = Database(chosen)
        try:
            done = database.upgrade()
            count = database.table_count()
        finally:
            database.dispose()
        typer.echo(
            f"{database.describe()}: {_what_happened(done)}; "
            f"{count} of {len(DELTASHARE_TABLES)} deltashare tables present."
        )

    app.add_typer(db, name="db")


def _what_happened(done: SchemaUpgrade) -> str:
    if done.created:
        return f"created the sharepack schema at revision {done.after} (it had none)"
    if done.migrated:
        return f"migrated the schema from revision {done.before} to {done.after}"
    return f"already at the current revision {done.after}; nothing to do"
