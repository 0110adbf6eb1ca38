"""The `Queue` protocol: at-least-once delivery with leases, shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sharepack.store import UnitOfWork


@dataclass(frozen=True)
class ClaimedMessage:
    """A message leased to one worker until it is completed, released or the lease expires."""

    message_id: str
    body: dict[str, Any]
    attempts: int
    receipt: str = ""  # backend-specific proof of the lease


class Queue(Protocol):
    def enqueue(
        self, body: dict[str, Any], *, uow: UnitOfWork | None = None, delay_seconds: float = 0
    ) -> str:
        """Add a message, claimable after `delay_seconds` (a backend may cap the delay:
        Azure at 7 days, so a later time is reached by delaying again); with `uow`, it
        commits or rolls back with that transaction."""
        ...

    def enqueue_held(
        self,
        body: dict[str, Any],
        *,
        holder: str,
        lease_seconds: float,
        uow: UnitOfWork | None = None,
    ) -> ClaimedMessage:
        """Add a message already leased to `holder`, who processes it in place of a worker:
        if the holder dies and its lease runs out, a worker claims it as the next attempt."""
        ...

    def claim(self, *, worker_id: str, lease_seconds: float) -> ClaimedMessage | None: ...

    def complete(self, message: ClaimedMessage) -> None: ...

    def release(self, message: ClaimedMessage, *, delay_seconds: float = 0) -> None: ...

    def extend(self, message: ClaimedMessage, *, lease_seconds: float) -> None: ...

    def ping(self) -> bool: ...

    def depth(self) -> int:
        """Messages not yet completed, visible or leased."""
        ...

    def oldest_age_seconds(self) -> float:
        """Seconds since the oldest message waiting to be claimed (visible now, not leased)
        was enqueued; 0.0 when none waits. How far the workers are behind."""
        ...

    def close(self) -> None:
        """Let go of connections the queue holds of its own (not the database's)."""
        ...
