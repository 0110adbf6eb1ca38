"""`sharepack rotate-token`: give a partner (a TOKEN recipient) a new bearer token.

The new activation link is printed once, here, and kept nowhere: the operator sends it to
the partner over a secure channel. The earlier token keeps working for
`--expire-existing-in` seconds (an hour by default; 0 ends it now), so the partner can
switch without a gap.

Exit codes (`sharepack.cli.exit_codes`): 0 rotated; 1 refused or failed (no such
recipient, a D2D recipient, a workspace not allow-listed, too many active tokens, a
workspace that cannot be reached); 2 usage, or the workspace's credentials missing or
refused. The workspace must be in SHAREPACK_WORKSPACE_URLS, as for an upload: it is checked
before any request carries the credentials.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from sharepack.errors import SharePackError

if TYPE_CHECKING:
    from sharepack.usecases.rotate_token import TokenRotation

#: As `sharepack.usecases.rotate_token.DEFAULT_EXISTING_TOKEN_EXPIRE_IN_SECONDS`, which
#: is not imported here: `--help` loads nothing of the service (a test holds them equal).
DEFAULT_EXPIRE_EXISTING_IN = 3600


def rotate_token(
    recipient: str = typer.Argument(
        ..., metavar="RECIPIENT", help="The recipient (D2O, TOKEN) whose token to rotate."
    ),
    workspace: str = typer.Option(
        ..., "--workspace", help="The workspace URL, e.g. https://adb-1.azuredatabricks.net"
    ),
    expire_existing_in: int = typer.Option(
        DEFAULT_EXPIRE_EXISTING_IN,
        "--expire-existing-in",
        min=0,
        metavar="SECONDS",
        help="The earlier token keeps working this long (0: it stops now). A rotation "
        "never lengthens a token that expires sooner.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
) -> None:
    """Rotate RECIPIENT's bearer token; print the new activation link, once."""
    from sharepack.cli.operator import operator_caller
    from sharepack.cli.workspace_option import checked_workspace_url
    from sharepack.runtime import build_runtime
    from sharepack.settings import load_settings
    from sharepack.usecases import rotate_token as usecase
    from sharepack.usecases.submit import check_workspace_allowed

    try:
        url = checked_workspace_url(workspace)
        runtime = build_runtime(load_settings(), migrate=True)
        try:
            try:
                # Before the operator's Databricks identity is asked: no request carries
                # the credentials to a workspace that is not allow-listed.
                check_workspace_allowed(runtime, url)
            except SharePackError as refused:
                usecase.record_refused_rotation(runtime, operator_caller(), refused, recipient)
                raise
            rotation = usecase.rotate_token(
                runtime,
                operator_caller(runtime.workspace_for(url)),
                workspace_url=url,
                recipient=recipient,
                existing_token_expire_in_seconds=expire_existing_in,
            )
        finally:
            runtime.close()
    except SharePackError as error:
        if as_json:
            typer.echo(json.dumps({"error": error.message}))
        raise
    if as_json:
        typer.echo(json.dumps(_as_json(rotation), indent=2))
    else:
        _print(rotation)


def _as_json(rotation: TokenRotation) -> dict[str, Any]:
    from sharepack.usecases.rotate_token import iso_time

    rotated = rotation.rotated
    expires, existing = rotated.expiration_time, rotated.existing_tokens_expire_at
    return {
        "recipient": rotated.recipient,
        "workspace_url": rotation.workspace_url,
        "activation_url": rotated.activation_url,
        "token_expiration_time": iso_time(expires) if expires is not None else None,
        "existing_tokens_expire_at": iso_time(existing) if existing is not None else None,
        "message": rotation.message,
    }


def _print(rotation: TokenRotation) -> None:
    from sharepack.usecases.rotate_token import iso_time

    rotated = rotation.rotated
    expires = rotated.expiration_time
    typer.echo(f"Rotated the token of recipient '{rotated.recipient}' in {rotation.workspace_url}.")
    typer.echo("")
    typer.echo("New activation link (shown only now; sharepack keeps no copy):")
    typer.echo(f"  {rotated.activation_url}")
    typer.echo("Send it to the partner over a secure channel, not in a ticket or a chat.")
    typer.echo("")
    typer.echo(rotation.existing_tokens_note)
    typer.echo(
        f"The new token expires at {iso_time(expires)}."
        if expires is not None
        else "The new token does not expire."
    )
