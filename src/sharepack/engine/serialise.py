"""JSON forms of actions and workspace states, so a run can be journaled and resumed.

`x_from_dict(x_to_dict(v)) == v` for every value here; the journal and snapshots rely on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sharepack.engine.actions import ActionKind, PlanAction
from sharepack.workspace.state import (
    AuthenticationType,
    DataObjectType,
    HistoryDataSharingStatus,
    Partition,
    PartitionOp,
    PartitionValue,
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    ShareState,
    WorkspaceState,
)

T = TypeVar("T")
U = TypeVar("U")


def recipient_to_dict(recipient: RecipientState) -> dict[str, Any]:
    return {
        "name": recipient.name,
        "authentication_type": recipient.authentication_type.value,
        "comment": recipient.comment,
        "allowed_ips": list(recipient.allowed_ips),
        "metastore_id": recipient.metastore_id,
        "contact_email": recipient.contact_email,
        "properties": dict(recipient.properties),
        "expiration_time": recipient.expiration_time,
        "owner": recipient.owner,
    }


def recipient_from_dict(data: dict[str, Any]) -> RecipientState:
    # Snapshots and journals written before a field was kept load with its default.
    return RecipientState(
        name=data["name"],
        authentication_type=AuthenticationType(data["authentication_type"]),
        comment=data["comment"],
        allowed_ips=tuple(data["allowed_ips"]),
        metastore_id=data["metastore_id"],
        contact_email=data["contact_email"],
        properties=tuple(data.get("properties", {}).items()),
        expiration_time=data.get("expiration_time"),
        owner=data.get("owner"),
    )


def object_to_dict(obj: ShareObjectState) -> dict[str, Any]:
    return {
        "name": obj.name,
        "type": obj.data_object_type.value,
        "shared_as": obj.shared_as,
        "comment": obj.comment,
        "cdf_enabled": obj.cdf_enabled,
        "history_data_sharing_status": _maybe(str, obj.history_data_sharing_status),
        "start_version": obj.start_version,
        "partitions": [[_partition_value_to_dict(v) for v in p.values] for p in obj.partitions],
        "string_shared_as": obj.string_shared_as,
    }


def object_from_dict(data: dict[str, Any]) -> ShareObjectState:
    return ShareObjectState(
        name=data["name"],
        data_object_type=DataObjectType(data["type"]),
        shared_as=data["shared_as"],
        comment=data.get("comment", ""),
        cdf_enabled=data.get("cdf_enabled"),
        history_data_sharing_status=_maybe(
            HistoryDataSharingStatus, data.get("history_data_sharing_status")
        ),
        start_version=data.get("start_version"),
        partitions=tuple(
            Partition(values=tuple(_partition_value_from_dict(v) for v in values))
            for values in data.get("partitions", [])
        ),
        string_shared_as=data.get("string_shared_as"),
    )


def _partition_value_to_dict(value: PartitionValue) -> dict[str, Any]:
    return {
        "name": value.name,
        "op": value.op.value,
        "value": value.value,
        "recipient_property_key": value.recipient_property_key,
    }


def _partition_value_from_dict(data: dict[str, Any]) -> PartitionValue:
    return PartitionValue(
        name=data["name"],
        op=PartitionOp(data["op"]),
        value=data["value"],
        recipient_property_key=data["recipient_property_key"],
    )


def share_to_dict(share: ShareState) -> dict[str, Any]:
    return {
        "name": share.name,
        "comment": share.comment,
        "objects": [object_to_dict(o) for o in share.objects],
        "grantees": sorted(share.grantees),
    }


def share_from_dict(data: dict[str, Any]) -> ShareState:
    return ShareState(
        name=data["name"],
        comment=data["comment"],
        objects=tuple(object_from_dict(o) for o in data["objects"]),
        grantees=frozenset(data["grantees"]),
    )


def pipeline_to_dict(pipeline: PipelineState) -> dict[str, Any]:
    return {
        "name": pipeline.name,
        "source_asset": pipeline.source_asset,
        "target_asset": pipeline.target_asset,
        "scd_type": pipeline.scd_type,
        "key_columns": list(pipeline.key_columns),
        "continuous": pipeline.continuous,
        "serverless": pipeline.serverless,
        "tags": dict(pipeline.tags),
        "notification": list(pipeline.notification),
        "pipeline_id": pipeline.pipeline_id,
        "runs_sharepack_notebook": pipeline.runs_sharepack_notebook,
    }


def pipeline_from_dict(data: dict[str, Any]) -> PipelineState:
    return PipelineState(
        name=data["name"],
        source_asset=data["source_asset"],
        target_asset=data["target_asset"],
        scd_type=data["scd_type"],
        key_columns=tuple(data["key_columns"]),
        continuous=data["continuous"],
        serverless=data["serverless"],
        tags=dict(data["tags"]),
        notification=tuple(data["notification"]),
        pipeline_id=data["pipeline_id"],
        # Journals written before the field was kept hold only sharepack's own pipelines.
        runs_sharepack_notebook=data.get("runs_sharepack_notebook", True),
    )


def job_to_dict(job: ScheduleJobState) -> dict[str, Any]:
    return {
        "name": job.name,
        "pipeline_name": job.pipeline_name,
        "quartz_cron": job.quartz_cron,
        "timezone": job.timezone,
        "job_id": job.job_id,
        "pipeline_id": job.pipeline_id,
    }


def job_from_dict(data: dict[str, Any]) -> ScheduleJobState:
    return ScheduleJobState(**data)


def state_to_dict(state: WorkspaceState) -> dict[str, Any]:
    """The resources of a run's scope as they were: what a snapshot holds."""
    return {
        "recipients": [recipient_to_dict(r) for _, r in sorted(state.recipients.items())],
        "shares": [share_to_dict(s) for _, s in sorted(state.shares.items())],
        "pipelines": [pipeline_to_dict(p) for _, p in sorted(state.pipelines.items())],
        "jobs": [job_to_dict(j) for _, j in sorted(state.jobs.items())],
        "existing_objects": sorted(state.existing_objects),
        "recipient_grants": {r: sorted(s) for r, s in sorted(state.recipient_grants.items())},
    }


def state_from_dict(data: dict[str, Any]) -> WorkspaceState:
    recipients = [recipient_from_dict(r) for r in data["recipients"]]
    shares = [share_from_dict(s) for s in data["shares"]]
    pipelines = [pipeline_from_dict(p) for p in data.get("pipelines", [])]
    jobs = [job_from_dict(j) for j in data.get("jobs", [])]
    return WorkspaceState(
        recipients={r.name: r for r in recipients},
        shares={s.name: s for s in shares},
        pipelines={p.name: p for p in pipelines},
        jobs={j.name: j for j in jobs},
        existing_objects=frozenset(data["existing_objects"]),
        recipient_grants={r: frozenset(s) for r, s in data.get("recipient_grants", {}).items()},
    )


def action_to_dict(action: PlanAction) -> dict[str, Any]:
    return {
        "id": action.action_id,
        "kind": action.kind.value,
        "resource": action.resource,
        "depends_on": list(action.depends_on),
        "recipient": recipient_to_dict(action.recipient) if action.recipient else None,
        "comment": action.comment,
        "add_objects": [object_to_dict(o) for o in action.add_objects],
        "remove_objects": list(action.remove_objects),
        "removed_states": [object_to_dict(o) for o in action.removed_states],
        "add_grantees": list(action.add_grantees),
        "remove_grantees": list(action.remove_grantees),
        "before": recipient_to_dict(action.before) if action.before else None,
        "before_comment": action.before_comment,
        "before_share": _maybe(share_to_dict, action.before_share),
        "pipeline": _maybe(pipeline_to_dict, action.pipeline),
        "before_pipeline": _maybe(pipeline_to_dict, action.before_pipeline),
        "job": _maybe(job_to_dict, action.job),
        "before_job": _maybe(job_to_dict, action.before_job),
        "wait_seconds": action.wait_seconds,
    }


def action_from_dict(data: dict[str, Any]) -> PlanAction:
    return PlanAction(
        action_id=data["id"],
        kind=ActionKind(data["kind"]),
        resource=data["resource"],
        depends_on=tuple(data["depends_on"]),
        recipient=recipient_from_dict(data["recipient"]) if data["recipient"] else None,
        comment=data["comment"],
        add_objects=tuple(object_from_dict(o) for o in data["add_objects"]),
        remove_objects=tuple(data["remove_objects"]),
        removed_states=tuple(object_from_dict(o) for o in data.get("removed_states", [])),
        add_grantees=tuple(data["add_grantees"]),
        remove_grantees=tuple(data["remove_grantees"]),
        before=recipient_from_dict(data["before"]) if data["before"] else None,
        before_comment=data["before_comment"],
        before_share=_maybe(share_from_dict, data.get("before_share")),
        pipeline=_maybe(pipeline_from_dict, data.get("pipeline")),
        before_pipeline=_maybe(pipeline_from_dict, data.get("before_pipeline")),
        job=_maybe(job_from_dict, data.get("job")),
        before_job=_maybe(job_from_dict, data.get("before_job")),
        wait_seconds=float(data.get("wait_seconds", 0.0)),
    )


def _maybe(convert: Callable[[T], U], value: T | None) -> U | None:
    return convert(value) if value is not None else None
