"""What a pack provisioned, recorded as SCD2 versions of recipients and shares."""

from __future__ import annotations

import uuid

from sharepack.engine.plan_pipelines import job_name
from sharepack.spec.models import PipelineSpec, SharePackConfig, ShareSpec
from sharepack.store import SharePackRecord, UnitOfWork
from sharepack.workspace.state import ShareState, WorkspaceState


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
        uow.recipients.upsert(
            workspace_url=pack.workspace_url,
            name=recipient.name,
            share_pack_id=pack.share_pack_id,
            created_by=created_by,
            change_reason=reason,
            databricks_recipient_id=recipient.name,
            recipient_contact_email=recipient.email,
            recipient_type=recipient.type.value,
            recipient_databricks_org=recipient.metastore_id,
            ip_access_list=list(recipient.allowed_ips),
            description=recipient.comment,
        )
    for share in config.shares:
        share_record = uow.shares.upsert(
            workspace_url=pack.workspace_url,
            name=share.name,
            share_pack_id=pack.share_pack_id,
            created_by=created_by,
            change_reason=reason,
            databricks_share_id=share.name,
            description=share.comment,
            **_share_contents(share, live.shares.get(share.name)),
        )
        for pipeline in share.pipelines:
            _record_pipeline(uow, pack, pipeline, share_record.entity_id, live, created_by, reason)


def _share_contents(share: ShareSpec, found: ShareState | None) -> dict[str, list[str]]:
    """The share's objects and grantees as the workspace holds them (as declared, if the
    read found no share)."""
    if found is None:
        return {
            "share_assets": list(share.data_objects),
            "recipients_attached": list(share.recipients),
        }
    return {
        "share_assets": [o.name for o in found.objects],
        "recipients_attached": sorted(found.grantees),
    }


def _record_pipeline(
    uow: UnitOfWork,
    pack: SharePackRecord,
    pipeline: PipelineSpec,
    share_id: uuid.UUID,
    live: WorkspaceState,
    created_by: str,
    reason: str,
) -> None:
    found = live.pipelines.get(pipeline.name)
    job = live.jobs.get(job_name(pipeline.name))
    schedule = pipeline.schedule
    uow.pipelines.upsert(
        workspace_url=pack.workspace_url,
        name=pipeline.name,
        share_pack_id=pack.share_pack_id,
        created_by=created_by,
        change_reason=reason,
        share_id=share_id,
        databricks_pipeline_id=found.pipeline_id if found else None,
        databricks_job_id=str(job.job_id) if job and job.job_id is not None else None,
        source_table=pipeline.source_asset,
        target_table=pipeline.target_asset,
        scd_type=pipeline.scd_type,
        key_columns=list(pipeline.key_columns),
        schedule_type=_schedule_type(pipeline),
        cron_expression=schedule.cron if schedule else None,
        timezone=schedule.timezone if schedule else None,
        serverless=pipeline.serverless,
        tags=dict(pipeline.tags),
        notification_emails=list(pipeline.notification),
    )


def _schedule_type(pipeline: PipelineSpec) -> str:
    if pipeline.schedule is None:
        return "MANUAL"
    return "CONTINUOUS" if pipeline.schedule.continuous else "CRON"


def soft_delete_pack_records(
    uow: UnitOfWork, pack: SharePackRecord, *, created_by: str, reason: str
) -> None:
    """A deleted version of every live record this pack provisioned."""
    for repository in (uow.recipients, uow.shares, uow.pipelines):
        for record in repository.list_for_pack(pack.share_pack_id):
            repository.soft_delete(
                workspace_url=record.workspace_url,
                name=record.name,
                created_by=created_by,
                change_reason=reason[:500],
            )
