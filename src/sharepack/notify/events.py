"""What a notice says: the event that happened to a share pack and who hears of it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class NotificationEvent(StrEnum):
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ROLLED_BACK = "ROLLED_BACK"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"
    CANCELLED = "CANCELLED"
    DRIFT_DETECTED = "DRIFT_DETECTED"


def default_next_step(event: NotificationEvent, share_pack_id: uuid.UUID) -> str:
    """What the reader of a notice about `event` should do next, when the sender says nothing."""
    match event:
        case NotificationEvent.AWAITING_APPROVAL:
            return (
                "Review the plan and approve or reject it: "
                f'sharepack approve {share_pack_id} --comment "..." / '
                f'sharepack reject {share_pack_id} --comment "..."'
            )
        case NotificationEvent.APPROVED:
            return (
                "Nothing to do: the pack is queued and will be applied; "
                "another notice says how it ended."
            )
        case NotificationEvent.REJECTED:
            return "Read the reason above, change the pack accordingly and upload it again."
        case NotificationEvent.COMPLETED:
            return "Nothing to do: the pack's recipients, shares and pipelines are in place."
        case NotificationEvent.FAILED:
            return "Read the ErrorMessage above, fix what it names and upload the pack again."
        case NotificationEvent.ROLLED_BACK:
            return (
                "The workspace is as it was before the run. Read the ErrorMessage above, "
                "fix what it names and upload the pack again."
            )
        case NotificationEvent.ROLLBACK_FAILED:
            return (
                "An operator must clean up what the ErrorMessage names: the workspace may "
                f"still hold part of this run's changes (sharepack status {share_pack_id})."
            )
        case NotificationEvent.CANCELLED:
            return "Nothing to do; upload the pack again if it is still needed."
        case NotificationEvent.DRIFT_DETECTED:
            return (
                "Someone changed the project's resources outside sharepack (listed above). "
                "Keep the change: sharepack drift --record; put the project back: "
                "sharepack drift --revert."
            )


def unique_addresses(addresses: tuple[str, ...]) -> tuple[str, ...]:
    """`addresses` stripped, without blanks and without repeats ignoring case, in order."""
    seen: set[str] = set()
    kept = []
    for address in (a.strip() for a in addresses):
        if address and address.lower() not in seen:
            seen.add(address.lower())
            kept.append(address)
    return tuple(kept)


@dataclass(frozen=True)
class Notice:
    """One event of one share pack, to be told to `to` (and the webhook, if any).
    `to` is kept deduplicated ignoring case; an empty `next_step` takes the event's default."""

    event: NotificationEvent
    share_pack_id: uuid.UUID
    share_pack_name: str
    project_name: str
    business_line: str
    workspace_url: str
    requestor: str
    to: tuple[str, ...]
    summary: tuple[str, ...] = ()
    detail: str = ""
    next_step: str = ""
    actor: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "event", NotificationEvent(self.event))
        object.__setattr__(self, "to", unique_addresses(tuple(self.to)))
        object.__setattr__(self, "summary", tuple(self.summary))
        if not self.next_step.strip():
            object.__setattr__(self, "next_step", default_next_step(self.event, self.share_pack_id))

    def payload(self) -> dict[str, Any]:
        """The notice as the webhook's JSON carries it (less `sent_at`, set when it is sent)."""
        return {
            "event": self.event.value,
            "share_pack_id": str(self.share_pack_id),
            "share_pack_name": self.share_pack_name,
            "project_name": self.project_name,
            "business_line": self.business_line,
            "workspace_url": self.workspace_url,
            "requestor": self.requestor,
            "summary": list(self.summary),
            "detail": self.detail,
            "next_step": self.next_step,
            "actor": self.actor,
        }
