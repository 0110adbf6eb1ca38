"""`sharepack notifications`: the recorded delivery attempts, newest first.

It only reads the configured database (never migrates it) and sends nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import typer

from sharepack.cli.exit_codes import UsageError

if TYPE_CHECKING:
    from sharepack.store.logs import NotificationEntry


def _entry_json(entry: NotificationEntry) -> dict[str, Any]:
    return {
        "created_at": entry.created_at.isoformat(),
        "share_pack_id": str(entry.share_pack_id) if entry.share_pack_id else None,
        "event": entry.event,
        "channel": entry.channel,
        "address": entry.recipient_email,
        "status": entry.delivery_status,
        "attempt": entry.attempt,
        "error": entry.error,
        "subject": entry.subject,
        "sent_at": entry.sent_at.isoformat() if entry.sent_at else None,
        "delivery_id": str(entry.delivery_id) if entry.delivery_id else None,
    }


def notifications(
    pack: str = typer.Option(None, "--pack", help="Only the notices about this SharePackId."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="At most this many rows."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Notifications sharepack sent or tried to send, newest first: one row per attempt."""
    from sharepack.notify.attempts import recorded_attempts
    from sharepack.runtime import build_runtime
    from sharepack.settings import load_settings

    try:
        pack_id = uuid.UUID(pack) if pack is not None else None
    except ValueError:
        raise UsageError(f"--pack '{pack}' is not a share pack id (a UUID)") from None
    runtime = build_runtime(load_settings(), migrate=False)
    try:
        entries = recorded_attempts(runtime.database, share_pack_id=pack_id, limit=limit)
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps([_entry_json(e) for e in entries], indent=2))
        return
    if not entries:
        typer.echo("No notifications recorded" + (f" for {pack_id}." if pack_id else "."))
        return
    _print_table(entries)


def _print_table(entries: list[NotificationEntry]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("time", "event", "channel", "address", "status", "attempt", "error")
    for e in entries:
        table.add_row(
            e.created_at.isoformat(timespec="seconds"),
            e.event or "-",
            e.channel or "-",
            e.recipient_email,
            e.delivery_status,
            str(e.attempt) if e.attempt is not None else "-",
            e.error or "",
        )
    Console(highlight=False).print(table)


def register(app: typer.Typer) -> None:
    app.command()(notifications)
