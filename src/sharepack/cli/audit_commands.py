"""`sharepack access` and `sharepack status`: the recorded history, read from a terminal.

Both only read the configured database: they never migrate it (a database without the
current schema is named with the fix), and neither calls a workspace.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import typer

from sharepack.cli.exit_codes import UsageError

JSON = typer.Option(False, "--json", help="Print one JSON object instead of text.")


def _runtime() -> Any:
    from sharepack.runtime import build_runtime
    from sharepack.settings import load_settings

    return build_runtime(load_settings(), migrate=False)


def _moment(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--at '{value}' is not an ISO 8601 time, e.g. 2025-03-01T09:30:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def access(
    table: str = typer.Argument(..., help="The table, catalog.schema.table."),
    at: str = typer.Option(
        None, "--at", help="ISO 8601 time (UTC unless it says); now if not given."
    ),
    workspace: str = typer.Option(None, "--workspace", help="Only this workspace URL."),
    as_json: bool = JSON,
) -> None:
    """Who could read TABLE at a time: recipients of the shares that held it (or its schema),
    each with its workspace."""
    from sharepack.cli.workspace_option import checked_workspace_url
    from sharepack.usecases.queries import who_could_read

    moment = _moment(at)
    where = checked_workspace_url(workspace) if workspace is not None else None
    runtime = _runtime()
    try:
        readers = who_could_read(runtime, table.lower(), moment, workspace_url=where)
    finally:
        runtime.close()
    if as_json:
        rows = [
            {
                "name": r.recipient_name,
                "workspace_url": r.workspace_url,
                "workspace_id": r.workspace_id,
            }
            for r in readers
        ]
        # `recipients` keeps its first form (names); `readers` adds where each one reads.
        body = {
            "table": table.lower(),
            "at": moment.isoformat(),
            "recipients": [r.recipient_name for r in readers],
            "readers": rows,
        }
        typer.echo(json.dumps(body, indent=2))
        return
    when = moment.isoformat(timespec="seconds")
    if not readers:
        typer.echo(f"No recipient could read {table.lower()} at {when}.")
        return
    typer.echo(f"Recipients that could read {table.lower()} at {when}:")
    width = max(len(r.recipient_name) for r in readers)
    for r in readers:
        typer.echo(
            f"  {r.recipient_name:<{width}}  on {_workspace(r.workspace_url, r.workspace_id)}"
        )


def _workspace(url: str, workspace_id: str | None) -> str:
    """A workspace as the history knows it: its URL, and its id once a run recorded it."""
    return f"{url} (workspace {workspace_id})" if workspace_id else url


def status(
    share_pack_id: str = typer.Argument(..., help="The pack's SharePackId."),
    as_json: bool = JSON,
) -> None:
    """A share pack's outcome and every recorded version of it (exit 1 if unknown)."""
    from sharepack.usecases.queries import share_pack_history

    try:
        pack_id = uuid.UUID(share_pack_id)
    except ValueError:
        raise UsageError(f"'{share_pack_id}' is not a share pack id (a UUID)") from None
    runtime = _runtime()
    try:
        history = share_pack_history(runtime, pack_id)
    finally:
        runtime.close()
    current = history[-1]
    versions = [
        {
            "version": v.version,
            "from": v.effective_from.isoformat(),
            "status": v.share_pack_status,
            "change_reason": v.change_reason,
        }
        for v in history
    ]
    if as_json:
        body = {
            "share_pack_id": str(current.share_pack_id),
            "name": current.share_pack_name,
            "status": current.share_pack_status,
            "rollback_status": current.rollback_status,
            "provisioning_status": current.provisioning_status,
            "error": current.error_message,
            "workspace_url": current.workspace_url,
            "workspace_id": current.workspace_id,
            "requested_by": current.requested_by,
            "submitted_by": current.submitted_by,
            "history": versions,
        }
        typer.echo(json.dumps(body, indent=2))
        return
    where = _workspace(current.workspace_url, current.workspace_id)
    typer.echo(f"{current.share_pack_name} ({current.share_pack_id}) on {where}")
    typer.echo(f"  {current.share_pack_status}, rollback {current.rollback_status}")
    submitted = f", submitted by {current.submitted_by}" if current.submitted_by else ""
    typer.echo(f"  requested by {current.requested_by}{submitted}")
    typer.echo(f"  {current.provisioning_status or ''}")
    if current.error_message:
        typer.echo(f"  error: {current.error_message}")
    for v in versions:
        typer.echo(f"  v{v['version']} {v['from']}  {v['status']:<12} {v['change_reason']}")


def register(app: typer.Typer) -> None:
    app.command()(access)
    app.command()(status)
