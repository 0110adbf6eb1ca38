"""Use cases: a project's versions, comparing the workspace with one, and rolling back to one.

Rolling back to version N applies N's pack again with prune, through the same engine as
any pack (plan, the approval policy, apply with automatic rollback on failure): what the
project holds that N did not have goes, what N had comes back; pipelines are kept, as
prune keeps them, and the plan says so. Where exact restoration is impossible (a TOKEN
recipient made again has a new activation link; a pipeline made again rebuilds its
tables), the plan's notes say so before anything runs. The rollback is itself a new
version, and is verified against N once it completed.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass

from sharepack.engine import Plan, PlanWarning, ResourceNames, names_to_read, plan, read_names
from sharepack.engine.actions import CreatePipeline, CreateRecipient
from sharepack.engine.plan_text import plan_lines
from sharepack.engine.rollback import differences
from sharepack.errors import PermissionDeniedError, VersionStateError
from sharepack.history.retired import retired_names
from sharepack.history.versions import as_known, names_from_dict, unpacked
from sharepack.identity.principal import Caller
from sharepack.packfile import LoadedSharePack
from sharepack.packfile.errors import Problem
from sharepack.packfile.models import SharePackConfig, Strategy
from sharepack.running.awaiting import pending_approval
from sharepack.running.provision import Observer
from sharepack.runtime import Runtime
from sharepack.store import SharePackRecord
from sharepack.store.versions import RECORDED
from sharepack.store.versions import ProjectVersion as ProjectVersion  # for the front ends
from sharepack.usecases.audit import Act, record
from sharepack.usecases.plan_apply import apply_file
from sharepack.usecases.submit import SubmittedPack, store_share_pack
from sharepack.workspace.state import AuthenticationType, WorkspaceState
from sharepack.workspace.urls import normalise_workspace_url


def list_versions(
    runtime: Runtime,
    caller: Caller,
    *,
    project: str | None = None,
    project_id: uuid.UUID | None = None,
    workspace_url: str | None = None,
) -> list[ProjectVersion]:
    """The versions `caller` may read (of its business lines), newest first."""
    url = normalise_workspace_url(workspace_url) if workspace_url else None
    with runtime.database.unit_of_work() as uow:
        found = uow.versions.listed(project_name=project, project_id=project_id, workspace_url=url)
    return [v for v in found if caller.principal.may_read(v.business_line)]


def find_version(runtime: Runtime, caller: Caller, version_id: str) -> ProjectVersion:
    """The version with this id (or an unambiguous prefix of it); `NotFoundError`, and
    `PermissionDeniedError` for one of a business line the caller may not read."""
    with runtime.database.unit_of_work() as uow:
        version = uow.versions.find(version_id)
    if not caller.principal.may_read(version.business_line):
        raise PermissionDeniedError(
            f"{caller.name} may not read the versions of business line '{version.business_line}'"
        )
    return version


def version_state(runtime: Runtime, version: ProjectVersion) -> WorkspaceState:
    """The state the version left its resources in; `VersionStateError` once cleaned up."""
    with runtime.database.unit_of_work() as uow:
        _, after = uow.versions.states(version.version_id)
    if after is None:
        raise VersionStateError(
            f"Version {version.number} of project '{version.project_name}' was made on "
            f"{version.created_at:%Y-%m-%d} and its states were removed by the snapshot "
            "retention (SHAREPACK_SNAPSHOT_RETENTION_DAYS): it can be rolled back to, not "
            "compared"
        )
    return unpacked(after)


@dataclass(frozen=True)
class Comparison:
    """How the workspace differs from a version: each resource that does, with its fields."""

    version: ProjectVersion
    differences: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not self.differences


def compare_with_version(runtime: Runtime, version: ProjectVersion) -> Comparison:
    """The workspace against what the version left: its resources as they were, and none
    of the project's resources it did not have (those the history says the project holds
    now are read too)."""
    state = version_state(runtime, version)
    # Recipients' grants are compared as the shares of the project hold them: a grant on
    # another project's share is that project's.
    names = dataclasses.replace(
        names_from_dict(version.names).merged(_held_now(runtime, version)), recipient_grants=()
    )
    workspace = runtime.workspace_for(version.workspace_url)
    now = read_names(workspace, names)
    return Comparison(version, tuple(differences(as_known(state, now), now, names)))


def _held_now(runtime: Runtime, version: ProjectVersion) -> ResourceNames:
    with runtime.database.unit_of_work() as uow:
        held = uow.queries.held_by_project(
            version.workspace_url, version.business_line, version.project_name
        )
    return ResourceNames(
        recipients=tuple(sorted(r.name for r in held.recipients)),
        shares=tuple(sorted(s.name for s in held.shares)),
    )


@dataclass(frozen=True)
class RollbackPlan:
    """What rolling back to `version` would do: the pack it applies (N's, with prune), the
    plan against the workspace now, with notes where the result cannot be exactly N."""

    version: ProjectVersion
    pack: SharePackRecord
    loaded: LoadedSharePack
    plan: Plan

    @property
    def notes(self) -> tuple[PlanWarning, ...]:
        return self.plan.located_warnings

    @property
    def lines(self) -> list[str]:
        """The plan as `sharepack plan` prints it (plain)."""
        return plan_lines(self.plan)


def rollback_config(config: SharePackConfig) -> SharePackConfig:
    """The pack that puts `config`'s version back: its declared state, with prune under
    UPDATE (so what a later version added goes), and no schedule of its own."""
    metadata = config.metadata.model_copy(
        update={"prune": True, "strategy": Strategy.UPDATE, "not_before": None}
    )
    return config.model_copy(update={"metadata": metadata})


def plan_rollback(runtime: Runtime, caller: Caller, version: ProjectVersion) -> RollbackPlan:
    """The plan of a rollback to `version` against the workspace now (nothing is stored).

    `VersionStateError` for a version recorded from the workspace (it has no pack);
    `PermissionDeniedError` unless `caller` may submit packs for the business line;
    `PlanError` when the version's pack can no longer apply (a table it shares is gone)."""
    if version.kind == RECORDED or version.share_pack_id is None:
        raise VersionStateError(
            f"Version {version.number} of project '{version.project_name}' was recorded from "
            "the workspace (sharepack drift --record); it has no pack to apply. Roll back to "
            "a version a pack made"
        )
    if not caller.principal.may_submit(version.business_line):
        raise PermissionDeniedError(
            f"{caller.name} may not roll back projects of business line "
            f"'{version.business_line}': it has no requestor role for it"
        )
    with runtime.database.unit_of_work() as uow:
        pack = uow.share_packs.get_current(version.share_pack_id)
    config = rollback_config(SharePackConfig.model_validate(pack.config))
    principal = caller.principal
    if not principal.may_act_for(config.metadata.requestor):
        if principal.email is None:
            raise PermissionDeniedError(
                f"{caller.name} may not roll back a version requested by "
                f"'{config.metadata.requestor}': it has no email to request the rollback as, "
                "and may not act for others"
            )
        # The rollback is the caller's request: approvals and notices go by it.
        metadata = config.metadata.model_copy(update={"requestor": principal.email})
        config = config.model_copy(update={"metadata": metadata})
    retired = retired_names(runtime.database, version.workspace_url, config)
    workspace = runtime.workspace_for(version.workspace_url)
    before = read_names(workspace, names_to_read(config, retired))
    the_plan = plan(config, before, runtime.plan_options(retired=retired))
    notes = restoration_notes(the_plan, version)
    the_plan = dataclasses.replace(the_plan, located_warnings=(*the_plan.located_warnings, *notes))
    loaded = LoadedSharePack(config, (), "yaml" if pack.file_format != "xlsx" else "xlsx")
    return RollbackPlan(version, pack, loaded, the_plan)


def rollback_file_name(version: ProjectVersion) -> str:
    return f"rollback-to-version-{version.number}.yaml"


def submit_rollback(runtime: Runtime, caller: Caller, rollback: RollbackPlan) -> SubmittedPack:
    """Store the rollback pack and queue it (or let it wait for its approvers, when the
    approval policy wants its plan approved), as an upload is."""
    version = rollback.version
    config = rollback.loaded.config
    pending = pending_approval(runtime, rollback.plan, config.metadata.business_line)
    warnings = tuple(Problem("", note.field, note.message) for note in rollback.notes)
    return store_share_pack(
        runtime,
        rollback.loaded,
        Strategy.UPDATE,
        warnings,
        filename=rollback_file_name(version),
        workspace_url=version.workspace_url,
        caller=caller,
        pending=pending,
        restores_version=version.version_id,
    )


def apply_rollback(
    runtime: Runtime, caller: Caller, rollback: RollbackPlan, observer: Observer | None = None
) -> SharePackRecord:
    """Apply the rollback pack now, in this process (the operator's `sharepack rollback
    --id`), as `sharepack apply` applies a file; its final version."""
    return apply_file(
        runtime,
        rollback.loaded,
        filename=rollback_file_name(rollback.version),
        workspace_url=rollback.version.workspace_url,
        caller=caller,
        observer=observer,
        restores_version=rollback.version.version_id,
    )


def restoration_notes(the_plan: Plan, version: ProjectVersion) -> tuple[PlanWarning, ...]:
    """Where the plan cannot give back exactly what `version` had."""
    notes: list[PlanWarning] = []
    for action in the_plan.actions:
        if isinstance(action, CreateRecipient) and (
            action.recipient.authentication_type is AuthenticationType.TOKEN
        ):
            notes.append(
                PlanWarning(
                    f"Recipient '{action.resource}' is created again: a TOKEN recipient made "
                    "again has a new activation link and token; the partner must activate it "
                    "again (the old credential cannot come back)",
                    "",
                )
            )
        elif isinstance(action, CreatePipeline):
            notes.append(
                PlanWarning(
                    f"Pipeline '{action.resource}' is created again: its first update rebuilds "
                    "its target table from the source; what the table held before does not "
                    "come back",
                    "",
                )
            )
    return tuple(notes)


def describe_version(version: ProjectVersion) -> str:
    """One line: number, kind and why."""
    what = {"APPLIED": "applied", "ROLLBACK": "rollback", "RECORDED": "recorded"}[version.kind]
    return f"version {version.number} ({what}): {version.change_reason}"


def clean_up(runtime: Runtime, caller: Caller, *, days: float) -> dict[str, int]:
    """Remove the states of versions and the run snapshots older than `days` (each
    project's newest version keeps its states: drift is measured against it); audited.
    How many of each."""
    with runtime.database.unit_of_work() as uow:
        versions = uow.versions.drop_states_older_than(days)
        snapshots = uow.snapshots.delete_older_than(days)
        done = {"versions": versions, "snapshots": snapshots}
        record(uow, caller, Act.CLEANUP, entity_type="snapshots", details={"days": days, **done})
        uow.commit()
    return done
