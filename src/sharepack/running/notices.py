"""Who is told what about a pack: the notices its events send, written into the
notifications outbox in the transaction that records the event (`notify.outbox`), so a
notice goes out exactly when the change it tells of commits, and a send that fails
never touches the run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sharepack.notify.events import Notice, NotificationEvent
from sharepack.notify.outbox import queue_notice
from sharepack.running.status import RollbackOutcome
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord, UnitOfWork

#: The event a failed run's rollback outcome is told as.
FAILURE_EVENTS = {
    RollbackOutcome.NOT_NEEDED: NotificationEvent.FAILED,
    RollbackOutcome.LEFT_IN_PLACE: NotificationEvent.FAILED,
    RollbackOutcome.ROLLED_BACK: NotificationEvent.ROLLED_BACK,
    RollbackOutcome.ROLLED_BACK_WITH_CONFLICTS: NotificationEvent.ROLLED_BACK,
    RollbackOutcome.ROLLBACK_FAILED: NotificationEvent.ROLLBACK_FAILED,
}


def pack_people(record: SharePackRecord) -> tuple[str, ...]:
    """The requestor, then the notification addresses of the pack's pipelines."""
    addresses = [record.requested_by]
    for share in record.config.get("shares", []) or []:
        for pipeline in share.get("pipelines", []) or []:
            addresses.extend(pipeline.get("notification", []) or [])
    return tuple(addresses)


def tell(
    uow: UnitOfWork,
    runtime: Runtime,
    record: SharePackRecord,
    event: NotificationEvent,
    *,
    to: Iterable[str] | None = None,
    summary: Sequence[str] = (),
    detail: str = "",
    actor: str | None = None,
) -> None:
    """Queue the notice of `event` about `record` in `uow` (to the pack's people unless
    `to` names others); nothing when notifications are not configured."""
    notice = Notice(
        event=event,
        share_pack_id=record.share_pack_id,
        share_pack_name=record.share_pack_name,
        project_name=record.project_name or "",
        business_line=record.business_line or "",
        workspace_url=record.workspace_url,
        requestor=record.requested_by,
        to=tuple(to if to is not None else pack_people(record)),
        summary=tuple(summary),
        detail=detail,
        next_step="",
        actor=actor,
    )
    queue_notice(uow, notice, runtime.settings, database=runtime.database)
