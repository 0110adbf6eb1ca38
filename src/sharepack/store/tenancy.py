"""Tenants, projects and requests: which business line and project a pack was filed under.

A pack names its business line and project by name; `Tenancy.resolve` finds the tenant
(`tenants.business_line_name`) and its project (`projects.project_name`), creating either
on first use, as SCD2 versions like every other entity. Names match ignoring case and
surrounding spaces, as `sharepack.identity` matches business lines, so "Finance " and
"finance" are one tenant; a new one keeps the name as first given, trimmed.

Two uploads naming a new business line at once must not make two tenants. A name not
found is looked for again, and created, under a per-name lock (`dialect.lock_key`: an
advisory lock on PostgreSQL, SQLite's one writer elsewhere), the way recipients and
shares are kept one per name: the second uploader waits, then finds what the first
created. A name found needs no lock (most uploads name a known business line and
project). Soft-deleted tenants and projects are not matched; a name used again after a
deletion starts anew.

Each run of a pack is a `requests` row: opened IN_PROGRESS when the pack is stored, and
given a COMPLETED or FAILED version when the run ends (`running/settle.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.orm import Session

from sharepack.errors import StoreError
from sharepack.store import tables
from sharepack.store.dialect import lock_key
from sharepack.store.entities import VersionedRepository
from sharepack.store.scd2 import is_current

OPEN = "IN_PROGRESS"
ENDED = frozenset({"COMPLETED", "FAILED"})


@dataclass(frozen=True)
class ProjectRef:
    """The tenant (business line) and the project a pack was filed under."""

    tenant_id: uuid.UUID
    project_id: uuid.UUID


def same_name(name: str) -> str:
    """The form names are matched in: no surrounding spaces, case folded."""
    return name.strip().casefold()


class Tenancy:
    """Resolves business lines and projects to ids, and keeps each pack's request."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._tenants = VersionedRepository(session, tables.tenants, "tenant_id")
        self._projects = VersionedRepository(session, tables.projects, "project_id")
        self._requests = VersionedRepository(session, tables.requests, "request_id")

    def resolve(self, business_line: str, project_name: str, by: str) -> ProjectRef:
        """The tenant of `business_line` and its project `project_name`, each found or
        created (version 1, `created_by=by`); a `StoreError` for a blank name."""
        line, project = business_line.strip(), project_name.strip()
        if not line:
            raise StoreError("A business line is needed to file a pack: the name is blank")
        if not project:
            raise StoreError(
                f"A project name is needed to file a pack under business line '{line}': "
                "the name is blank"
            )
        tenant_id = self._tenant(line, by)
        project_id = self._project(tenant_id, line, project, by)
        return ProjectRef(tenant_id=tenant_id, project_id=project_id)

    def _tenant(self, line: str, by: str) -> uuid.UUID:
        """The business line's tenant, found (most uploads name a known one: no lock) or
        else, under the name's lock, found again or created."""
        tenants = tables.tenants
        found = self._find(tenants, "tenant_id", "business_line_name", line)
        if found is not None:
            return found
        lock_key(self._session, "tenant-name", same_name(line))
        return (
            self._find(tenants, "tenant_id", "business_line_name", line)
            or self._tenants.create(
                created_by=by,
                change_reason=f"Business line '{line}' named by an upload",
                business_line_name=line,
            ).entity_id
        )

    def _project(self, tenant_id: uuid.UUID, line: str, project: str, by: str) -> uuid.UUID:
        """The tenant's project, found or else, under the name's lock, found again or
        created, as `_tenant`."""
        projects = tables.projects
        of_tenant = projects.c.tenant_id == tenant_id
        found = self._find(projects, "project_id", "project_name", project, of_tenant)
        if found is not None:
            return found
        lock_key(self._session, "project-name", f"{tenant_id}:{same_name(project)}")
        return (
            self._find(projects, "project_id", "project_name", project, of_tenant)
            or self._projects.create(
                created_by=by,
                change_reason=f"Project '{project}' of business line '{line}' named by an upload",
                tenant_id=tenant_id,
                project_name=project,
            ).entity_id
        )

    def open_request(
        self,
        project_id: uuid.UUID,
        share_pack_id: uuid.UUID,
        requested_by: str,
        by: str,
        request_type: str = "PROVISION",
    ) -> uuid.UUID:
        """A new request, IN_PROGRESS, for the pack's run; its `request_id`."""
        version = self._requests.create(
            created_by=by,
            change_reason=f"{request_type} of share pack {share_pack_id} requested",
            project_id=project_id,
            share_pack_id=share_pack_id,
            request_type=request_type,
            requested_by=requested_by,
            request_status=OPEN,
        )
        return version.entity_id

    def request_ended(self, share_pack_id: uuid.UUID, status: str, by: str) -> None:
        """Give the pack's open request a version with `status` (COMPLETED or FAILED);
        nothing if it has none (packs stored before requests were kept, or ended)."""
        if status not in ENDED:
            raise StoreError(
                f"A request ends COMPLETED or FAILED, not {status!r} (share pack {share_pack_id})"
            )
        requests = tables.requests
        lock_key(self._session, "pack-request", str(share_pack_id))
        query = select(requests.c.request_id).where(
            requests.c.share_pack_id == share_pack_id,
            is_current(requests),
            requests.c.is_deleted.is_(False),
            requests.c.request_status == OPEN,
        )
        for request_id in self._session.execute(query).scalars().all():
            self._requests.update(
                request_id,
                created_by=by,
                change_reason=f"Share pack {share_pack_id} ended {status}",
                request_status=status,
            )

    def _find(
        self, table: Table, key: str, name_column: str, name: str, *where: ColumnElement[bool]
    ) -> uuid.UUID | None:
        """The live entity whose current name matches `name`; if several do (rows written
        other than through `resolve`), the one whose current version is oldest."""
        query = (
            select(table.c[key], table.c[name_column])
            .where(is_current(table), table.c.is_deleted.is_(False), *where)
            .order_by(table.c.effective_from)
        )
        wanted = same_name(name)
        for entity_id, candidate in self._session.execute(query):
            if same_name(candidate) == wanted:
                found: uuid.UUID = entity_id
                return found
        return None
