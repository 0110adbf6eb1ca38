"""Plan actions: one frozen type per kind of workspace call, each holding just what its
call needs, the state it replaces (so its inverse is known before it runs), and how to
tell from the workspace that it took effect.

`PlanAction` is the union of them; `kind` (a literal per type) or a `match` on the types
tells them apart. The groups of types other modules ask about are named here, once.
"""

from __future__ import annotations

from dataclasses import replace

from sharepack.engine.actions.base import (
    MAX_OBJECT_UPDATES,
    Action,
    ActionKind,
    Nothing,
    Reads,
    comparable_job,
    comparable_pipeline,
)
from sharepack.engine.actions.pipelines import (
    CreatePipeline,
    CreateScheduleJob,
    DeletePipeline,
    DeleteScheduleJob,
    RunPipelineUpdate,
    UpdatePipeline,
    UpdateScheduleJob,
)
from sharepack.engine.actions.recipients import (
    CreateRecipient,
    DeleteRecipient,
    UpdateRecipient,
    recipient_holds,
)
from sharepack.engine.actions.shares import (
    CreateShare,
    DeleteShare,
    UpdateShareComment,
    UpdateShareGrants,
    UpdateShareObjectOptions,
    UpdateShareObjects,
    options_of,
)
from sharepack.workspace.state import CreationMark

PlanAction = (
    CreateRecipient
    | UpdateRecipient
    | DeleteRecipient
    | CreateShare
    | UpdateShareComment
    | DeleteShare
    | UpdateShareObjects
    | UpdateShareObjectOptions
    | UpdateShareGrants
    | CreatePipeline
    | UpdatePipeline
    | DeletePipeline
    | RunPipelineUpdate
    | CreateScheduleJob
    | UpdateScheduleJob
    | DeleteScheduleJob
    | Nothing
)

#: Every type of action, one per `ActionKind`.
ACTION_TYPES: dict[ActionKind, type[PlanAction]] = {
    t.kind: t
    for t in (
        CreateRecipient,
        UpdateRecipient,
        DeleteRecipient,
        CreateShare,
        UpdateShareComment,
        DeleteShare,
        UpdateShareObjects,
        UpdateShareObjectOptions,
        UpdateShareGrants,
        CreatePipeline,
        UpdatePipeline,
        DeletePipeline,
        RunPipelineUpdate,
        CreateScheduleJob,
        UpdateScheduleJob,
        DeleteScheduleJob,
        Nothing,
    )
}

#: The actions on a recipient; on a share (its comment, objects and grants included).
RECIPIENT_ACTIONS = (CreateRecipient, UpdateRecipient, DeleteRecipient)
SHARE_ACTIONS = (
    CreateShare,
    UpdateShareComment,
    DeleteShare,
    UpdateShareObjects,
    UpdateShareObjectOptions,
    UpdateShareGrants,
)
#: The actions that write a pipeline's definition; every action on a pipeline; every
#: action on a schedule job.
PIPELINE_WRITES = (CreatePipeline, UpdatePipeline)
PIPELINE_ACTIONS = (CreatePipeline, UpdatePipeline, DeletePipeline, RunPipelineUpdate)
JOB_ACTIONS = (CreateScheduleJob, UpdateScheduleJob, DeleteScheduleJob)
#: The actions that create a resource; that delete one ("not found" may mean it is done).
CREATING_ACTIONS = (CreateRecipient, CreateShare, CreatePipeline, CreateScheduleJob)
DELETING_ACTIONS = (DeleteRecipient, DeleteShare, DeletePipeline, DeleteScheduleJob)


def marked(action: PlanAction, run: str) -> PlanAction:
    """`action`, with the job it creates marked as made by `run` and this action.

    Jobs may share a name, so a create the SDK sent twice makes two: the mark tells which
    jobs of the name this action made, to keep one of them and delete the rest."""
    if isinstance(action, CreateScheduleJob):
        mark = CreationMark(run=run, action=action.action_id)
        return replace(action, job=replace(action.job, created_by=mark))
    return action


__all__ = [
    "ACTION_TYPES",
    "CREATING_ACTIONS",
    "DELETING_ACTIONS",
    "JOB_ACTIONS",
    "MAX_OBJECT_UPDATES",
    "PIPELINE_ACTIONS",
    "PIPELINE_WRITES",
    "RECIPIENT_ACTIONS",
    "SHARE_ACTIONS",
    "Action",
    "ActionKind",
    "CreatePipeline",
    "CreateRecipient",
    "CreateScheduleJob",
    "CreateShare",
    "DeletePipeline",
    "DeleteRecipient",
    "DeleteScheduleJob",
    "DeleteShare",
    "Nothing",
    "PlanAction",
    "Reads",
    "RunPipelineUpdate",
    "UpdatePipeline",
    "UpdateRecipient",
    "UpdateScheduleJob",
    "UpdateShareComment",
    "UpdateShareGrants",
    "UpdateShareObjectOptions",
    "UpdateShareObjects",
    "comparable_job",
    "comparable_pipeline",
    "marked",
    "options_of",
    "recipient_holds",
]
