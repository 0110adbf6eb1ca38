"""The share pack repository: every status change is a new SCD2 version of the pack."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Label, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from sharepack.errors import NotFoundError
from sharepack.store import tables
from sharepack.store.dialect import database_now
from sharepack.store.records import SharePackRecord
from sharepack.store.scd2 import (
    as_of_row,
    current_row,
    history_rows,
    insert_first_version,
    insert_next_version,
    is_current,
    lock_version_key,
)


class SharePackRepository:
    """Share packs by `share_pack_id`; writes go into the Unit of Work's transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._table = tables.share_packs

    def create(
        self,
        *,
        share_pack_id: uuid.UUID,
        share_pack_name: str,
        requested_by: str,
        strategy: str,
        config: dict[str, Any],
        file_name: str,
        file_format: str,
        workspace_url: str,
        status: str,
        provisioning_status: str,
        created_by: str,
        change_reason: str,
        business_line: str = "",
        project_name: str = "",
        workspace_id: str | None = None,
        submitted_by: str | None = None,
        project_id: uuid.UUID | None = None,
        approval_state: str | None = None,
        approval_plan: dict[str, Any] | None = None,
        not_before: datetime | None = None,
        batch_id: uuid.UUID | None = None,
        restores_version: uuid.UUID | None = None,
    ) -> SharePackRecord:
        """Version 1 of a new pack; a `StoreError` if the id is taken. `workspace_id` is
        the workspace's own id when known (a run records it otherwise); `submitted_by`
        the authenticated uploader, `project_id` the project the pack was filed under
        (`Tenancy.resolve`), `batch_id` the batch it came in, and `restores_version` the
        project version a rollback pack puts back, when the caller knows them."""
        values = {
            "share_pack_name": share_pack_name,
            "share_pack_status": status,
            "strategy": strategy,
            "provisioning_status": provisioning_status,
            "error_message": None,
            "rollback_status": None,
            "requested_by": requested_by,
            "business_line": business_line,
            "project_name": project_name,
            "workspace_url": workspace_url,
            "workspace_id": workspace_id,
            "file_name": file_name,
            "file_format": file_format,
            "config": config,
            "submitted_by": submitted_by,
            "project_id": project_id,
            "approval_state": approval_state,
            "approval_plan": approval_plan,
            "not_before": not_before,
            "batch_id": batch_id,
            "restores_version": restores_version,
        }
        row = insert_first_version(
            self._session,
            self._table,
            "share_pack_id",
            share_pack_id,
            values,
            created_by=created_by,
            change_reason=change_reason,
        )
        return SharePackRecord.from_row(row, created_at=row["effective_from"])

    def get_current(self, share_pack_id: uuid.UUID) -> SharePackRecord:
        """The pack's current version; `NotFoundError` if there is no such pack. One
        statement: the version and when the pack was created come together."""
        table = self._table
        query = select(table, self._created_at()).where(self._is(share_pack_id), is_current(table))
        row = self._session.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(f"No share pack with id '{share_pack_id}'")
        return SharePackRecord.from_row(row, created_at=row["created_at"])

    def get_locked(self, share_pack_id: uuid.UUID) -> SharePackRecord:
        """The pack's current version, its other writers held off until the transaction
        ends (a decision or a cancel is checked against what no one else is changing)."""
        lock_version_key(self._session, self._table, str(share_pack_id))
        return self.get_current(share_pack_id)

    def update(
        self, share_pack_id: uuid.UUID, *, created_by: str, change_reason: str, **changes: Any
    ) -> SharePackRecord:
        """Close the current version and insert the next with `changes` (by column name,
        `submitted_by` and `project_id` included); columns not named keep their values.

        A soft-deleted pack stays deleted; `NotFoundError` if there is no such pack.
        """
        lock_version_key(self._session, self._table, str(share_pack_id))
        current = current_row(self._session, self._table, self._is(share_pack_id))
        if current is None:
            raise NotFoundError(f"No share pack with id '{share_pack_id}' to update")
        row = insert_next_version(
            self._session,
            self._table,
            "share_pack_id",
            current,
            changes,
            created_by=created_by,
            change_reason=change_reason,
            deleted=bool(current["is_deleted"]),
        )
        return self._record(row)

    def start_run(self, share_pack_id: uuid.UUID, *, created_by: str) -> SharePackRecord | None:
        """Take the pack's run up, under its lock: a version with `started_at` (once: a run
        taken over keeps the first time). None, writing nothing, if the pack is no longer
        IN_PROGRESS (cancelled, rejected, ended) or waits for approval."""
        lock_version_key(self._session, self._table, str(share_pack_id))
        current = current_row(self._session, self._table, self._is(share_pack_id))
        if current is None or current["share_pack_status"] != "IN_PROGRESS":
            return None
        if current["approval_state"] == "AWAITING_APPROVAL":
            return None
        if current["started_at"] is not None:
            return self._record(current)
        row = insert_next_version(
            self._session,
            self._table,
            "share_pack_id",
            current,
            {"started_at": database_now(self._session)},
            created_by=created_by,
            change_reason="Run started",
            deleted=bool(current["is_deleted"]),
        )
        return self._record(row)

    def soft_delete(
        self, share_pack_id: uuid.UUID, *, created_by: str, change_reason: str
    ) -> SharePackRecord:
        """A new version marked deleted; the history stays."""
        lock_version_key(self._session, self._table, str(share_pack_id))
        current = current_row(self._session, self._table, self._is(share_pack_id))
        if current is None:
            raise NotFoundError(f"No share pack with id '{share_pack_id}' to delete")
        row = insert_next_version(
            self._session,
            self._table,
            "share_pack_id",
            current,
            {},
            created_by=created_by,
            change_reason=change_reason,
            deleted=True,
        )
        return self._record(row)

    def as_of(self, share_pack_id: uuid.UUID, moment: datetime) -> SharePackRecord | None:
        """The version in effect at `moment`; None before the pack existed."""
        row = as_of_row(self._session, self._table, moment, self._is(share_pack_id))
        return self._record(row) if row is not None else None

    def history(self, share_pack_id: uuid.UUID) -> list[SharePackRecord]:
        """Every version of the pack, oldest first; empty for an unknown id."""
        rows = history_rows(self._session, self._table, self._is(share_pack_id))
        if not rows:
            return []
        created = rows[0]["effective_from"]
        return [SharePackRecord.from_row(row, created_at=created) for row in rows]

    def list_current(self, *, status: str | None = None, limit: int = 100) -> list[SharePackRecord]:
        """Live packs, newest change first, optionally only those in `status`."""
        table = self._table
        query = select(table, self._created_at()).where(
            is_current(table), table.c.is_deleted.is_(False)
        )
        if status is not None:
            query = query.where(table.c.share_pack_status == status)
        query = query.order_by(table.c.effective_from.desc()).limit(limit)
        return [
            SharePackRecord.from_row(row, created_at=row["created_at"])
            for row in self._session.execute(query).mappings()
        ]

    def count_current(self) -> dict[tuple[str, str | None], int]:
        """How many live packs there are of each status and rollback status."""
        table = self._table
        query = (
            select(table.c.share_pack_status, table.c.rollback_status, func.count())
            .where(table.c.is_current.is_(True), table.c.is_deleted.is_(False))
            .group_by(table.c.share_pack_status, table.c.rollback_status)
        )
        return {(status, rollback): int(n) for status, rollback, n in self._session.execute(query)}

    def _created_at(self) -> Label[Any]:
        """`created_at`: when the version 1 of the row's pack took effect."""
        table, first = self._table, self._table.alias("first_version")
        return (
            select(func.min(first.c.effective_from))
            .where(first.c.share_pack_id == table.c.share_pack_id)
            .scalar_subquery()
            .label("created_at")
        )

    def _is(self, share_pack_id: uuid.UUID) -> Any:
        return self._table.c.share_pack_id == share_pack_id

    def _record(self, row: RowMapping | dict[str, Any]) -> SharePackRecord:
        first = select(func.min(self._table.c.effective_from)).where(self._is(row["share_pack_id"]))
        return SharePackRecord.from_row(row, created_at=self._session.execute(first).scalar_one())
