"""The `sharepack` command line: commands are thin; the work is in `sharepack.usecases`.

Every command ends through one boundary (`sharepack.cli.boundary`): an error is one line
on stderr and the exit code of `sharepack.cli.exit_codes.EXIT_CODES`.

Each command imports what it uses when it runs: this module, and the modules that declare
the commands, import typer and little else, so that `--help` and `version` start at once
(`tests/cli/test_startup_imports.py` holds them to it).
"""

from __future__ import annotations

import typer

from sharepack.cli.approval_commands import register as register_approval_commands
from sharepack.cli.audit_commands import register as register_audit_commands
from sharepack.cli.batch_commands import register_batch_commands
from sharepack.cli.boundary import BoundaryGroup
from sharepack.cli.db_commands import register as register_db_commands
from sharepack.cli.identity_commands import register as register_identity_commands
from sharepack.cli.notification_commands import register as register_notification_commands
from sharepack.cli.run_commands import apply, plan
from sharepack.cli.serve import serve, worker
from sharepack.cli.spec_commands import register as register_spec_commands
from sharepack.cli.sync_commands import register as register_sync_commands
from sharepack.cli.token_commands import rotate_token
from sharepack.cli.version_commands import register as register_version_commands

app = typer.Typer(
    name="sharepack",
    help="Provision Databricks Delta Sharing from declarative share pack files.",
    no_args_is_help=True,
    add_completion=False,
    cls=BoundaryGroup,
)
app.command()(serve)
app.command()(worker)
app.command()(plan)
app.command()(apply)
app.command("rotate-token")(rotate_token)


def _configured_database_url() -> str:
    """The settings' database (the embedded SQLite file when none is configured)."""
    from sharepack.settings import load_settings

    return load_settings().database_url


register_db_commands(app, default_url=_configured_database_url)
register_spec_commands(app)
register_audit_commands(app)
register_batch_commands(app)
register_identity_commands(app)
register_approval_commands(app)
register_notification_commands(app)
register_version_commands(app)
register_sync_commands(app)


@app.command()
def version() -> None:
    """Print sharepack's version."""
    from sharepack import __version__

    typer.echo(__version__)


if __name__ == "__main__":
    app()
