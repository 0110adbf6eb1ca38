"""Batches: uploads of several share packs at once, and the packs each one holds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from sharepack.errors import NotFoundError
from sharepack.store import tables
from sharepack.store.dialect import as_utc, database_now
from sharepack.store.own_tables import batches
from sharepack.store.records import SharePackRecord
from sharepack.store.scd2 import is_current


@dataclass(frozen=True)
class BatchRecord:
    batch_id: uuid.UUID
    submitted_by: str
    file_count: int
    created_at: datetime


class BatchRepository:
    """Batches by id; writes go into the Unit of Work's transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def create(self, batch_id: uuid.UUID, *, submitted_by: str, file_count: int) -> BatchRecord:
        """A new batch, stamped with the database's time."""
        record = BatchRecord(batch_id, submitted_by, file_count, database_now(self._session))
        self._session.execute(
            insert(batches).values(
                batch_id=batch_id,
                submitted_by=submitted_by,
                file_count=file_count,
                created_at=record.created_at,
            )
        )
        return record

    def get(self, batch_id: uuid.UUID) -> BatchRecord:
        """The batch; `NotFoundError` if there is none with that id."""
        row = self._session.execute(select(batches).where(batches.c.batch_id == batch_id)).first()
        if row is None:
            raise NotFoundError(f"No batch with id '{batch_id}'")
        return BatchRecord(row.batch_id, row.submitted_by, row.file_count, as_utc(row.created_at))

    def packs(self, batch_id: uuid.UUID) -> list[SharePackRecord]:
        """The current version of each pack of the batch, in the order they were stored."""
        table, first = tables.share_packs, tables.share_packs.alias("first_version")
        created_at = (
            select(func.min(first.c.effective_from))
            .where(first.c.share_pack_id == table.c.share_pack_id)
            .scalar_subquery()
            .label("created_at")
        )
        query = (
            select(table, created_at)
            .where(table.c.batch_id == batch_id, is_current(table))
            .order_by(created_at, table.c.file_name, table.c.share_pack_id)
        )
        return [
            SharePackRecord.from_row(row, created_at=row["created_at"])
            for row in self._session.execute(query).mappings()
        ]
