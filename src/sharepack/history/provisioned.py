"""What a pack provisioned, recorded as SCD2 versions of recipients, shares and pipelines.

A version is written as each action of a run is DONE, so the history shows what existed
while a run that later fails was under way (who could read what, and when). A run that
completes then records the workspace as it holds the pack; one that is rolled back gets
`Rollback:` versions (`service.rollback_history`). Every version carries the id the
pack's workspace answered with beside its URL.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, assert_never

from sharepack.engine.actions import (
    CreatePipeline,
    CreateRecipient,
    CreateScheduleJob,
    CreateShare,
    DeletePipeline,
    DeleteRecipient,
    DeleteScheduleJob,
    DeleteShare,
    Nothing,
    PlanAction,
    RunPipelineUpdate,
    UpdatePipeline,
    UpdateRecipient,
    UpdateScheduleJob,
    UpdateShareComment,
    UpdateShareGrants,
    UpdateShareObjectOptions,
    UpdateShareObjects,
)
from sharepack.engine.desired import desired_comment, desired_recipient
from sharepack.engine.plan_pipelines import JOB_SUFFIX, desired_pipeline, job_name
from sharepack.packfile.models import PipelineSpec, SharePackConfig, ShareSpec
from sharepack.store import Database, SharePackRecord, UnitOfWork
from sharepack.workspace.state import (
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareState,
    WorkspaceState,
)

#: The actions whose effect on a share its history records.
_ShareChange = (
    CreateShare
    | UpdateShareComment
    | UpdateShareObjects
    | UpdateShareObjectOptions
    | UpdateShareGrants
)


def record_provisioned(
    uow: UnitOfWork,
    pack: SharePackRecord,
    config: SharePackConfig,
    live: WorkspaceState,
    *,
    created_by: str,
) -> None:
    """Upsert a version of every recipient, share and pipeline the pack declares. `live` is
    the workspace after the run: the ids Databricks assigned to pipelines and jobs, and each
    share's objects and grantees as it holds them, which under UPDATE without prune include
    those the pack no longer lists (who could read what must not lose them)."""
    reason = f"Provisioned by {pack.share_pack_name}"
    for recipient in config.recipients:
        name = recipient.name
        uow.recipients.upsert(
            workspace_url=pack.workspace_url,
            workspace_id=pack.workspace_id,
            name=name,
            share_pack_id=pack.share_pack_id,
            created_by=created_by,
            change_reason=reason,
            **recipient_state_fields(desired_recipient(recipient, live.recipients.get(name))),
        )
    for share in config.shares:
        found = live.shares.get(share.name)
        share_record = uow.shares.upsert(
            workspace_url=pack.workspace_url,
            workspace_id=pack.workspace_id,
            name=share.name,
            share_pack_id=pack.share_pack_id,
            created_by=created_by,
            change_reason=reason,
            databricks_share_id=share.name,
            description=desired_comment(share.comment, found.comment if found else None),
            **_share_contents(share, found),
        )
        for pipeline in share.pipelines:
            uow.pipelines.upsert(
                workspace_url=pack.workspace_url,
                workspace_id=pack.workspace_id,
                name=pipeline.name,
                share_pack_id=pack.share_pack_id,
                created_by=created_by,
                change_reason=reason,
                **_pipeline_fields(
                    pipeline,
                    share_record.entity_id,
                    live.pipelines.get(pipeline.name),
                    live.jobs.get(job_name(pipeline.name)),
                ),
            )


class ActionTracker:
    """Writes, in a short transaction of its own, the version of the record each DONE
    action changed: the recipient as the pack declares it, the share as the action left
    it, the pipeline as the pack declares it. Safe to call from apply's threads."""

    def __init__(
        self,
        database: Database,
        pack: SharePackRecord,
        config: SharePackConfig,
        before: WorkspaceState,
        *,
        created_by: str,
    ) -> None:
        self._database = database
        self._pack = pack
        self._config = config
        self._before = before
        self._created_by = created_by
        # A share's version is its last one plus the action's change: one writer at a time.
        self._lock = threading.Lock()

    def done(self, action: PlanAction) -> None:
        with self._lock, self._database.unit_of_work() as uow:
            track_action(
                uow, self._pack, self._config, self._before, action, created_by=self._created_by
            )
            uow.commit()


def track_action(
    uow: UnitOfWork,
    pack: SharePackRecord,
    config: SharePackConfig,
    before: WorkspaceState,
    action: PlanAction,
    *,
    created_by: str,
) -> None:
    """Upsert the version of the record `action` changed (nothing for other actions).
    Writing it twice changes nothing, so a run taken over may track its actions again."""
    reason = f"Provisioning {pack.share_pack_name}: {action.describe()}"[:500]
    common: dict[str, Any] = {
        "workspace_url": pack.workspace_url,
        "workspace_id": pack.workspace_id,
        "share_pack_id": pack.share_pack_id,
        "created_by": created_by,
        "change_reason": reason,
    }
    match action:
        case DeleteRecipient() | DeleteShare():
            # A resource of the project the pack no longer names (`prune`): its record ends.
            repository = uow.recipients if isinstance(action, DeleteRecipient) else uow.shares
            repository.soft_delete(name=action.resource, **common)
        case CreateRecipient() | UpdateRecipient():
            spec = next((r for r in config.recipients if r.name == action.resource), None)
            if spec is not None:
                declared = desired_recipient(spec, before.recipients.get(spec.name))
                uow.recipients.upsert(name=spec.name, **common, **recipient_state_fields(declared))
        case (
            CreateShare()
            | UpdateShareComment()
            | UpdateShareObjects()
            | UpdateShareObjectOptions()
            | UpdateShareGrants()
        ):
            if _is_the_packs_share(config, before, action.resource):
                fields = _share_after(uow, pack, before, action)
                uow.shares.upsert(name=action.resource, **common, **fields)
        case CreatePipeline() | UpdatePipeline():
            job = before.jobs.get(job_name(action.resource))
            _track_pipeline(uow, pack, config, before, action.resource, job, common)
        case CreateScheduleJob() | UpdateScheduleJob() | DeleteScheduleJob():
            name = action.resource[: -len(JOB_SUFFIX)]
            job = None if isinstance(action, DeleteScheduleJob) else before.jobs.get(job_name(name))
            _track_pipeline(uow, pack, config, before, name, job, common)
        case DeletePipeline() | RunPipelineUpdate() | Nothing():
            pass  # no record holds what these change
        case _:
            assert_never(action)


def _track_pipeline(
    uow: UnitOfWork,
    pack: SharePackRecord,
    config: SharePackConfig,
    before: WorkspaceState,
    name: str,
    job: ScheduleJobState | None,
    common: dict[str, Any],
) -> None:
    """Upsert the version of the pack's pipeline `name` (nothing for another's)."""
    found = _pipeline_spec(config, name)
    if found is None:
        return
    share, pipeline = found
    share_record = uow.shares.get_current(pack.workspace_url, share.name)
    fields = _pipeline_fields(
        pipeline, share_record.entity_id if share_record else None, before.pipelines.get(name), job
    )
    uow.pipelines.upsert(name=name, **common, **fields)


def _is_the_packs_share(config: SharePackConfig, before: WorkspaceState, name: str) -> bool:
    """A share the pack names, or one of its project's that it prunes (both were read before
    the run). A share of someone else's that only loses a pruned recipient's grant keeps
    its own record: the recipient's deleted version already says it can no longer read."""
    return any(s.name == name for s in config.shares) or name in before.shares


def _share_after(
    uow: UnitOfWork, pack: SharePackRecord, before: WorkspaceState, action: _ShareChange
) -> dict[str, Any]:
    """The share as `action` left it: this run's last version of it (else the share as it
    was before the run), with the action's comment, objects or grants applied."""
    current = uow.shares.get_current(pack.workspace_url, action.resource)
    if current is not None and current.share_pack_id == pack.share_pack_id:
        description = current.fields.get("description") or ""
        assets = list(current.fields.get("share_assets") or [])
        grantees = set(current.fields.get("recipients_attached") or [])
    else:
        was = before.shares.get(action.resource)
        description = was.comment if was else ""
        assets = [o.name for o in was.objects] if was else []
        grantees = set(was.grantees) if was else set()
    match action:
        case CreateShare() | UpdateShareComment():
            description = action.comment
        case UpdateShareObjects():
            removed = set(action.remove_objects)
            assets = [name for name in assets if name not in removed]
            assets += [o.name for o in action.add_objects if o.name not in assets]
        case UpdateShareGrants():
            grantees = (grantees - set(action.remove_grantees)) | set(action.add_grantees)
        case UpdateShareObjectOptions():
            pass  # the objects' options are the workspace's to keep; their names stay
        case _:
            assert_never(action)
    return {
        "databricks_share_id": action.resource,
        "description": description,
        "share_assets": assets,
        "recipients_attached": sorted(grantees),
    }


def _pipeline_spec(config: SharePackConfig, name: str) -> tuple[ShareSpec, PipelineSpec] | None:
    for share in config.shares:
        for pipeline in share.pipelines:
            if pipeline.name == name:
                return share, pipeline
    return None


def recipient_state_fields(recipient: RecipientState) -> dict[str, Any]:
    """A recipient record's fields as the workspace holds the recipient."""
    return {
        "databricks_recipient_id": recipient.name,
        "recipient_contact_email": recipient.contact_email,
        "recipient_type": "D2O" if recipient.authentication_type.value == "TOKEN" else "D2D",
        "recipient_databricks_org": recipient.metastore_id,
        "ip_access_list": list(recipient.allowed_ips),
        "description": recipient.comment,
    }


def share_state_fields(share: ShareState) -> dict[str, Any]:
    """A share record's fields as the workspace holds the share."""
    return {
        "databricks_share_id": share.name,
        "description": share.comment,
        "share_assets": [o.name for o in share.objects],
        "recipients_attached": sorted(share.grantees),
    }


def _share_contents(share: ShareSpec, found: ShareState | None) -> dict[str, list[str]]:
    """The share's objects and grantees as the workspace holds them (as declared, if the
    read found no share)."""
    if found is None:
        return {
            "share_assets": list(share.object_names),
            "recipients_attached": list(share.recipients),
        }
    return {
        "share_assets": [o.name for o in found.objects],
        "recipients_attached": sorted(found.grantees),
    }


def _pipeline_fields(
    pipeline: PipelineSpec,
    share_id: uuid.UUID | None,
    found: PipelineState | None,
    job: ScheduleJobState | None,
) -> dict[str, Any]:
    schedule = pipeline.schedule
    return {
        "share_id": share_id,
        "databricks_pipeline_id": found.pipeline_id if found else None,
        "databricks_job_id": str(job.job_id) if job and job.job_id is not None else None,
        "source_table": pipeline.source_asset,
        "target_table": pipeline.target_asset,
        "scd_type": pipeline.scd_type,
        "key_columns": list(pipeline.key_columns),
        "schedule_type": _schedule_type(pipeline),
        "cron_expression": schedule.cron if schedule else None,
        "timezone": schedule.timezone if schedule else None,
        "serverless": pipeline.serverless,
        "tags": dict(desired_pipeline(pipeline, found).tags),
        "notification_emails": list(pipeline.notification),
    }


def _schedule_type(pipeline: PipelineSpec) -> str:
    if pipeline.schedule is None:
        return "MANUAL"
    return "CONTINUOUS" if pipeline.schedule.continuous else "CRON"
