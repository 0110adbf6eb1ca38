"""The pipelines part of a plan: DLT pipelines, their first update, their schedule jobs.

A share object that the pack's own pipeline produces may not exist yet: then the plan
creates the pipeline, runs its first update to completion, and only then adds the table.
"""

from __future__ import annotations

from sharepack.engine.actions import (
    CreatePipeline,
    CreateScheduleJob,
    DeleteScheduleJob,
    PlanAction,
    RunPipelineUpdate,
    UpdatePipeline,
    UpdateScheduleJob,
    comparable_job,
    comparable_pipeline,
)
from sharepack.packfile.models import PipelineSpec, ShareSpec
from sharepack.workspace.state import PipelineState, ScheduleJobState, WorkspaceState

JOB_SUFFIX = "_schedule"


def job_name(pipeline_name: str) -> str:
    return f"{pipeline_name}{JOB_SUFFIX}"


def desired_pipeline(spec: PipelineSpec, existing: PipelineState | None = None) -> PipelineState:
    """The pipeline as `spec` declares it; its tags, when the pack leaves them out, as
    `existing` has them. Its other fields are declared whole (omitted: their default)."""
    kept = existing.tags if existing else {}
    tags = dict(spec.tags if spec.tags is not None else kept)
    return PipelineState(
        name=spec.name,
        source_asset=spec.source_asset,
        target_asset=spec.target_asset,
        scd_type=spec.scd_type,
        key_columns=spec.key_columns,
        continuous=bool(spec.schedule and spec.schedule.continuous),
        serverless=spec.serverless,
        tags=tags,
        notification=spec.notification,
    )


def desired_job(spec: PipelineSpec) -> ScheduleJobState | None:
    """The schedule job of a cron-scheduled pipeline; continuous or manual ones have none."""
    schedule = spec.schedule
    if schedule is None or schedule.continuous or not schedule.cron:
        return None
    return ScheduleJobState(
        name=job_name(spec.name),
        pipeline_name=spec.name,
        quartz_cron=schedule.cron,
        timezone=schedule.timezone,
    )


def pipeline_conflicts(spec: PipelineSpec, actual: WorkspaceState) -> list[str]:
    """A pipeline or schedule job of the pack's name that is not sharepack's: changing it
    would replace someone else's code or schedule, so the pack cannot apply."""
    problems: list[str] = []
    pipeline = actual.pipelines.get(spec.name)
    if pipeline is not None and not pipeline.runs_sharepack_notebook:
        problems.append(
            f"Pipeline '{spec.name}' already exists and does not run sharepack's notebook; "
            "sharepack will not replace its code. Rename the pipeline in the pack, or delete "
            "or rename the existing one."
        )
    job = actual.jobs.get(job_name(spec.name))
    pipeline_id = pipeline.pipeline_id if pipeline is not None else None
    if job is not None and (job.pipeline_id is None or job.pipeline_id != pipeline_id):
        problems.append(
            f"Job '{job.name}' already exists and has no pipeline task for pipeline "
            f"'{spec.name}'; sharepack will not reset it. Rename the pipeline in the pack, "
            "or delete or rename the existing job."
        )
    return problems


def pipeline_actions(
    share: ShareSpec, actual: WorkspaceState, wait_seconds: float
) -> tuple[list[PlanAction], dict[str, str]]:
    """The share's pipeline actions, and for each target that must first be produced, the id
    of the action producing it (object additions wait for it)."""
    actions: list[PlanAction] = []
    producers: dict[str, str] = {}
    for spec in share.pipelines:
        existing = actual.pipelines.get(spec.name)
        wanted = desired_pipeline(spec, existing)
        pipeline_action = _pipeline_action(wanted, existing)
        after = (pipeline_action.action_id,) if pipeline_action else ()
        if pipeline_action:
            actions.append(pipeline_action)
        if spec.target_asset not in actual.existing_objects:
            run = RunPipelineUpdate(
                f"run-pipeline:{spec.name}",
                spec.name,
                depends_on=after,
                pipeline=wanted,
                wait_seconds=wait_seconds,
            )
            actions.append(run)
            producers[spec.target_asset] = run.action_id
        job = desired_job(spec)
        existing_job = actual.jobs.get(job_name(spec.name))
        if job is not None:
            job_action = _job_action(job, existing_job, after)
            if job_action:
                actions.append(job_action)
        elif existing_job is not None:
            # Continuous now, or triggered by hand: its cron job would still trigger it.
            actions.append(
                DeleteScheduleJob(
                    f"delete-job:{existing_job.name}",
                    existing_job.name,
                    depends_on=after,
                    before_job=existing_job,
                )
            )
    return actions, producers


def _pipeline_action(
    wanted: PipelineState, existing: PipelineState | None
) -> CreatePipeline | UpdatePipeline | None:
    if existing is None:
        return CreatePipeline(f"create-pipeline:{wanted.name}", wanted.name, pipeline=wanted)
    if comparable_pipeline(existing) == wanted:
        return None
    return UpdatePipeline(
        f"update-pipeline:{wanted.name}",
        wanted.name,
        pipeline=wanted,
        before_pipeline=existing,
    )


def _job_action(
    wanted: ScheduleJobState, existing: ScheduleJobState | None, after: tuple[str, ...]
) -> CreateScheduleJob | UpdateScheduleJob | None:
    if existing is None:
        return CreateScheduleJob(
            f"create-job:{wanted.name}",
            wanted.name,
            depends_on=after,
            job=wanted,
        )
    if comparable_job(existing) == wanted:
        return None
    return UpdateScheduleJob(
        f"update-job:{wanted.name}",
        wanted.name,
        depends_on=after,
        job=wanted,
        before_job=existing,
    )
