"""Use cases: drift, the difference between what the history says a project holds (its
newest version's state) and what the workspace holds; and recording the workspace as it
is into the history.

Each project's newest version is the state sharepack last left (or recorded) its
resources in. Anything else that changed them since (objects or grants added or removed
by hand, an IP list or properties changed, a resource deleted) is drift. A recipient's
grants on shares outside the project are not compared: another project's pack may grant
it. `record_drift` makes the workspace as it is the project's newest version (RECORDED),
with SCD2 versions of the recipients and shares whose change reason names who recorded
it; reverting is a rollback to the newest version (`usecases.versions`).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sharepack.engine import ResourceNames, read_names
from sharepack.engine.rollback import differences
from sharepack.errors import SyncJobError
from sharepack.history.provisioned import recipient_state_fields, share_state_fields
from sharepack.history.versions import (
    as_known,
    names_from_dict,
    names_to_dict,
    packed,
    unpacked,
)
from sharepack.identity.principal import Caller
from sharepack.notify.events import NotificationEvent
from sharepack.running.notices import tell
from sharepack.runtime import Runtime
from sharepack.settings import Settings
from sharepack.store import UnitOfWork
from sharepack.store.versions import RECORDED, ProjectVersion
from sharepack.sync.jobs import SyncJob
from sharepack.usecases.audit import Act, record
from sharepack.workspace.errors import WorkspaceError
from sharepack.workspace.state import WorkspaceState
from sharepack.workspace.urls import normalise_workspace_url


@dataclass(frozen=True)
class ProjectDrift:
    """One project's newest version and how the workspace differs from it now."""

    version: ProjectVersion
    differences: tuple[str, ...]
    #: What the workspace holds now, of the version's resources.
    now: WorkspaceState = dataclasses.field(repr=False, default_factory=WorkspaceState)
    #: Why it could not be compared (its state removed, the workspace unreachable).
    unchecked: str | None = None

    @property
    def drifted(self) -> bool:
        return bool(self.differences)


def drift_names(version: ProjectVersion) -> ResourceNames:
    """The resources a version covers, less recipients' grants on others' shares."""
    return dataclasses.replace(names_from_dict(version.names), recipient_grants=())


def check_drift(
    runtime: Runtime,
    caller: Caller | None = None,
    *,
    workspace_url: str | None = None,
    project: str | None = None,
) -> list[ProjectDrift]:
    """Each project's drift (of the business lines `caller` may read; all without one)."""
    url = normalise_workspace_url(workspace_url) if workspace_url else None
    with runtime.database.unit_of_work() as uow:
        newest = uow.versions.latest_per_project(workspace_url=url)
        wanted = project.strip().lower() if project else None
        chosen = [
            v
            for v in newest
            if (wanted is None or v.project_name.strip().lower() == wanted)
            and (caller is None or caller.principal.may_read(v.business_line))
        ]
        states = {v.version_id: uow.versions.states(v.version_id)[1] for v in chosen}
    found: list[ProjectDrift] = []
    for version in chosen:
        content = states[version.version_id]
        if content is None:
            found.append(ProjectDrift(version, (), unchecked="its state was cleaned up"))
            continue
        names = drift_names(version)
        try:
            now = read_names(runtime.workspace_for(version.workspace_url), names)
        except WorkspaceError as exc:
            found.append(ProjectDrift(version, (), unchecked=f"the workspace: {exc.message}"))
            continue
        recorded = as_known(unpacked(content), now)
        found.append(ProjectDrift(version, tuple(differences(recorded, now, names)), now))
    return found


def record_drift(
    runtime: Runtime, caller: Caller, drifts: Sequence[ProjectDrift]
) -> list[ProjectVersion]:
    """Take the workspace as it is into the history for each drifted project: a RECORDED
    version, and SCD2 versions of its recipients and shares as the workspace holds them
    (deleted ones soft-deleted), each with the reason naming `caller`; audited."""
    made: list[ProjectVersion] = []
    with runtime.database.unit_of_work() as uow:
        for drift in drifts:
            if not drift.drifted:
                continue
            version = drift.version
            reason = f"Drift recorded by {caller.name}"
            _record_resources(uow, version, drift.now, reason, caller.name)
            content = uow.versions.states(version.version_id)[1]
            made.append(
                uow.versions.add(
                    project_key=version.project_key,
                    kind=RECORDED,
                    workspace_url=version.workspace_url,
                    workspace_id=version.workspace_id,
                    business_line=version.business_line,
                    project_name=version.project_name,
                    project_id=version.project_id,
                    created_by=caller.name,
                    change_reason=reason,
                    changes=list(drift.differences),
                    names=names_to_dict(names_from_dict(version.names)),
                    before_state=content,
                    after_state=packed(_merged(unpacked(content) if content else None, drift)),
                )
            )
            record(
                uow,
                caller,
                Act.RECORD_DRIFT,
                entity_type="project",
                entity_id=version.project_id,
                business_line=version.business_line,
                details={
                    "project_name": version.project_name,
                    "workspace_url": version.workspace_url,
                    "version": made[-1].number,
                    "differences": list(drift.differences),
                },
            )
        uow.commit()
    return made


def _merged(was: WorkspaceState | None, drift: ProjectDrift) -> WorkspaceState:
    """The version's state with the compared resources as the workspace holds them now
    (recipients' grants on other shares kept as they were: they are not compared)."""
    if was is None:
        return drift.now
    return dataclasses.replace(drift.now, recipient_grants=was.recipient_grants)


def _record_resources(
    uow: UnitOfWork, version: ProjectVersion, now: WorkspaceState, reason: str, by: str
) -> None:
    names = drift_names(version)
    url, workspace_id = version.workspace_url, version.workspace_id
    kinds = (
        (uow.recipients, names.recipients, now.recipients, recipient_state_fields),
        (uow.shares, names.shares, now.shares, share_state_fields),
    )
    for repository, named, held, fields_of in kinds:
        for name in named:
            found: Any = held.get(name)
            if found is None:
                repository.soft_delete(
                    workspace_url=url,
                    workspace_id=workspace_id,
                    name=name,
                    created_by=by,
                    change_reason=reason,
                )
                continue
            history = repository.history(url, name)
            repository.upsert(
                workspace_url=url,
                workspace_id=workspace_id,
                name=name,
                # Recording keeps the resource its pack's (the project's): who provisioned
                # it stays answerable; one none of its packs wrote stays unowned.
                share_pack_id=next(
                    (v.share_pack_id for v in reversed(history) if v.share_pack_id), None
                ),
                created_by=by,
                change_reason=reason,
                **fields_of(found),
            )


#: The scheduled drift check's name (`sync_jobs.sync_type`, `sharepack sync run drift`).
DRIFT_JOB = "drift"


def run_drift_check(runtime: Runtime) -> int:
    """Check every project; tell the requestor of each drifted one's newest pack what
    changed (through the notifications outbox). How many projects were checked."""
    found = check_drift(runtime)
    drifted = [d for d in found if d.drifted]
    if drifted:
        with runtime.database.unit_of_work() as uow:
            for drift in drifted:
                pack_id = _newest_pack(uow, drift.version)
                if pack_id is None:
                    continue
                version = drift.version
                tell(
                    uow,
                    runtime,
                    uow.share_packs.get_current(pack_id),
                    NotificationEvent.DRIFT_DETECTED,
                    summary=drift.differences,
                    detail=(
                        f"Project '{version.project_name}' in {version.workspace_url} has "
                        f"changed since version {version.number} ({version.change_reason})."
                    ),
                    actor=DRIFT_JOB,
                )
            uow.commit()
    unchecked = [d for d in found if d.unchecked]
    if unchecked:
        names = ", ".join(f"'{d.version.project_name}' ({d.unchecked})" for d in unchecked)
        raise SyncJobError(f"{len(unchecked)} project(s) could not be checked: {names}")
    return len(found)


def _newest_pack(uow: UnitOfWork, version: ProjectVersion) -> uuid.UUID | None:
    if version.share_pack_id is not None:
        return version.share_pack_id
    earlier = uow.versions.listed(project_key=version.project_key)
    return next((v.share_pack_id for v in earlier if v.share_pack_id is not None), None)


def drift_job(settings: Settings) -> SyncJob:
    return SyncJob(DRIFT_JOB, settings.sharepack_drift_check_minutes * 60.0, run_drift_check)
