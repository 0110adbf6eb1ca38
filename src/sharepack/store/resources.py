"""Recipients, shares and pipelines: one current version per (workspace_url, name).

`share_pack_id` on a version is the pack that wrote that version, so the current
version names the pack that last provisioned the resource and version 1 the one that
created it. Upserting
the same values again writes nothing, so re-running a pack leaves the history alone.
A writer that knows the workspace's id passes it (`workspace_id`); one that does not
keeps the id the current version has.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from sharepack.store import tables
from sharepack.store.dialect import as_utc, trimmed
from sharepack.store.records import ResourceRecord
from sharepack.store.scd2 import (
    VERSION_COLUMNS,
    as_of_row,
    current_row,
    history_rows,
    insert_first_version,
    insert_next_version,
    is_current,
    lock_version_key,
    require_columns,
)


class ResourceRepository:
    """Versions of one kind of workspace resource, identified by workspace and name."""

    def __init__(self, session: Session, table: Table, key_column: str, name_column: str) -> None:
        self._session = session
        self._table = table
        self._key = key_column
        self._name = name_column

    def get_current(self, workspace_url: str, name: str) -> ResourceRecord | None:
        """The current version (possibly a soft delete); None if never recorded."""
        row = current_row(self._session, self._table, *self._named(workspace_url, name))
        return self._record(row) if row is not None else None

    def upsert(
        self,
        *,
        workspace_url: str,
        name: str,
        share_pack_id: uuid.UUID | None,
        created_by: str,
        change_reason: str,
        workspace_id: str | None = None,
        **fields: Any,
    ) -> ResourceRecord:
        """Record the resource as provisioned: version 1, or a new version if anything changed.
        `share_pack_id` is None only for a version no pack wrote (seeded, or restored).

        A resource whose current version is a soft delete comes back as a live version.
        """
        values = {**self._prepare(fields), "share_pack_id": share_pack_id}
        if workspace_id is not None:
            values["workspace_id"] = workspace_id
        require_columns(self._table, values)
        self._lock(workspace_url, name)
        current = current_row(self._session, self._table, *self._named(workspace_url, name))
        if current is None:
            row = insert_first_version(
                self._session,
                self._table,
                self._key,
                uuid.uuid4(),
                {**values, "workspace_url": workspace_url, self._name: name},
                created_by=created_by,
                change_reason=change_reason,
            )
            return self._record(row)
        if not current["is_deleted"] and all(current[k] == v for k, v in values.items()):
            return self._record(current)
        row = insert_next_version(
            self._session,
            self._table,
            self._key,
            current,
            values,
            created_by=created_by,
            change_reason=change_reason,
        )
        return self._record(row)

    def soft_delete(
        self,
        *,
        workspace_url: str,
        name: str,
        created_by: str,
        change_reason: str,
        share_pack_id: uuid.UUID | None = None,
        workspace_id: str | None = None,
    ) -> ResourceRecord | None:
        """A new version marked deleted; None when there is no live version to delete.
        `share_pack_id` names the pack whose run deleted it (else the current one's stays)."""
        self._lock(workspace_url, name)
        current = current_row(self._session, self._table, *self._named(workspace_url, name))
        if current is None or current["is_deleted"]:
            return None
        changes: dict[str, Any] = {}
        if share_pack_id is not None:
            changes["share_pack_id"] = share_pack_id
        if workspace_id is not None:
            changes["workspace_id"] = workspace_id
        row = insert_next_version(
            self._session,
            self._table,
            self._key,
            current,
            changes,
            created_by=created_by,
            change_reason=change_reason,
            deleted=True,
        )
        return self._record(row)

    def list_for_pack(self, share_pack_id: uuid.UUID) -> list[ResourceRecord]:
        """The live resources whose current version this pack provisioned, by name."""
        return self._live(self._table.c.share_pack_id == share_pack_id)

    def created_by_pack(self, share_pack_id: uuid.UUID) -> list[ResourceRecord]:
        """The current version (live or a soft delete) of every resource whose version 1
        this pack wrote, by name; unlike `list_for_pack`, later packs' changes keep it."""
        table, first = self._table, self._table.alias("first_version")
        created = select(first.c[self._key]).where(
            first.c.share_pack_id == share_pack_id, first.c.version == 1
        )
        query = (
            select(table)
            .where(table.c[self._key].in_(created), is_current(table))
            .order_by(table.c[self._name], table.c.workspace_url)
        )
        return [self._record(row) for row in self._session.execute(query).mappings()]

    def held_by_project(
        self, workspace_url: str, business_line: str, project_name: str
    ) -> list[ResourceRecord]:
        """The live resources of a workspace whose current version a pack of this project
        (business line and project name, compared without case) provisioned, by name."""
        table, packs = self._table, tables.share_packs
        project_packs = select(packs.c.share_pack_id).where(
            packs.c.workspace_url == workspace_url,
            # As `ix_share_packs_project_names` holds them, so the index serves the search.
            func.lower(trimmed(packs.c.business_line)) == business_line.strip().lower(),
            func.lower(trimmed(packs.c.project_name)) == project_name.strip().lower(),
        )
        return self._live(
            table.c.workspace_url == workspace_url, table.c.share_pack_id.in_(project_packs)
        )

    def live(self) -> list[ResourceRecord]:
        """Every live resource recorded, in every workspace, by name."""
        return self._live()

    def list_current(self, workspace_url: str) -> list[ResourceRecord]:
        """Every live resource recorded in a workspace, by name."""
        return self._live(self._table.c.workspace_url == workspace_url)

    def _live(self, *where: ColumnElement[bool]) -> list[ResourceRecord]:
        """The current, not deleted versions that meet `where`, by name."""
        table = self._table
        query = (
            select(table)
            .where(*where, is_current(table), table.c.is_deleted.is_(False))
            .order_by(table.c[self._name])
        )
        return [self._record(row) for row in self._session.execute(query).mappings()]

    def as_of(self, workspace_url: str, name: str, moment: datetime) -> ResourceRecord | None:
        """The version in effect at `moment` (possibly a soft delete); None if none was."""
        row = as_of_row(self._session, self._table, moment, *self._named(workspace_url, name))
        return self._record(row) if row is not None else None

    def history(self, workspace_url: str, name: str) -> list[ResourceRecord]:
        """Every version ever recorded under this workspace and name, oldest first."""
        rows = history_rows(self._session, self._table, *self._named(workspace_url, name))
        return [self._record(row) for row in rows]

    def history_of(self, entity_id: uuid.UUID) -> list[ResourceRecord]:
        """Every version of one entity by its business key, oldest first."""
        rows = history_rows(self._session, self._table, self._table.c[self._key] == entity_id)
        return [self._record(row) for row in rows]

    def _prepare(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The values to store for `fields`; kinds with secrets override this."""
        return dict(fields)

    def _lock(self, workspace_url: str, name: str) -> None:
        lock_version_key(self._session, self._table, f"{workspace_url}|{name}")

    def _named(self, workspace_url: str, name: str) -> tuple[ColumnElement[bool], ...]:
        table = self._table
        return (table.c.workspace_url == workspace_url, table.c[self._name] == name)

    def _record(self, row: RowMapping | dict[str, Any]) -> ResourceRecord:
        skip = VERSION_COLUMNS | {
            self._key,
            self._name,
            "workspace_url",
            "workspace_id",
            "share_pack_id",
        }
        return ResourceRecord(
            entity_id=row[self._key],
            name=row[self._name],
            workspace_url=row["workspace_url"],
            workspace_id=row["workspace_id"],
            share_pack_id=row["share_pack_id"],
            version=row["version"],
            is_current=row["is_current"],
            is_deleted=row["is_deleted"],
            effective_from=as_utc(row["effective_from"]),
            effective_to=as_utc(row["effective_to"]),
            created_by=row["created_by"],
            change_reason=row["change_reason"],
            fields={k: v for k, v in row.items() if k not in skip},
        )


#: Stored in place of an activation link or token: the column stays, the secret does not.
REDACTED = "[redacted]"
_SECRET_COLUMNS = ("activation_url", "bearer_token")


class RecipientRepository(ResourceRepository):
    """Recipients; activation links and bearer tokens are masked, never stored."""

    def __init__(self, session: Session) -> None:
        super().__init__(session, tables.recipients, "recipient_id", "recipient_name")

    def _prepare(self, fields: dict[str, Any]) -> dict[str, Any]:
        masked = dict(fields)
        for column in _SECRET_COLUMNS:
            if masked.get(column) is not None:
                masked[column] = REDACTED
        return masked


class ShareRepository(ResourceRepository):
    def __init__(self, session: Session) -> None:
        super().__init__(session, tables.shares, "share_id", "share_name")


class PipelineRepository(ResourceRepository):
    def __init__(self, session: Session) -> None:
        super().__init__(session, tables.pipelines, "pipeline_id", "pipeline_name")
