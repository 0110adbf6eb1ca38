"""What every action has, the kinds of action, and the no-op an undo may be."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal

from sharepack.workspace.state import PipelineState, ScheduleJobState, WorkspaceState

#: At most this many object updates in one PATCH of a share.
MAX_OBJECT_UPDATES = 100

#: The `Workspace.read_state` arguments that show whether an action took effect.
Reads = dict[str, list[str]]


class ActionKind(StrEnum):
    CREATE_RECIPIENT = "CREATE_RECIPIENT"
    UPDATE_RECIPIENT = "UPDATE_RECIPIENT"
    DELETE_RECIPIENT = "DELETE_RECIPIENT"
    CREATE_SHARE = "CREATE_SHARE"
    UPDATE_SHARE_COMMENT = "UPDATE_SHARE_COMMENT"
    DELETE_SHARE = "DELETE_SHARE"
    UPDATE_SHARE_OBJECTS = "UPDATE_SHARE_OBJECTS"
    UPDATE_SHARE_GRANTS = "UPDATE_SHARE_GRANTS"
    UPDATE_SHARE_OBJECT_OPTIONS = "UPDATE_SHARE_OBJECT_OPTIONS"
    CREATE_PIPELINE = "CREATE_PIPELINE"
    UPDATE_PIPELINE = "UPDATE_PIPELINE"
    DELETE_PIPELINE = "DELETE_PIPELINE"
    RUN_PIPELINE_UPDATE = "RUN_PIPELINE_UPDATE"
    CREATE_SCHEDULE_JOB = "CREATE_SCHEDULE_JOB"
    UPDATE_SCHEDULE_JOB = "UPDATE_SCHEDULE_JOB"
    DELETE_SCHEDULE_JOB = "DELETE_SCHEDULE_JOB"
    NOTHING = "NOTHING"  # the inverse of an action whose effect goes with another's undo


@dataclass(frozen=True)
class Action:
    """One workspace call: its id in the plan, the resource it is made on, and the ids of
    the actions it waits for. Each kind is a subclass holding just what its call needs."""

    action_id: str
    resource: str
    depends_on: tuple[str, ...] = field(default=(), kw_only=True)

    @property
    def kind(self) -> ActionKind:
        """Each kind's class holds its own, as a field typed by its one value."""
        raise NotImplementedError

    def describe(self) -> str:
        """A line a person reads in a plan or a progress display."""
        return f"{self.kind.value.lower().replace('_', ' ')} {self.resource}"

    @property
    def undo_id(self) -> str:
        """The id of the calls that undo this action."""
        return f"undo:{self.action_id}"


@dataclass(frozen=True)
class Nothing(Action):
    """No call: the undo of an action whose effect goes with another's undo."""

    kind: Literal[ActionKind.NOTHING] = field(default=ActionKind.NOTHING, init=False)

    def inverse(self) -> None:
        return None

    def reads(self) -> Reads:
        return {}

    def took_effect(self, state: WorkspaceState) -> bool:
        return True


def comparable_pipeline(pipeline: PipelineState) -> PipelineState:
    """A pipeline as the pack declares it: without the id the workspace gave it."""
    return replace(pipeline, pipeline_id=None, tags=dict(pipeline.tags))


def comparable_job(job: ScheduleJobState) -> ScheduleJobState:
    """A job as the pack declares it: without its ids or the mark of the run that made it."""
    return replace(job, job_id=None, pipeline_id=None, created_by=None)
