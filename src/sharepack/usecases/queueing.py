"""Putting a pack on the queue: at once, or delayed until its `not_before` with the
queue's own means (Azure's visibility timeout, the table's `visible_at`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sharepack.observability.tracing import enqueue_span
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord, UnitOfWork

QUEUED_STATUS_LINE = "Step 1/8: Queued for provisioning"


def status_line(not_before: datetime | None, approved_by: Sequence[str] = ()) -> str:
    """What the pack says while it waits for a worker."""
    approved = f"Approved by {', '.join(approved_by)}; " if approved_by else ""
    if not_before is not None and not_before > datetime.now(UTC):
        return f"{approved}Scheduled: not before {iso(not_before)}"
    return f"{approved}{QUEUED_STATUS_LINE}" if approved else QUEUED_STATUS_LINE


def message_body(
    *,
    share_pack_id: str,
    not_before: datetime | None,
    auto_rollback: bool | None = None,
) -> dict[str, Any]:
    """A pack's queue message: which pack, what its sender chose, and when it may run."""
    body: dict[str, Any] = {"share_pack_id": share_pack_id}
    if auto_rollback is not None:
        body["auto_rollback"] = auto_rollback
    if not_before is not None:
        body["not_before"] = iso(not_before)
    return body


def delay_until(not_before: datetime | None) -> float:
    if not_before is None:
        return 0.0
    return max(0.0, (not_before - datetime.now(UTC)).total_seconds())


def queue_pack(
    uow: UnitOfWork,
    runtime: Runtime,
    record: SharePackRecord,
    *,
    approved_by: Sequence[str] = (),
) -> str:
    """Queue `record`'s run in `uow`'s transaction (a queue that cannot join it sends at
    once), delayed until its `not_before`; returns the pack's status line."""
    pack_id = str(record.share_pack_id)
    body = message_body(share_pack_id=pack_id, not_before=record.not_before)
    with enqueue_span(body, share_pack_id=pack_id):
        runtime.queue.enqueue(body, uow=uow, delay_seconds=delay_until(record.not_before))
    return status_line(record.not_before, approved_by)


def iso(moment: datetime) -> str:
    """UTC, to the second, with a Z: how times are shown and sent."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
