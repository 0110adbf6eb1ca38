"""An in-memory `Queue` for tests and single-process runs; it passes the table queue's
contract tests.

With a Unit of Work, an enqueued message waits in the session until that transaction
commits (and vanishes if it rolls back), as the table queue's row would.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from sharepack.errors import QueueError
from sharepack.queue.protocol import ClaimedMessage
from sharepack.store import UnitOfWork


@dataclass
class _Message:
    body: dict[str, Any]
    order: int
    visible_at: float
    enqueued_at: float
    attempts: int = 0
    receipt: str | None = None


@dataclass(frozen=True)
class _Held:
    """A message hidden when it is added: leased to a holder, or only delayed."""

    receipt: str
    lease_seconds: float
    leased: bool = True


class InMemoryQueue:
    """Leases and visibility as in `TableQueue`, measured on `clock` (seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._messages: dict[str, _Message] = {}
        self._order = count()

    def enqueue(
        self, body: dict[str, Any], *, uow: UnitOfWork | None = None, delay_seconds: float = 0
    ) -> str:
        """Add a message, visible after `delay_seconds`; with `uow`, only once that
        transaction commits (the delay then counts from the commit)."""
        held = _Held("", max(0.0, delay_seconds), leased=False) if delay_seconds > 0 else None
        return self._write(body, uow, held)

    def enqueue_held(
        self,
        body: dict[str, Any],
        *,
        holder: str,
        lease_seconds: float,
        uow: UnitOfWork | None = None,
    ) -> ClaimedMessage:
        """Add a message leased to `holder`; with `uow`, only once that transaction commits
        (the lease then counts from the commit)."""
        held = _Held(f"{holder}/{uuid.uuid4().hex}", lease_seconds)
        message_id = self._write(body, uow, held)
        return ClaimedMessage(message_id, dict(body), 1, held.receipt)

    def _write(self, body: dict[str, Any], uow: UnitOfWork | None, held: _Held | None) -> str:
        message_id = str(uuid.uuid4())
        if uow is None:
            self._add(message_id, body, held)
        else:
            self._pending(uow.session).append((message_id, dict(body), held))
        return message_id

    def claim(self, *, worker_id: str, lease_seconds: float) -> ClaimedMessage | None:
        with self._lock:
            now = self._clock()
            visible = [
                (m.visible_at, m.order, i) for i, m in self._messages.items() if m.visible_at <= now
            ]
            if not visible:
                return None
            message_id = min(visible)[2]
            message = self._messages[message_id]
            message.attempts += 1
            message.receipt = f"{worker_id}/{uuid.uuid4().hex}"
            message.visible_at = now + lease_seconds
            return ClaimedMessage(message_id, dict(message.body), message.attempts, message.receipt)

    def complete(self, message: ClaimedMessage) -> None:
        with self._lock:
            if self._holds(message):
                del self._messages[message.message_id]

    def release(self, message: ClaimedMessage, *, delay_seconds: float = 0) -> None:
        with self._lock:
            if self._holds(message):
                held = self._messages[message.message_id]
                held.receipt = None
                held.visible_at = self._clock() + delay_seconds

    def extend(self, message: ClaimedMessage, *, lease_seconds: float) -> None:
        with self._lock:
            if not self._holds(message):
                raise QueueError(
                    f"Message {message.message_id}: the lease was lost to another worker"
                )
            self._messages[message.message_id].visible_at = self._clock() + lease_seconds

    def ping(self) -> bool:
        return True

    def depth(self) -> int:
        with self._lock:
            return len(self._messages)

    def oldest_age_seconds(self) -> float:
        with self._lock:
            now = self._clock()
            waiting = [m.enqueued_at for m in self._messages.values() if m.visible_at <= now]
        return max(0.0, now - min(waiting)) if waiting else 0.0

    def close(self) -> None:
        """Nothing of its own to close."""

    def _holds(self, message: ClaimedMessage) -> bool:
        held = self._messages.get(message.message_id)
        return held is not None and held.receipt == message.receipt

    def _add(self, message_id: str, body: dict[str, Any], held: _Held | None = None) -> None:
        with self._lock:
            now = self._clock()
            message = _Message(dict(body), next(self._order), now, now)
            if held is not None:
                message.visible_at += held.lease_seconds
            if held is not None and held.leased:
                message.receipt = held.receipt
                message.attempts = 1
            self._messages[message_id] = message

    def _pending(self, session: Session) -> list[tuple[str, dict[str, Any], _Held | None]]:
        """Messages waiting on `session`'s transaction: delivered when it commits, dropped
        when it rolls back (a savepoint's rollback leaves them waiting)."""
        key = f"sharepack.in_memory_queue.{id(self)}"
        if key not in session.info:
            session.info[key] = []

            def deliver(committed: Session) -> None:
                waiting, committed.info[key] = committed.info[key], []
                for message_id, body, held in waiting:
                    self._add(message_id, body, held)

            def discard(rolled_back: Session, previous: SessionTransaction) -> None:
                if not previous.nested:
                    rolled_back.info[key] = []

            event.listen(session, "after_commit", deliver)
            event.listen(session, "after_soft_rollback", discard)
        pending: list[tuple[str, dict[str, Any], _Held | None]] = session.info[key]
        return pending
