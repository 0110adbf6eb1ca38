"""A project's versions as the engine knows them: the names a version covers and the state
of those resources before and after it, compressed (`store.versions` keeps the bytes).

A completed run writes its version in the transaction that makes it COMPLETED, so a
project's newest version is always the state sharepack last left it in: drift is measured
against it, and a rollback to an older one is applied with prune from its pack.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from typing import Any

from sharepack.engine import Plan, ResourceNames
from sharepack.engine.plan_text import plan_lines
from sharepack.engine.serialise import state_from_dict, state_to_dict
from sharepack.store import SharePackRecord, UnitOfWork
from sharepack.store.versions import APPLIED, ROLLBACK, ProjectVersion, project_key
from sharepack.workspace.state import WorkspaceState


def packed(state: WorkspaceState) -> bytes:
    return zlib.compress(json.dumps(state_to_dict(state), sort_keys=True).encode("utf-8"))


def unpacked(content: bytes) -> WorkspaceState:
    return state_from_dict(json.loads(zlib.decompress(content).decode("utf-8")))


def names_to_dict(names: ResourceNames) -> dict[str, list[str]]:
    return {f.name: list(getattr(names, f.name)) for f in dataclasses.fields(names)}


def names_from_dict(data: dict[str, Any]) -> ResourceNames:
    known = {f.name for f in dataclasses.fields(ResourceNames)}
    return ResourceNames(**{k: tuple(v) for k, v in data.items() if k in known})


def key_of(record: SharePackRecord) -> str:
    """The project key of the pack's project, in the workspace it targets."""
    return project_key(
        record.workspace_id or record.workspace_url,
        record.business_line or "",
        record.project_name or "",
    )


def record_version(
    uow: UnitOfWork,
    record: SharePackRecord,
    the_plan: Plan,
    before: WorkspaceState,
    after: WorkspaceState,
    *,
    created_by: str,
) -> ProjectVersion:
    """The version a completed run of `record` makes: APPLIED, or ROLLBACK when the pack
    puts an earlier version back."""
    restores = record.restores_version
    if restores is not None:
        number = uow.versions.get(restores).number
        who = record.submitted_by or record.requested_by
        reason = f"Rolled back to version {number} by {who}"
    else:
        reason = f"Provisioned by {record.share_pack_name}"
    return uow.versions.add(
        project_key=key_of(record),
        kind=ROLLBACK if restores is not None else APPLIED,
        workspace_url=record.workspace_url,
        workspace_id=record.workspace_id,
        business_line=record.business_line or "",
        project_name=record.project_name or "",
        project_id=record.project_id,
        share_pack_id=record.share_pack_id,
        restores=restores,
        created_by=created_by,
        change_reason=reason,
        changes=plan_lines(the_plan) if not the_plan.is_empty else [],
        names=names_to_dict(the_plan.names),
        before_state=packed(before),
        after_state=packed(after),
    )


def as_known(recorded: WorkspaceState, now: WorkspaceState) -> WorkspaceState:
    """`recorded` with what it left to the server filled from `now`: a recipient the run
    created is recorded without an owner (the workspace makes its creator the owner), so
    the owner the workspace gives it is no difference."""
    recipients = {
        name: dataclasses.replace(was, owner=now.recipients[name].owner)
        if was.owner is None and name in now.recipients
        else was
        for name, was in recorded.recipients.items()
    }
    return dataclasses.replace(recorded, recipients=recipients)
