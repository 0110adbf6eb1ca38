"""The versions of each project (`sharepack.project_versions`): numbered per project, with
what each changed and the compressed state of its resources before and after it. The
states are opaque bytes here; `history.versions` makes and reads them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from sharepack.errors import NotFoundError, StoreError
from sharepack.store.dialect import as_utc, database_now, lock_key
from sharepack.store.own_tables import project_versions

#: The kinds of version.
APPLIED = "APPLIED"
ROLLBACK = "ROLLBACK"
RECORDED = "RECORDED"
KINDS = (APPLIED, ROLLBACK, RECORDED)
#: The shortest id prefix `find` accepts (the list shows eight characters).
MIN_PREFIX = 8


@dataclass(frozen=True)
class ProjectVersion:
    version_id: uuid.UUID
    project_key: str
    number: int
    kind: str
    workspace_url: str
    workspace_id: str | None
    business_line: str
    project_name: str
    project_id: uuid.UUID | None
    share_pack_id: uuid.UUID | None
    restores: uuid.UUID | None  # the version a ROLLBACK put back
    created_by: str
    change_reason: str
    changes: list[str]  # what it changed, as the plan's lines
    names: dict[str, list[str]]  # the resources it covers (`engine.ResourceNames`)
    created_at: datetime
    has_states: bool  # False once cleanup removed its before and after states

    @property
    def short_id(self) -> str:
        return str(self.version_id)[:MIN_PREFIX]


def project_key(workspace: str, business_line: str, project_name: str) -> str:
    """A project's key: its workspace (the workspace's own id where known) with its
    business line and name compared as uploads compare them (trimmed, any case)."""
    return f"{workspace}|{business_line.strip().lower()}|{project_name.strip().lower()}"


_SUMMARY = [c for c in project_versions.c if c.name not in ("before_state", "after_state")]


class VersionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        *,
        project_key: str,
        kind: str,
        workspace_url: str,
        workspace_id: str | None,
        business_line: str,
        project_name: str,
        created_by: str,
        change_reason: str,
        changes: list[str],
        names: dict[str, list[str]],
        before_state: bytes | None,
        after_state: bytes,
        project_id: uuid.UUID | None = None,
        share_pack_id: uuid.UUID | None = None,
        restores: uuid.UUID | None = None,
    ) -> ProjectVersion:
        """The project's next version (numbered under a lock on the project)."""
        if kind not in KINDS:
            raise StoreError(f"Version kind '{kind}' is not one of {list(KINDS)}")
        lock_key(self._session, "project_versions", project_key)
        last = self._session.execute(
            select(func.max(project_versions.c.number)).where(
                project_versions.c.project_key == project_key
            )
        ).scalar_one()
        values: dict[str, Any] = {
            "version_id": uuid.uuid4(),
            "project_key": project_key,
            "number": int(last or 0) + 1,
            "kind": kind,
            "workspace_url": workspace_url,
            "workspace_id": workspace_id,
            "business_line": business_line,
            "project_name": project_name,
            "project_id": project_id,
            "share_pack_id": share_pack_id,
            "restores": restores,
            "created_by": created_by,
            "change_reason": change_reason,
            "changes": changes,
            "names": names,
            "before_state": before_state,
            "after_state": after_state,
            "created_at": database_now(self._session),
        }
        self._session.execute(insert(project_versions).values(**values))
        return _version({**values, "has_states": True})

    def get(self, version_id: uuid.UUID) -> ProjectVersion:
        """One version; `NotFoundError` if there is none with this id."""
        row = self._session.execute(
            self._summaries().where(project_versions.c.version_id == version_id)
        ).mappings()
        found = row.first()
        if found is None:
            raise NotFoundError(f"No project version with id '{version_id}'")
        return _version(found)

    def find(self, text: str) -> ProjectVersion:
        """The version whose id is `text` or starts with it (at least eight characters, as
        the list shows them); `NotFoundError` naming what is wrong otherwise."""
        wanted = text.strip().lower()
        if len(wanted) < MIN_PREFIX:
            raise NotFoundError(
                f"Version id '{text}' is too short: give at least {MIN_PREFIX} characters of "
                "the id `sharepack rollback --list` shows"
            )
        try:
            return self.get(uuid.UUID(wanted))
        except ValueError:
            pass
        # Ids are few per project and the list is the operator's: a scan is enough.
        rows = self._session.execute(self._summaries()).mappings()
        matches = [_version(r) for r in rows if str(r["version_id"]).startswith(wanted)]
        if not matches:
            raise NotFoundError(f"No project version with an id starting '{text}'")
        if len(matches) > 1:
            ids = ", ".join(str(m.version_id) for m in matches)
            raise NotFoundError(f"Version id '{text}' is ambiguous: it starts {ids}")
        return matches[0]

    def listed(
        self,
        *,
        project_key: str | None = None,
        project_id: uuid.UUID | None = None,
        project_name: str | None = None,
        workspace_url: str | None = None,
        limit: int = 1000,
    ) -> list[ProjectVersion]:
        """Versions newest first, of one project (by key, id or name, any case) or all."""
        query = self._summaries()
        if project_key is not None:
            query = query.where(project_versions.c.project_key == project_key)
        if project_id is not None:
            query = query.where(project_versions.c.project_id == project_id)
        if project_name is not None:
            wanted = project_name.strip().lower()
            query = query.where(func.lower(func.trim(project_versions.c.project_name)) == wanted)
        if workspace_url is not None:
            query = query.where(project_versions.c.workspace_url == workspace_url)
        query = query.order_by(
            project_versions.c.created_at.desc(), project_versions.c.number.desc()
        ).limit(limit)
        return [_version(row) for row in self._session.execute(query).mappings()]

    def latest_per_project(self, *, workspace_url: str | None = None) -> list[ProjectVersion]:
        """Each project's newest version (optionally of one workspace), by project."""
        newest = (
            select(project_versions.c.project_key, func.max(project_versions.c.number).label("top"))
            .group_by(project_versions.c.project_key)
            .subquery()
        )
        query = self._summaries().join(
            newest,
            (project_versions.c.project_key == newest.c.project_key)
            & (project_versions.c.number == newest.c.top),
        )
        if workspace_url is not None:
            query = query.where(project_versions.c.workspace_url == workspace_url)
        query = query.order_by(project_versions.c.project_key)
        return [_version(row) for row in self._session.execute(query).mappings()]

    def for_pack(self, share_pack_id: uuid.UUID) -> ProjectVersion | None:
        """The version a pack's completed run made, if it made one."""
        query = self._summaries().where(project_versions.c.share_pack_id == share_pack_id)
        row = self._session.execute(query).mappings().first()
        return _version(row) if row is not None else None

    def states(self, version_id: uuid.UUID) -> tuple[bytes | None, bytes | None]:
        """The version's before and after states, as stored (None once cleaned up)."""
        row = self._session.execute(
            select(project_versions.c.before_state, project_versions.c.after_state).where(
                project_versions.c.version_id == version_id
            )
        ).first()
        if row is None:
            raise NotFoundError(f"No project version with id '{version_id}'")
        return (
            bytes(row[0]) if row[0] is not None else None,
            bytes(row[1]) if row[1] is not None else None,
        )

    def drop_states_older_than(self, days: float) -> int:
        """Remove the states of versions made more than `days` ago by the database clock,
        except each project's newest (drift is measured against it); how many versions."""
        cutoff = database_now(self._session) - timedelta(days=days)
        result = self._session.execute(
            update(project_versions)
            .where(
                project_versions.c.created_at < cutoff,
                or_(
                    project_versions.c.before_state.is_not(None),
                    project_versions.c.after_state.is_not(None),
                ),
                project_versions.c.version_id.not_in(self._newest_ids()),
            )
            .values(before_state=None, after_state=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _newest_ids(self) -> list[uuid.UUID]:
        return [v.version_id for v in self.latest_per_project()]

    def _summaries(self) -> Any:
        has_states = project_versions.c.after_state.is_not(None).label("has_states")
        return select(*_SUMMARY, has_states)


def _version(row: RowMapping | dict[str, Any]) -> ProjectVersion:
    values = {f.name: row[f.name] for f in fields(ProjectVersion)}
    values["created_at"] = as_utc(values["created_at"])
    values["has_states"] = bool(values["has_states"])
    values["changes"] = list(values["changes"] or [])
    values["names"] = dict(values["names"] or {})
    return ProjectVersion(**values)
