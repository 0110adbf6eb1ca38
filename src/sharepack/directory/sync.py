"""The scheduled directory sync: `users` and `ad_groups` as the directory has them.

Each run reads the whole directory first, outside any transaction (a slow Graph holds no
database lock), then writes in one Unit of Work: a user or group new to the tables gets
version 1, one whose values differ gets its next version, one gone from the directory a
deleted version, one that comes back a live version again; one that is unchanged gets
nothing, so a table's history shows only what changed and when. Rows are matched on the
directory's object id (`ad_object_id`); a row written without one (by hand, or by an
earlier tool) is adopted by its email (users) or name (groups), ignoring case.

Every run leaves one `sync_jobs` row: SUCCEEDED in the same transaction as its writes, or,
when anything fails, FAILED with the error in a transaction of its own, and the error is
raised again. A failed run writes no version.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from sharepack.directory.protocol import Directory, DirectoryGroup, DirectoryUser
from sharepack.errors import StoreError
from sharepack.store import Database
from sharepack.store.dialect import lock_key
from sharepack.store.entities import VersionedRepository
from sharepack.store.scd2 import current_row, insert_next_version, is_current, lock_version_key
from sharepack.store.tables import ad_groups, users

#: `sync_jobs.sync_type` of this sync.
SYNC_TYPE = "directory"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
#: Graph allows 256 characters in a display name, the tables 255.
_TEXT_LIMIT = 255


@dataclass(frozen=True)
class SyncResult:
    """How many users and groups one run added (or brought back), changed and removed."""

    users_added: int
    users_changed: int
    users_removed: int
    groups_added: int
    groups_changed: int
    groups_removed: int


@dataclass(frozen=True)
class _Counts:
    added: int = 0
    changed: int = 0
    removed: int = 0


def sync_directory(
    database: Database, directory: Directory, *, by: str = "directory-sync"
) -> SyncResult:
    """Bring `users` and `ad_groups` to what `directory` holds now; `by` is the versions'
    and the run's author. Raises what made the run fail, after recording it."""
    started = datetime.now(UTC)
    try:
        everyone = list(directory.all_users())
        every_group = list(directory.all_groups())
        with database.unit_of_work() as uow:
            # Two runs at once would both add a new user; the second waits for the first.
            lock_key(uow.session, "sync_jobs", SYNC_TYPE)
            user_counts = _mirror(
                uow.users,
                _Rows(uow.session, users, "user_id", natural="email"),
                {user.object_id: _user_values(user) for user in everyone},
                by,
            )
            group_counts = _mirror(
                uow.ad_groups,
                _Rows(uow.session, ad_groups, "group_id", natural="group_name"),
                {group.object_id: _group_values(group) for group in every_group},
                by,
            )
            uow.sync_jobs.append(
                sync_type=SYNC_TYPE,
                sync_status=SUCCEEDED,
                started_at=started,
                finished_at=datetime.now(UTC),
                records_processed=len(everyone) + len(every_group),
            )
            uow.commit()
    except Exception as exc:
        _record_failure(database, started, exc)
        raise
    return SyncResult(
        users_added=user_counts.added,
        users_changed=user_counts.changed,
        users_removed=user_counts.removed,
        groups_added=group_counts.added,
        groups_changed=group_counts.changed,
        groups_removed=group_counts.removed,
    )


def _record_failure(database: Database, started: datetime, exc: Exception) -> None:
    """The FAILED row, in its own transaction; if even that fails, the original error is
    what the caller sees, with a note saying the row is missing and why."""
    try:
        with database.unit_of_work() as uow:
            uow.sync_jobs.append(
                sync_type=SYNC_TYPE,
                sync_status=FAILED,
                started_at=started,
                finished_at=datetime.now(UTC),
                records_processed=0,
                error_message=f"{type(exc).__name__}: {exc}",
            )
            uow.commit()
    except Exception as recording:
        exc.add_note(f"The FAILED sync_jobs row could not be written either: {recording}")


def _user_values(user: DirectoryUser) -> dict[str, Any]:
    return {
        "email": user.email,
        "display_name": _fit(user.display_name),
        "ad_object_id": user.object_id,
        "is_active": user.enabled,
    }


def _group_values(group: DirectoryGroup) -> dict[str, Any]:
    return {
        "group_name": _fit(group.display_name) or group.object_id,
        "ad_object_id": group.object_id,
        # Sorted, so that the order Graph lists members in makes no version.
        "members": sorted(group.members or (), key=str.casefold),
    }


def _fit(text: str | None) -> str | None:
    return text[:_TEXT_LIMIT] if text is not None else None


class _Rows:
    """The current versions of one table (live or deleted), matched to directory ids."""

    def __init__(self, session: Session, table: Table, key: str, *, natural: str) -> None:
        self.session = session
        self.table = table
        self.key = key
        query = select(table).where(is_current(table))
        rows = list(session.execute(query).mappings())
        self._by_object_id: dict[str, RowMapping] = {}
        self._by_natural: dict[str, RowMapping] = {}
        self.unmatched: dict[uuid.UUID, RowMapping] = {}
        for row in rows:
            object_id = row["ad_object_id"]
            if object_id and object_id.casefold() not in self._by_object_id:
                self._by_object_id[object_id.casefold()] = row
            elif not object_id and row[natural]:
                self._by_natural.setdefault(row[natural].casefold(), row)
            self.unmatched[row[key]] = row
        self._natural = natural

    def match(self, object_id: str, values: Mapping[str, Any]) -> RowMapping | None:
        """The row of `object_id`, or an unclaimed row without an object id whose natural
        key is `values`'; None for someone new."""
        row = self._by_object_id.get(object_id.casefold())
        if row is None and values[self._natural]:
            row = self._by_natural.pop(values[self._natural].casefold(), None)
        if row is not None:
            self.unmatched.pop(row[self.key], None)
        return row

    def restore(self, entity_id: uuid.UUID, values: Mapping[str, Any], by: str) -> None:
        """A live version after a deleted one (`VersionedRepository.update` keeps an entity
        deleted)."""
        lock_version_key(self.session, self.table, str(entity_id))
        current = current_row(self.session, self.table, self.table.c[self.key] == entity_id)
        if current is None:  # read a moment ago in this transaction
            raise StoreError(f"{self.table.name}: {entity_id} has no current version")
        insert_next_version(
            self.session,
            self.table,
            self.key,
            current,
            values,
            created_by=by,
            change_reason="Directory sync: back in the directory",
            deleted=False,
        )


def _mirror(
    repository: VersionedRepository,
    rows: _Rows,
    desired: Mapping[str, dict[str, Any]],
    by: str,
) -> _Counts:
    added = changed = removed = 0
    for object_id, values in desired.items():
        row = rows.match(object_id, values)
        if row is None:
            repository.create(
                created_by=by, change_reason="Directory sync: in the directory", **values
            )
            added += 1
        elif row["is_deleted"]:
            rows.restore(row[rows.key], values, by)
            added += 1
        elif differing := _differing(row, values):
            repository.update(
                row[rows.key],
                created_by=by,
                change_reason=f"Directory sync: changed {', '.join(differing)}",
                **{name: values[name] for name in differing},
            )
            changed += 1
    for entity_id, row in rows.unmatched.items():
        if not row["is_deleted"]:
            repository.soft_delete(
                entity_id, created_by=by, change_reason="Directory sync: no longer in the directory"
            )
            removed += 1
    return _Counts(added, changed, removed)


def _differing(row: RowMapping, values: Mapping[str, Any]) -> list[str]:
    """The columns whose stored value is not the directory's, in `values`' order."""
    return [name for name, new in values.items() if row[name] != new]
