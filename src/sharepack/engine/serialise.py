"""JSON forms of actions and workspace states, so a run can be journaled and resumed; a
plan's display form of an action is a part of its stored one.

`x_from_dict(x_to_dict(v)) == v` for every value here; the journal and snapshots rely on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import Field, asdict, fields
from typing import Any, TypeVar

from sharepack.engine.actions import (
    ACTION_TYPES,
    CREATING_ACTIONS,
    ActionKind,
    DeleteRecipient,
    DeleteScheduleJob,
    PlanAction,
    UpdatePipeline,
    UpdateRecipient,
    UpdateScheduleJob,
    UpdateShareComment,
    UpdateShareGrants,
    UpdateShareObjectOptions,
    UpdateShareObjects,
)
from sharepack.workspace.state import (
    AuthenticationType,
    CreationMark,
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
        "created_by": asdict(job.created_by) if job.created_by else None,
    }


def job_from_dict(data: dict[str, Any]) -> ScheduleJobState:
    # Journals and snapshots written before jobs were marked have no `created_by`.
    mark = data.get("created_by")
    fields = {k: v for k, v in data.items() if k != "created_by"}
    return ScheduleJobState(**fields, created_by=CreationMark(**mark) if mark else None)


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


def _stored_defaults() -> dict[str, Any]:
    """A stored action holds the fields of every kind, in this order, with these values
    where its kind has none: the layout 0.2.0 wrote, so a run it journaled is taken over.
    Fields of kinds added since follow them, in their own action's record only."""
    return {
        "recipient": None,
        "comment": "",
        "add_objects": [],
        "remove_objects": [],
        "removed_states": [],
        "add_grantees": [],
        "remove_grantees": [],
        "before": None,
        "before_comment": "",
        "before_share": None,
        "pipeline": None,
        "before_pipeline": None,
        "job": None,
        "before_job": None,
        "wait_seconds": 0.0,
    }


def _objects_to_list(objects: tuple[ShareObjectState, ...]) -> list[dict[str, Any]]:
    return [object_to_dict(o) for o in objects]


def _objects_from_list(data: list[dict[str, Any]]) -> tuple[ShareObjectState, ...]:
    return tuple(object_from_dict(o) for o in data)


#: How each field of an action is written and read back; the types name a field alike
#: wherever it means the same.
_FIELD_FORMS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "recipient": (recipient_to_dict, recipient_from_dict),
    "before": (recipient_to_dict, recipient_from_dict),
    "comment": (str, str),
    "before_comment": (str, str),
    "add_objects": (_objects_to_list, _objects_from_list),
    "removed_states": (_objects_to_list, _objects_from_list),
    "changed_objects": (_objects_to_list, _objects_from_list),
    "before_objects": (_objects_to_list, _objects_from_list),
    "remove_objects": (list, tuple),
    "add_grantees": (list, tuple),
    "remove_grantees": (list, tuple),
    "before_share": (share_to_dict, share_from_dict),
    "pipeline": (pipeline_to_dict, pipeline_from_dict),
    "before_pipeline": (pipeline_to_dict, pipeline_from_dict),
    "job": (job_to_dict, job_from_dict),
    "before_job": (job_to_dict, job_from_dict),
    "wait_seconds": (float, float),
}


_COMMON_FIELDS = frozenset({"action_id", "resource", "depends_on"})


def _own_fields(action_type: type[PlanAction]) -> list[Field[Any]]:
    """The fields of a kind beyond those every action has."""
    return [f for f in fields(action_type) if f.init and f.name not in _COMMON_FIELDS]


def action_to_dict(action: PlanAction) -> dict[str, Any]:
    """The action as the journal stores it."""
    stored: dict[str, Any] = {
        "id": action.action_id,
        "kind": action.kind.value,
        "resource": action.resource,
        "depends_on": list(action.depends_on),
        **_stored_defaults(),
    }
    for field in _own_fields(type(action)):
        stored[field.name] = _FIELD_FORMS[field.name][0](getattr(action, field.name))
    return stored


def action_from_dict(data: dict[str, Any]) -> PlanAction:
    """The action `action_to_dict` stored, by this version or an earlier one."""
    kind = ActionKind(data["kind"])
    action_type = ACTION_TYPES[kind]
    values: dict[str, Any] = {}
    for field in _own_fields(action_type):
        # Journals written before a field was kept lack it: it reads as its default.
        stored = data.get(field.name, _stored_defaults().get(field.name))
        if stored is not None:
            values[field.name] = _FIELD_FORMS[field.name][1](stored)
        elif field.name == "before_share":
            # A share deleted before its before-state was kept had been emptied first.
            values[field.name] = ShareState(data["resource"])
        else:
            raise ValueError(f"stored action {data['id']!r} ({kind}) has no {field.name}")
    return action_type(data["id"], data["resource"], depends_on=tuple(data["depends_on"]), **values)


def action_summary(action: PlanAction) -> dict[str, Any]:
    """The action as a plan shows it (`sharepack plan --json`): the identifying part of its
    stored form, and its description."""
    stored = action_to_dict(action)
    summary = {key: stored[key] for key in ("id", "kind", "resource", "depends_on")}
    return {**summary, "description": action.describe()}


def before_state_to_dict(action: PlanAction) -> dict[str, Any]:
    """What the action's call replaces, as the journal records it beside the action:
    `exists` False for a create; else the former recipient, comment, pipeline or job, the
    objects it removes (as they were) and the objects or grants it adds (absent before) or
    revokes."""
    state: dict[str, Any] = {
        "resource": action.resource,
        "exists": not isinstance(action, CREATING_ACTIONS),
    }
    match action:
        case UpdateRecipient(before=before) | DeleteRecipient(before=before):
            state["recipient"] = recipient_to_dict(before)
        case UpdateShareComment():
            state["comment"] = action.before_comment
        case UpdateShareObjects():
            state["objects_present"] = [object_to_dict(o) for o in action.removed_states]
            state["objects_absent"] = [o.name for o in action.add_objects]
        case UpdateShareObjectOptions():
            state["objects_present"] = [object_to_dict(o) for o in action.before_objects]
        case UpdateShareGrants():
            state["grantees_present"] = list(action.remove_grantees)
            state["grantees_absent"] = list(action.add_grantees)
        case UpdatePipeline():
            state["pipeline"] = pipeline_to_dict(action.before_pipeline)
        case UpdateScheduleJob(before_job=job) | DeleteScheduleJob(before_job=job):
            state["job"] = job_to_dict(job)
    return state


def _maybe(convert: Callable[[T], U], value: T | None) -> U | None:
    return convert(value) if value is not None else None
