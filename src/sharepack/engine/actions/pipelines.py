"""Actions on a DLT pipeline, its update, and its schedule job. Pipelines are addressed by
name (the workspace's id is looked up at the call); so are jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sharepack.engine.actions.base import (
    Action,
    ActionKind,
    Nothing,
    Reads,
    comparable_job,
    comparable_pipeline,
)
from sharepack.workspace.state import PipelineState, ScheduleJobState, WorkspaceState


@dataclass(frozen=True)
class _PipelineAction(Action):
    def reads(self) -> Reads:
        return {"pipelines": [self.resource]}


@dataclass(frozen=True)
class _WritesPipeline(_PipelineAction):
    pipeline: PipelineState

    def took_effect(self, state: WorkspaceState) -> bool:
        found = state.pipelines.get(self.resource)
        return found is not None and comparable_pipeline(found) == comparable_pipeline(
            self.pipeline
        )


@dataclass(frozen=True)
class CreatePipeline(_WritesPipeline):
    """Create `pipeline`."""

    kind: Literal[ActionKind.CREATE_PIPELINE] = field(
        default=ActionKind.CREATE_PIPELINE, init=False
    )

    def inverse(self) -> DeletePipeline:
        return DeletePipeline(self.undo_id, self.resource)


@dataclass(frozen=True)
class UpdatePipeline(_WritesPipeline):
    """Make the pipeline `pipeline`; it was `before_pipeline`."""

    kind: Literal[ActionKind.UPDATE_PIPELINE] = field(
        default=ActionKind.UPDATE_PIPELINE, init=False
    )
    before_pipeline: PipelineState

    def inverse(self) -> UpdatePipeline:
        return UpdatePipeline(
            self.undo_id,
            self.resource,
            pipeline=self.before_pipeline,
            before_pipeline=self.pipeline,
        )


@dataclass(frozen=True)
class DeletePipeline(_PipelineAction):
    """Delete the pipeline: only ever the undo of its creation (a plan never deletes one,
    which would drop the tables it produced), so nothing is recorded to undo it."""

    kind: Literal[ActionKind.DELETE_PIPELINE] = field(
        default=ActionKind.DELETE_PIPELINE, init=False
    )

    def inverse(self) -> None:
        return None

    def took_effect(self, state: WorkspaceState) -> bool:
        return self.resource not in state.pipelines


@dataclass(frozen=True)
class RunPipelineUpdate(Action):
    """Run an update of `pipeline` and wait up to `wait_seconds` for it to produce its
    target table."""

    kind: Literal[ActionKind.RUN_PIPELINE_UPDATE] = field(
        default=ActionKind.RUN_PIPELINE_UPDATE, init=False
    )
    pipeline: PipelineState
    wait_seconds: float

    def inverse(self) -> Nothing:
        # The table an update produced goes when the pipeline that owns it is deleted.
        return Nothing(self.undo_id, self.resource)

    def reads(self) -> Reads:
        return {"objects": [self.pipeline.target_asset]}

    def took_effect(self, state: WorkspaceState) -> bool:
        return self.pipeline.target_asset in state.existing_objects


@dataclass(frozen=True)
class _JobAction(Action):
    def reads(self) -> Reads:
        return {"jobs": [self.resource]}


@dataclass(frozen=True)
class _WritesJob(_JobAction):
    job: ScheduleJobState

    def holds(self, found: ScheduleJobState | None) -> bool:
        """Is `found` the job this action writes (ids and marks aside)?"""
        return found is not None and comparable_job(found) == comparable_job(self.job)

    def took_effect(self, state: WorkspaceState) -> bool:
        return self.holds(state.jobs.get(self.resource))


@dataclass(frozen=True)
class CreateScheduleJob(_WritesJob):
    """Create `job` (marked with the run and action that create it: see `marked`)."""

    kind: Literal[ActionKind.CREATE_SCHEDULE_JOB] = field(
        default=ActionKind.CREATE_SCHEDULE_JOB, init=False
    )

    def inverse(self) -> DeleteScheduleJob:
        return DeleteScheduleJob(self.undo_id, self.resource, before_job=self.job)


@dataclass(frozen=True)
class UpdateScheduleJob(_WritesJob):
    """Make the job `job`; it was `before_job`."""

    kind: Literal[ActionKind.UPDATE_SCHEDULE_JOB] = field(
        default=ActionKind.UPDATE_SCHEDULE_JOB, init=False
    )
    before_job: ScheduleJobState

    def inverse(self) -> UpdateScheduleJob:
        return UpdateScheduleJob(
            self.undo_id, self.resource, job=self.before_job, before_job=self.job
        )


@dataclass(frozen=True)
class DeleteScheduleJob(_JobAction):
    """Delete the job, which was `before_job`."""

    kind: Literal[ActionKind.DELETE_SCHEDULE_JOB] = field(
        default=ActionKind.DELETE_SCHEDULE_JOB, init=False
    )
    before_job: ScheduleJobState

    def inverse(self) -> CreateScheduleJob:
        return CreateScheduleJob(self.undo_id, self.resource, job=self.before_job)

    def took_effect(self, state: WorkspaceState) -> bool:
        return self.resource not in state.jobs
