"""A run's journal and snapshots, as the engine records them (sharepack's own tables)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from sharepack.errors import NotFoundError, StoreError
from sharepack.store.dialect import as_utc, database_now, lock_key
from sharepack.store.own_tables import run_journal, snapshots

JOURNAL_STATUSES = frozenset(
    {"PENDING", "DONE", "FAILED", "COMPENSATED", "COMPENSATION_FAILED", "KEPT"}
)


@dataclass(frozen=True)
class JournalRow:
    run_id: uuid.UUID
    share_pack_id: uuid.UUID
    seq: int
    action_id: str
    action_kind: str
    resource: str
    payload: Any
    before_state: Any
    inverse: Any
    status: str
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class RunJournalRepository:
    """Each action of a run: written PENDING before it runs, then given its outcome."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def started(
        self,
        *,
        run_id: uuid.UUID,
        share_pack_id: uuid.UUID,
        action_id: str,
        action_kind: str,
        resource: str,
        payload: Any = None,
        before_state: Any = None,
        inverse: Any = None,
    ) -> int:
        """Append a PENDING entry and return its sequence number within the run."""
        # Two workers may journal one run (one took over after a lease expired): the lock
        # keeps their sequence numbers apart instead of failing on the unique index.
        lock_key(self._session, "run_journal", str(run_id))
        seq_query = select(func.coalesce(func.max(run_journal.c.seq), 0) + 1).where(
            run_journal.c.run_id == run_id
        )
        seq = int(self._session.execute(seq_query).scalar_one())
        self._session.execute(
            insert(run_journal).values(
                entry_id=uuid.uuid4(),
                run_id=run_id,
                share_pack_id=share_pack_id,
                seq=seq,
                action_id=action_id,
                action_kind=action_kind,
                resource=resource,
                payload=payload,
                before_state=before_state,
                inverse=inverse,
                status="PENDING",
                started_at=database_now(self._session),
            )
        )
        return seq

    def finished(
        self, *, run_id: uuid.UUID, action_id: str, status: str, error: str | None = None
    ) -> None:
        """Record an action's outcome; `NotFoundError` if it was never started."""
        if status not in JOURNAL_STATUSES:
            raise StoreError(f"Journal status '{status}' is not one of {sorted(JOURNAL_STATUSES)}")
        result = self._session.execute(
            update(run_journal)
            .where(run_journal.c.run_id == run_id, run_journal.c.action_id == action_id)
            .values(status=status, error=error, finished_at=database_now(self._session))
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFoundError(f"Run {run_id} has no journal entry for action '{action_id}'")

    def entries(self, run_id: uuid.UUID) -> list[JournalRow]:
        """The run's entries in the order they started."""
        query = (
            select(run_journal).where(run_journal.c.run_id == run_id).order_by(run_journal.c.seq)
        )
        return [_journal_row(row) for row in self._session.execute(query).mappings()]


def _journal_row(row: RowMapping) -> JournalRow:
    values = {k: v for k, v in row.items() if k != "entry_id"}
    values["started_at"] = as_utc(values["started_at"])
    if values["finished_at"] is not None:
        values["finished_at"] = as_utc(values["finished_at"])
    return JournalRow(**values)


@dataclass(frozen=True)
class SnapshotRow:
    snapshot_id: uuid.UUID
    run_id: uuid.UUID | None
    share_pack_id: uuid.UUID | None
    label: str | None
    workspace_url: str
    resources: list[str]
    compressed: bool
    content: bytes
    created_at: datetime


class SnapshotRepository:
    """Before-states of workspace resources; `content` is opaque bytes to the store."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def save(
        self,
        *,
        workspace_url: str,
        resources: list[str],
        content: bytes,
        compressed: bool,
        run_id: uuid.UUID | None = None,
        share_pack_id: uuid.UUID | None = None,
        label: str | None = None,
    ) -> SnapshotRow:
        row = SnapshotRow(
            snapshot_id=uuid.uuid4(),
            run_id=run_id,
            share_pack_id=share_pack_id,
            label=label,
            workspace_url=workspace_url,
            resources=list(resources),
            compressed=compressed,
            content=content,
            created_at=database_now(self._session),
        )
        self._session.execute(insert(snapshots).values(**row.__dict__))
        return row

    def get(self, snapshot_id: uuid.UUID) -> SnapshotRow:
        """One snapshot; `NotFoundError` if there is none with this id."""
        query = select(snapshots).where(snapshots.c.snapshot_id == snapshot_id)
        row = self._session.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(f"No snapshot with id '{snapshot_id}'")
        return _snapshot_row(row)

    def list(self, *, run_id: uuid.UUID | None = None) -> list[SnapshotRow]:
        """Snapshots newest first, optionally only those of one run."""
        query = select(snapshots).order_by(snapshots.c.created_at.desc())
        if run_id is not None:
            query = query.where(snapshots.c.run_id == run_id)
        return [_snapshot_row(row) for row in self._session.execute(query).mappings()]

    def delete_older_than(self, days: float) -> int:
        """Remove snapshots taken more than `days` ago by the database clock; how many."""
        cutoff = database_now(self._session) - timedelta(days=days)
        result = self._session.execute(delete(snapshots).where(snapshots.c.created_at < cutoff))
        return int(result.rowcount)  # type: ignore[attr-defined]


def _snapshot_row(row: RowMapping) -> SnapshotRow:
    values = dict(row)
    values["created_at"] = as_utc(values["created_at"])
    values["content"] = bytes(values["content"])
    return SnapshotRow(**values)
