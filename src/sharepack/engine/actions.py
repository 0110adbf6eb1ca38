"""Plan actions: what one step changes, what it depends on, and how to undo it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sharepack.workspace.state import (
    CreationMark,
    PipelineState,
    RecipientState,
    ScheduleJobState,
    ShareObjectState,
    ShareState,
)

#: At most this many object updates in one PATCH of a share.
MAX_OBJECT_UPDATES = 100


class ActionKind(StrEnum):
    CREATE_RECIPIENT = "CREATE_RECIPIENT"
    UPDATE_RECIPIENT = "UPDATE_RECIPIENT"
    DELETE_RECIPIENT = "DELETE_RECIPIENT"
    CREATE_SHARE = "CREATE_SHARE"
    UPDATE_SHARE_COMMENT = "UPDATE_SHARE_COMMENT"
    DELETE_SHARE = "DELETE_SHARE"
    UPDATE_SHARE_OBJECTS = "UPDATE_SHARE_OBJECTS"
    UPDATE_SHARE_GRANTS = "UPDATE_SHARE_GRANTS"
    CREATE_PIPELINE = "CREATE_PIPELINE"
    UPDATE_PIPELINE = "UPDATE_PIPELINE"
    DELETE_PIPELINE = "DELETE_PIPELINE"
    RUN_PIPELINE_UPDATE = "RUN_PIPELINE_UPDATE"
    CREATE_SCHEDULE_JOB = "CREATE_SCHEDULE_JOB"
    UPDATE_SCHEDULE_JOB = "UPDATE_SCHEDULE_JOB"
    DELETE_SCHEDULE_JOB = "DELETE_SCHEDULE_JOB"
    NOTHING = "NOTHING"  # the inverse of an action whose effect goes with another's undo


#: Each deleting kind and the `WorkspaceState` collection the deleted resource leaves.
DELETED_FROM: dict[ActionKind, str] = {
    ActionKind.DELETE_RECIPIENT: "recipients",
    ActionKind.DELETE_SHARE: "shares",
    ActionKind.DELETE_PIPELINE: "pipelines",
    ActionKind.DELETE_SCHEDULE_JOB: "jobs",
}


@dataclass(frozen=True)
class PlanAction:
    """One workspace call. `recipient` carries the desired (or, to undo, the former) state;
    `before` is the recipient as it was before an update or a delete."""

    action_id: str
    kind: ActionKind
    resource: str
    depends_on: tuple[str, ...] = ()
    recipient: RecipientState | None = None
    comment: str = ""
    add_objects: tuple[ShareObjectState, ...] = ()
    remove_objects: tuple[str, ...] = ()
    removed_states: tuple[ShareObjectState, ...] = ()  # what remove_objects were, to undo
    add_grantees: tuple[str, ...] = ()
    remove_grantees: tuple[str, ...] = ()
    before: RecipientState | None = None
    before_comment: str = ""
    before_share: ShareState | None = None  # a deleted share as it was (empty by then)
    pipeline: PipelineState | None = None  # pipelines are addressed by name; ids are looked up
    before_pipeline: PipelineState | None = None
    job: ScheduleJobState | None = None
    before_job: ScheduleJobState | None = None
    wait_seconds: float = 0.0  # how long a pipeline update may take to complete

    def describe(self) -> str:
        """A line a person reads in a plan or a progress display."""
        kind = self.kind
        if kind is ActionKind.UPDATE_SHARE_OBJECTS:
            return (
                f"share {self.resource}: add {len(self.add_objects)} object(s), "
                f"remove {len(self.remove_objects)}"
            )
        if kind is ActionKind.UPDATE_SHARE_GRANTS:
            changes = [f"+{g}" for g in self.add_grantees] + [f"-{g}" for g in self.remove_grantees]
            return f"share {self.resource}: grants {' '.join(changes)}"
        return f"{kind.value.lower().replace('_', ' ')} {self.resource}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.action_id,
            "kind": self.kind.value,
            "resource": self.resource,
            "depends_on": list(self.depends_on),
            "description": self.describe(),
        }


def inverse(action: PlanAction) -> PlanAction | None:
    """The action that undoes `action`, computed from its recorded before-state."""
    kind = action.kind
    undo_id = f"undo:{action.action_id}"
    if kind is ActionKind.CREATE_RECIPIENT:
        return PlanAction(undo_id, ActionKind.DELETE_RECIPIENT, action.resource)
    if kind is ActionKind.UPDATE_RECIPIENT:
        return PlanAction(
            undo_id, ActionKind.UPDATE_RECIPIENT, action.resource, recipient=action.before
        )
    if kind is ActionKind.DELETE_RECIPIENT and action.before is not None:
        # A TOKEN recipient comes back with a new activation link: the old one is gone.
        return PlanAction(
            undo_id, ActionKind.CREATE_RECIPIENT, action.resource, recipient=action.before
        )
    if kind is ActionKind.CREATE_SHARE:
        return PlanAction(undo_id, ActionKind.DELETE_SHARE, action.resource)
    if kind is ActionKind.DELETE_SHARE and action.before_share is not None:
        return PlanAction(
            undo_id, ActionKind.CREATE_SHARE, action.resource, comment=action.before_share.comment
        )
    if kind is ActionKind.UPDATE_SHARE_COMMENT:
        return PlanAction(
            undo_id, ActionKind.UPDATE_SHARE_COMMENT, action.resource, comment=action.before_comment
        )
    if kind is ActionKind.UPDATE_SHARE_OBJECTS:
        known = {o.name: o for o in action.removed_states}
        restored = tuple(known.get(n, ShareObjectState(name=n)) for n in action.remove_objects)
        return PlanAction(
            undo_id,
            ActionKind.UPDATE_SHARE_OBJECTS,
            action.resource,
            add_objects=restored,
            remove_objects=tuple(o.name for o in action.add_objects),
        )
    if kind is ActionKind.CREATE_PIPELINE:
        return PlanAction(undo_id, ActionKind.DELETE_PIPELINE, action.resource)
    if kind is ActionKind.UPDATE_PIPELINE:
        return PlanAction(
            undo_id, ActionKind.UPDATE_PIPELINE, action.resource, pipeline=action.before_pipeline
        )
    if kind is ActionKind.CREATE_SCHEDULE_JOB:
        return PlanAction(undo_id, ActionKind.DELETE_SCHEDULE_JOB, action.resource)
    if kind is ActionKind.UPDATE_SCHEDULE_JOB:
        return PlanAction(
            undo_id, ActionKind.UPDATE_SCHEDULE_JOB, action.resource, job=action.before_job
        )
    if kind is ActionKind.DELETE_SCHEDULE_JOB and action.before_job is not None:
        return PlanAction(
            undo_id, ActionKind.CREATE_SCHEDULE_JOB, action.resource, job=action.before_job
        )
    if kind is ActionKind.RUN_PIPELINE_UPDATE:
        # The table an update produced goes when the pipeline that owns it is deleted.
        return PlanAction(undo_id, ActionKind.NOTHING, action.resource)
    if kind is ActionKind.UPDATE_SHARE_GRANTS:
        return PlanAction(
            undo_id,
            ActionKind.UPDATE_SHARE_GRANTS,
            action.resource,
            add_grantees=action.remove_grantees,
            remove_grantees=action.add_grantees,
        )
    return None


def comparable_pipeline(pipeline: PipelineState) -> PipelineState:
    """A pipeline as the pack declares it: without the id the workspace gave it."""
    return replace(pipeline, pipeline_id=None, tags=dict(pipeline.tags))


def comparable_job(job: ScheduleJobState) -> ScheduleJobState:
    """A job as the pack declares it: without its ids or the mark of the run that made it."""
    return replace(job, job_id=None, pipeline_id=None, created_by=None)


def marked(action: PlanAction, run: str) -> PlanAction:
    """`action`, with the job it creates marked as made by `run` and this action.

    Jobs may share a name, so a create the SDK sent twice makes two: the mark tells which
    jobs of the name this action made, to keep one of them and delete the rest."""
    if action.kind is ActionKind.CREATE_SCHEDULE_JOB and action.job is not None:
        mark = CreationMark(run=run, action=action.action_id)
        return replace(action, job=replace(action.job, created_by=mark))
    return action
