"""`sharepack batch`: a batch's packs and its status, read from the configured database.

It only reads: it never migrates the database, and calls no workspace.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import typer

from sharepack.cli.exit_codes import UsageError

if TYPE_CHECKING:
    from sharepack.usecases.batch import BatchSummary


def batch(
    batch_id: str = typer.Argument(..., help="The batch's BatchId."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
) -> None:
    """A batch's packs, how many are in each status, and the batch's status (exit 1 if
    unknown)."""
    from sharepack.cli.operator import operator_caller
    from sharepack.runtime import build_runtime
    from sharepack.settings import load_settings
    from sharepack.usecases.batch import batch_summary

    try:
        wanted = uuid.UUID(batch_id)
    except ValueError:
        raise UsageError(f"'{batch_id}' is not a batch id (a UUID)") from None
    runtime = build_runtime(load_settings(), migrate=False)
    try:
        summary = batch_summary(runtime, wanted, operator_caller())
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps(_as_json(summary), indent=2))
    else:
        _print(summary)


def _as_json(summary: BatchSummary) -> dict[str, object]:
    return {
        "batch_id": str(summary.batch_id),
        "status": summary.status.value,
        "submitted_by": summary.submitted_by,
        "created_at": summary.created_at.isoformat(),
        "counts": summary.counts,
        "share_packs": [
            {
                "file_name": p.file_name,
                "share_pack_id": str(p.share_pack_id),
                "name": p.share_pack_name,
                "status": p.status,
                "provisioning_status": p.provisioning_status,
                "error": p.error_message,
                "rollback_status": p.rollback_status,
            }
            for p in summary.packs
        ],
    }


def _print(summary: BatchSummary) -> None:
    """A table of the packs, then the counts and the batch's status."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Batch {summary.batch_id}", title_justify="left")
    # Names and ids whole (a reader copies them); the words of progress or error wrap.
    for column in ("File", "Share pack", "Status", "Rollback"):
        table.add_column(column, no_wrap=True)
    table.add_column("Progress or error", overflow="fold", min_width=20)
    for p in summary.packs:
        table.add_row(
            p.file_name,
            f"{p.share_pack_name}\n{p.share_pack_id}",
            p.status,
            p.rollback_status or "",
            p.error_message or p.provisioning_status,
        )
    console = Console(width=max(Console().width, 120), highlight=False)
    console.print(table)
    counts = ", ".join(f"{n} {status}" for status, n in summary.counts.items() if n)
    when = summary.created_at.isoformat(timespec="seconds")
    console.print(f"Submitted by {summary.submitted_by} at {when}; {counts}", markup=False)
    console.print(f"Batch status: {summary.status.value}", markup=False)


def register_batch_commands(app: typer.Typer) -> None:
    app.command()(batch)
