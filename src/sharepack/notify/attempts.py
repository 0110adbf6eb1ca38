"""The recorded delivery attempts, read back for operators (`sharepack notifications`)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from sharepack.errors import StoreError
from sharepack.store import Database, tables
from sharepack.store.dialect import as_utc
from sharepack.store.logs import NotificationEntry


def recorded_attempts(
    database: Database, *, share_pack_id: uuid.UUID | None = None, limit: int = 50
) -> list[NotificationEntry]:
    """The newest `limit` attempts first, of one pack or of all."""
    if limit < 1:
        raise StoreError(f"A notification listing's limit must be at least 1, not {limit}")
    table = tables.notifications
    query = select(table)
    if share_pack_id is not None:
        query = query.where(table.c.share_pack_id == share_pack_id)
    query = query.order_by(table.c.created_at.desc(), table.c.attempt.desc()).limit(limit)
    with database.reading() as uow:
        rows = uow.session.execute(query).mappings().all()
    entries = []
    for row in rows:
        sent = row["sent_at"]
        values = {**row, "created_at": as_utc(row["created_at"])}
        values["sent_at"] = as_utc(sent) if sent is not None else None
        entries.append(NotificationEntry(**values))
    return entries
