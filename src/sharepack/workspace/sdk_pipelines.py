"""DLT pipelines running sharepack's generic notebook, and their schedule jobs, via the SDK."""

from __future__ import annotations

import base64
import hashlib
import time
from contextlib import suppress
from dataclasses import replace
from importlib.resources import files

from databricks.sdk import WorkspaceClient
from databricks.sdk import errors as sdk_errors
from databricks.sdk.service import jobs, pipelines, workspace

from sharepack.workspace.errors import (
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
    WorkspaceError,
)
from sharepack.workspace.sdk_errors import translated_errors
from sharepack.workspace.state import CreationMark, PipelineState, ScheduleJobState

NOTEBOOK_PATH = "/Shared/sharepack/sharepack_cdc"
SOURCE_KEY = "sharepack.source_asset"
TARGET_KEY = "sharepack.target_asset"
SCD_KEY = "sharepack.scd_type"
KEYS_KEY = "sharepack.key_columns"
_FINAL_UPDATE_STATES = {"COMPLETED", "FAILED", "CANCELED"}
PIPELINE_TAG = "sharepack.pipeline"
#: The tags marking a job with the run, and the action of it, that created it.
RUN_TAG = "sharepack_run"
ACTION_TAG = "sharepack_action"
MAX_TAG_VALUE = 256


def notebook_source() -> str:
    return files("sharepack.workspace").joinpath("notebooks/sharepack_cdc.py").read_text("utf-8")


def import_notebook(client: WorkspaceClient, path: str = NOTEBOOK_PATH) -> None:
    """Put the generic pipeline notebook in the workspace (idempotent: overwrites)."""
    content = base64.b64encode(notebook_source().encode("utf-8")).decode("ascii")
    with translated_errors(f"Importing the pipeline notebook to '{path}'"):
        client.workspace.mkdirs(path.rsplit("/", 1)[0])
        client.workspace.import_(
            path,
            content=content,
            format=workspace.ImportFormat.SOURCE,
            language=workspace.Language.PYTHON,
            overwrite=True,
        )


def _pipeline_fields(pipeline: PipelineState) -> dict[str, object]:
    catalog, schema, _table = pipeline.target_asset.split(".", 2)
    notifications = (
        [
            pipelines.Notifications(
                email_recipients=list(pipeline.notification),
                alerts=["on-update-failure", "on-update-fatal-failure", "on-flow-failure"],
            )
        ]
        if pipeline.notification
        else None
    )
    return {
        "name": pipeline.name,
        "catalog": catalog,
        "schema": schema,
        "continuous": pipeline.continuous,
        "serverless": pipeline.serverless,
        "tags": dict(pipeline.tags) or None,
        "notifications": notifications,
        "libraries": [
            pipelines.PipelineLibrary(notebook=pipelines.NotebookLibrary(path=NOTEBOOK_PATH))
        ],
        "configuration": {
            SOURCE_KEY: pipeline.source_asset,
            TARGET_KEY: pipeline.target_asset,
            SCD_KEY: pipeline.scd_type,
            KEYS_KEY: ",".join(pipeline.key_columns),
        },
    }


def find_pipeline_id(client: WorkspaceClient, name: str) -> str | None:
    with translated_errors(f"Listing pipelines to find '{name}'"):
        for info in client.pipelines.list_pipelines(max_results=100):
            if info.name == name and info.pipeline_id:
                return info.pipeline_id
    return None


def read_pipeline(client: WorkspaceClient, name: str) -> PipelineState | None:
    pipeline_id = find_pipeline_id(client, name)
    if pipeline_id is None:
        return None
    try:
        with translated_errors(f"Reading pipeline '{name}'"):
            response = client.pipelines.get(pipeline_id)
    except ResourceNotFoundError:
        return None
    spec = response.spec or pipelines.PipelineSpec()
    config = spec.configuration or {}
    emails = [e for n in spec.notifications or () for e in n.email_recipients or ()]
    return PipelineState(
        name=name,
        source_asset=config.get(SOURCE_KEY, ""),
        target_asset=config.get(TARGET_KEY, ""),
        scd_type=config.get(SCD_KEY, "2"),
        key_columns=tuple(k for k in config.get(KEYS_KEY, "").split(",") if k),
        continuous=bool(spec.continuous),
        serverless=bool(spec.serverless),
        tags=dict(spec.tags or {}),
        notification=tuple(emails),
        pipeline_id=pipeline_id,
        runs_sharepack_notebook=runs_sharepack_notebook(spec),
    )


def runs_sharepack_notebook(spec: pipelines.PipelineSpec) -> bool:
    """Whether the pipeline is sharepack's: its one library is the generic notebook."""
    paths = [lib.notebook.path if lib.notebook else None for lib in spec.libraries or ()]
    return paths == [NOTEBOOK_PATH]


def create_pipeline(client: WorkspaceClient, pipeline: PipelineState) -> PipelineState:
    """Create the pipeline. A workspace refuses a second pipeline of a name (sharepack never
    sets `allow_duplicate_names`), so a create the SDK resent after it took effect meets
    its own pipeline. No public source gives that refusal's code: any refusal (4xx) with a
    pipeline of the name there is `ResourceAlreadyExistsError`, which the engine adopts
    when the pipeline is as wanted."""
    with translated_errors(f"Creating pipeline '{pipeline.name}'"):
        try:
            response = client.pipelines.create(**_pipeline_fields(pipeline))  # type: ignore[arg-type]
        except (sdk_errors.BadRequest, sdk_errors.ResourceConflict) as refused:
            if find_pipeline_id(client, pipeline.name) is None:
                raise
            raise ResourceAlreadyExistsError(
                f"Creating pipeline '{pipeline.name}': {refused}; a pipeline of that name exists"
            ) from refused
    if not response.pipeline_id:
        raise WorkspaceError(f"Creating pipeline '{pipeline.name}': no pipeline id returned")
    return replace(pipeline, pipeline_id=response.pipeline_id)


def update_pipeline(client: WorkspaceClient, pipeline: PipelineState) -> PipelineState:
    pipeline_id = pipeline.pipeline_id or find_pipeline_id(client, pipeline.name)
    if pipeline_id is None:
        raise ResourceNotFoundError(f"Updating pipeline '{pipeline.name}': it does not exist")
    with translated_errors(f"Updating pipeline '{pipeline.name}'"):
        client.pipelines.update(pipeline_id, **_pipeline_fields(pipeline))  # type: ignore[arg-type]
    return replace(pipeline, pipeline_id=pipeline_id)


def delete_pipeline(client: WorkspaceClient, pipeline_id: str) -> None:
    with translated_errors(f"Deleting pipeline {pipeline_id}"):
        client.pipelines.delete(pipeline_id)


def run_pipeline_update(
    client: WorkspaceClient,
    pipeline_id: str,
    timeout_seconds: float,
    *,
    continuous: bool = False,
    produces: str | None = None,
) -> None:
    """Start an update and poll it. A triggered update must end COMPLETED. A continuous
    one never ends: it is done once RUNNING with the table it `produces` in the catalog."""
    update_id = _start_or_join_update(client, pipeline_id)
    if not update_id:
        raise WorkspaceError(f"Starting an update of pipeline {pipeline_id}: no update id")
    deadline = time.monotonic() + timeout_seconds
    pause = 0.1
    while True:
        with translated_errors(f"Reading update {update_id} of pipeline {pipeline_id}"):
            update = client.pipelines.get_update(pipeline_id, update_id).update
        state = update.state.value if update and update.state else "QUEUED"
        if state == "COMPLETED":
            return
        if continuous and state == "RUNNING" and _table_exists(client, produces):
            return
        if state in _FINAL_UPDATE_STATES:
            raise WorkspaceError(f"Update {update_id} of pipeline {pipeline_id} ended {state}")
        if time.monotonic() + pause > deadline:
            raise WorkspaceError(
                f"Update {update_id} of pipeline {pipeline_id} did not complete within "
                f"{timeout_seconds:g} s (last state {state})"
            )
        time.sleep(pause)
        pause = min(pause * 2, 5.0)


def _start_or_join_update(client: WorkspaceClient, pipeline_id: str) -> str | None:
    """A new update's id; or, when the workspace refuses a second update while one is
    active (a run taken over after it had started one), the active update's id."""
    with translated_errors(f"Starting an update of pipeline {pipeline_id}"):
        try:
            return client.pipelines.start_update(pipeline_id).update_id
        except sdk_errors.ResourceConflict:
            updates = client.pipelines.list_updates(pipeline_id).updates or []
            for update in updates:  # newest first
                state = update.state.value if update.state else "QUEUED"
                if state not in _FINAL_UPDATE_STATES:
                    return update.update_id
            raise


def _table_exists(client: WorkspaceClient, full_name: str | None) -> bool:
    if full_name is None:
        return True
    with translated_errors(f"Looking up table {full_name}"):
        return bool(client.tables.exists(full_name).table_exists)


def _job_settings(job: ScheduleJobState, pipeline_id: str) -> dict[str, object]:
    return {
        "name": job.name,
        "tasks": [
            jobs.Task(
                task_key="refresh_pipeline",
                pipeline_task=jobs.PipelineTask(pipeline_id=pipeline_id),
            )
        ],
        "schedule": jobs.CronSchedule(
            quartz_cron_expression=job.quartz_cron,
            timezone_id=job.timezone,
            pause_status=jobs.PauseStatus.UNPAUSED,
        ),
        "tags": {PIPELINE_TAG: job.pipeline_name, **mark_tags(job.created_by)},
    }


def mark_tags(mark: CreationMark | None) -> dict[str, str]:
    """The job tags that carry `mark` (none for None), each within a tag's length."""
    if mark is None:
        return {}
    return {RUN_TAG: _tag_value(mark.run), ACTION_TAG: _tag_value(mark.action)}


def _tag_value(value: str) -> str:
    """`value` within a cloud tag's 256 characters (job tags become cluster tags): a long
    one keeps its start and a digest of the whole, so it still names one action."""
    if len(value) <= MAX_TAG_VALUE:
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
    return f"{value[: MAX_TAG_VALUE - len(digest) - 1]}~{digest}"


def _job_state(base: jobs.BaseJob) -> ScheduleJobState | None:
    settings = base.settings
    if settings is None or settings.name is None or base.job_id is None:
        return None
    task = next((t for t in settings.tasks or () if t.pipeline_task), None)
    schedule = settings.schedule
    tags = settings.tags or {}
    run, action = tags.get(RUN_TAG), tags.get(ACTION_TAG)
    return ScheduleJobState(
        name=settings.name,
        pipeline_name=tags.get(PIPELINE_TAG, ""),
        quartz_cron=schedule.quartz_cron_expression if schedule else "",
        timezone=schedule.timezone_id if schedule else "UTC",
        job_id=base.job_id,
        pipeline_id=task.pipeline_task.pipeline_id if task and task.pipeline_task else None,
        created_by=CreationMark(run, action) if run and action else None,
    )


def _jobs_named(client: WorkspaceClient, name: str) -> list[ScheduleJobState]:
    """Every job called exactly `name` (the list's filter ignores case), newest first."""
    with translated_errors(f"Listing jobs to find '{name}'"):
        found = [_job_state(base) for base in client.jobs.list(name=name, expand_tasks=True)]
    return [job for job in found if job is not None and job.name == name]


def read_schedule_job(client: WorkspaceClient, name: str) -> ScheduleJobState | None:
    return next(iter(_jobs_named(client, name)), None)


def create_schedule_job(client: WorkspaceClient, job: ScheduleJobState) -> ScheduleJobState:
    """Create the job; one marked `created_by` ends up there once.

    The SDK resends a create after a 503 or a reset, and jobs may share a name: a create
    that took effect before its answer was lost leaves a second job. So the jobs of the
    name carrying the mark are listed afterwards and all but one deleted. A create that
    fails is still reconciled (it may have taken effect), then fails: the engine undoes
    it, as any failed call that took effect.
    """
    pipeline_id = _job_pipeline_id(client, job)
    try:
        with translated_errors(f"Creating schedule job '{job.name}'"):
            response = client.jobs.create(**_job_settings(job, pipeline_id))  # type: ignore[arg-type]
    except WorkspaceError:
        with suppress(WorkspaceError):  # the create's own error says more
            reconcile_schedule_job(client, job)
        raise
    reconcile_schedule_job(client, job, keep=response.job_id)
    return replace(job, job_id=response.job_id, pipeline_id=pipeline_id)


def reconcile_schedule_job(
    client: WorkspaceClient, job: ScheduleJobState, *, keep: int | None = None
) -> ScheduleJobState | None:
    """The job called `job.name` carrying `job.created_by`'s mark, the others with that mark
    deleted: the one with id `keep` if listed, else the oldest. None if there is none."""
    if job.created_by is None:
        return None
    wanted = mark_tags(job.created_by)
    ours = [j for j in _jobs_named(client, job.name) if mark_tags(j.created_by) == wanted]
    if not ours:
        return None
    kept = next((j for j in ours if j.job_id == keep), min(ours, key=lambda j: j.job_id or 0))
    for duplicate in ours:
        if duplicate is not kept and duplicate.job_id is not None:
            # Gone already is as good: a delete the SDK resent, or another reconciler.
            with suppress(ResourceNotFoundError):
                delete_schedule_job(client, duplicate.job_id)
    return kept


def update_schedule_job(client: WorkspaceClient, job: ScheduleJobState) -> ScheduleJobState:
    """Reset the job's settings; the mark of the run that created it is kept."""
    existing = job if job.job_id is not None else read_schedule_job(client, job.name)
    if existing is None or existing.job_id is None:
        raise ResourceNotFoundError(f"Updating schedule job '{job.name}': it does not exist")
    job = replace(job, created_by=job.created_by or existing.created_by)
    pipeline_id = _job_pipeline_id(client, job)
    settings = jobs.JobSettings(**_job_settings(job, pipeline_id))  # type: ignore[arg-type]
    with translated_errors(f"Updating schedule job '{job.name}'"):
        client.jobs.reset(existing.job_id, new_settings=settings)
    return replace(job, job_id=existing.job_id, pipeline_id=pipeline_id)


def _job_pipeline_id(client: WorkspaceClient, job: ScheduleJobState) -> str:
    pipeline_id = job.pipeline_id or find_pipeline_id(client, job.pipeline_name)
    if pipeline_id is None:
        raise ResourceNotFoundError(
            f"Schedule job '{job.name}': pipeline '{job.pipeline_name}' does not exist"
        )
    return pipeline_id


def delete_schedule_job(client: WorkspaceClient, job_id: int) -> None:
    with translated_errors(f"Deleting schedule job {job_id}"):
        client.jobs.delete(job_id)
