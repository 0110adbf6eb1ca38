"""Resource locks: which share pack is changing a resource of a workspace.

A run takes the locks of every resource its pack names, all or none, before it reads the
workspace, and gives them back when it ends. Locks belong to the pack, not to a process,
so a worker that takes a killed run over finds them already its own. A workspace is
named by its own id (as it answers), never by a URL: one workspace reached by two URLs
is one set of locks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sharepack.store.dialect import database_now
from sharepack.store.own_tables import resource_locks as locks


@dataclass(frozen=True)
class HeldLock:
    """A resource another pack holds."""

    resource: str
    share_pack_id: uuid.UUID


def _of_others(held: list[HeldLock], share_pack_id: uuid.UUID) -> list[HeldLock]:
    return [lock for lock in held if lock.share_pack_id != share_pack_id]


class ResourceLockRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def acquire(
        self, workspace_id: str, resources: Iterable[str], share_pack_id: uuid.UUID
    ) -> list[HeldLock] | None:
        """Take every free lock of `resources` for the pack, or none: the locks other packs
        hold, empty when all were taken (commit to keep them). None when another pack took
        one of them at the same moment: nothing was written, ask again."""
        wanted = sorted(set(resources))
        held = self._held(workspace_id, wanted)
        others = _of_others(held, share_pack_id)
        if others:
            return others
        mine = {lock.resource for lock in held}
        now = database_now(self._session)
        rows = [
            {
                "workspace_id": workspace_id,
                "resource": resource,
                "share_pack_id": share_pack_id,
                "acquired_at": now,
            }
            for resource in wanted
            if resource not in mine
        ]
        if rows:
            try:
                with self._session.begin_nested():
                    self._session.execute(insert(locks), rows)
            except IntegrityError:  # committed by another pack since we looked
                return _of_others(self._held(workspace_id, wanted), share_pack_id) or None
        return []

    def _held(self, workspace_id: str, resources: list[str]) -> list[HeldLock]:
        rows = self._session.execute(
            select(locks.c.resource, locks.c.share_pack_id)
            .where(locks.c.workspace_id == workspace_id, locks.c.resource.in_(resources))
            .order_by(locks.c.resource)
        ).all()
        return [HeldLock(row.resource, row.share_pack_id) for row in rows]

    def release(self, share_pack_id: uuid.UUID) -> int:
        """Give back every lock the pack holds; how many there were."""
        result = self._session.execute(delete(locks).where(locks.c.share_pack_id == share_pack_id))
        return int(result.rowcount)  # type: ignore[attr-defined]
