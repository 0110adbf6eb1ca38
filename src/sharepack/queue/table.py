"""The queue as a table in sharepack's own database (the embedded default).

A claim makes the message invisible until its lease expires (`visible_at` moves to the
lease's end) and records the lease in `lease_owner`; an expired lease makes the message
claimable again, so a worker that dies mid-run hands its message on. Completion deletes
the row. PostgreSQL claimers pass over each other's rows with `FOR UPDATE SKIP LOCKED`;
SQLite's immediate transactions let one claimer in at a time. Times come from the
database clock, so workers on different hosts agree on when a lease ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sharepack.errors import LostLeaseError, QueueError, StoreError
from sharepack.queue.protocol import ClaimedMessage
from sharepack.store import Database, UnitOfWork
from sharepack.store.dialect import as_utc, database_now, skip_locked, statement_clock
from sharepack.store.own_tables import queue_messages as messages


@dataclass(frozen=True)
class _Lease:
    receipt: str
    seconds: float


def _receipt(worker_id: str) -> str:
    """Proof of one lease: who holds it, and a nonce that the next lease does not share."""
    return f"{worker_id[:200]}/{uuid.uuid4().hex}"


class TableQueue:
    """The `Queue` protocol over the `queue_messages` table, one queue per `queue_name`."""

    def __init__(self, database: Database, queue_name: str) -> None:
        self._database = database
        self.queue_name = queue_name

    def enqueue(
        self, body: dict[str, Any], *, uow: UnitOfWork | None = None, delay_seconds: float = 0
    ) -> str:
        """Add a message, visible after `delay_seconds` (no cap: `visible_at` is the time it
        becomes available); with `uow` it is written in that transaction and commits with it."""
        return self._write(body, uow, None, delay_seconds)

    def enqueue_held(
        self,
        body: dict[str, Any],
        *,
        holder: str,
        lease_seconds: float,
        uow: UnitOfWork | None = None,
    ) -> ClaimedMessage:
        """Add a message leased to `holder` for `lease_seconds`, counted as its first attempt."""
        lease = _Lease(_receipt(holder), lease_seconds)
        message_id = self._write(body, uow, lease)
        return ClaimedMessage(message_id, dict(body), attempts=1, receipt=lease.receipt)

    def claim(self, *, worker_id: str, lease_seconds: float) -> ClaimedMessage | None:
        """Lease the oldest visible message to `worker_id`; None if there is none."""
        with self._session("claim") as session:
            now = database_now(session)
            query = (
                select(messages.c.message_id, messages.c.body, messages.c.attempts)
                .where(messages.c.queue_name == self.queue_name, messages.c.visible_at <= now)
                .order_by(messages.c.visible_at, messages.c.enqueued_at)
                .limit(1)
            )
            row = session.execute(skip_locked(query, session)).first()
            if row is None:
                return None
            receipt = _receipt(worker_id)
            session.execute(
                update(messages)
                .where(messages.c.message_id == row.message_id)
                .values(
                    visible_at=now + timedelta(seconds=lease_seconds),
                    lease_owner=receipt,
                    attempts=row.attempts + 1,
                )
            )
        return ClaimedMessage(
            message_id=str(row.message_id),
            body=dict(row.body),
            attempts=row.attempts + 1,
            receipt=receipt,
        )

    def complete(self, message: ClaimedMessage) -> None:
        """Remove the message if this lease still holds it; a lost lease removes nothing,
        since another worker now owns the message."""
        with self._session("complete") as session:
            session.execute(delete(messages).where(*self._held(message)))

    def release(self, message: ClaimedMessage, *, delay_seconds: float = 0) -> None:
        """Give the message back, visible again after `delay_seconds` (if still held)."""
        with self._session("release") as session:
            now = database_now(session)
            session.execute(
                update(messages)
                .where(*self._held(message))
                .values(visible_at=now + timedelta(seconds=delay_seconds), lease_owner=None)
            )

    def extend(self, message: ClaimedMessage, *, lease_seconds: float) -> None:
        """Keep the lease for `lease_seconds` from now; `QueueError` if it was lost."""
        with self._session("extend") as session:
            now = database_now(session)
            result = session.execute(
                update(messages)
                .where(*self._held(message))
                .values(visible_at=now + timedelta(seconds=lease_seconds))
            )
            held = result.rowcount == 1  # type: ignore[attr-defined]
        if not held:
            raise LostLeaseError(
                f"Message {message.message_id} in queue '{self.queue_name}': the lease was "
                "lost to another worker"
            )

    def ping(self) -> bool:
        """Whether the queue's table answers."""
        try:
            self.depth()
        except QueueError:
            return False
        return True

    def depth(self) -> int:
        """Messages not yet completed, visible or leased."""
        with self._session("count") as session:
            count = session.execute(
                select(func.count())
                .select_from(messages)
                .where(messages.c.queue_name == self.queue_name)
            ).scalar_one()
        return int(count)

    def oldest_age_seconds(self) -> float:
        """Seconds since the oldest visible message was enqueued, on the database clock."""
        with self._session("age") as session:
            now = database_now(session)
            oldest = session.execute(
                select(func.min(messages.c.enqueued_at)).where(
                    messages.c.queue_name == self.queue_name, messages.c.visible_at <= now
                )
            ).scalar_one()
        if oldest is None:
            return 0.0
        return max(0.0, (now - as_utc(oldest)).total_seconds())

    def close(self) -> None:
        """Nothing of its own to close."""

    def _write(
        self,
        body: dict[str, Any],
        uow: UnitOfWork | None,
        lease: _Lease | None,
        delay_seconds: float = 0,
    ) -> str:
        """Insert the message in `uow`'s transaction, or in one of its own."""
        message_id = uuid.uuid4()
        if uow is not None:
            with self._errors("enqueue"):
                self._insert(uow.session, message_id, body, lease, delay_seconds)
        else:
            with self._session("enqueue") as session:
                self._insert(session, message_id, body, lease, delay_seconds)
        return str(message_id)

    def _insert(
        self,
        session: Session,
        message_id: uuid.UUID,
        body: dict[str, Any],
        lease: _Lease | None = None,
        delay_seconds: float = 0,
    ) -> None:
        now = statement_clock(session)  # read as the row is written: no round trip of its own
        hidden = lease.seconds if lease else max(0.0, delay_seconds)
        session.execute(
            insert(messages).values(
                message_id=message_id,
                queue_name=self.queue_name,
                body=body,
                enqueued_at=now.at(),
                visible_at=now.at(timedelta(seconds=hidden)),
                lease_owner=lease.receipt if lease else None,
                attempts=1 if lease else 0,
            )
        )

    def _held(self, message: ClaimedMessage) -> tuple[Any, ...]:
        return (
            messages.c.message_id == uuid.UUID(message.message_id),
            messages.c.lease_owner == message.receipt,
        )

    @contextmanager
    def _session(self, operation: str) -> Iterator[Session]:
        """A transaction of its own, committed on success; database errors as QueueError."""
        with self._errors(operation), self._database.unit_of_work() as uow:
            yield uow.session
            uow.commit()

    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        try:
            yield
        except (SQLAlchemyError, StoreError) as exc:
            raise QueueError(
                f"Queue '{self.queue_name}' on {self._database.describe()}: {operation} "
                f"failed: {exc}"
            ) from exc
